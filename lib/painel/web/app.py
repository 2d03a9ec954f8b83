"""``painel serve``: standalone Voilà, hardened.

What changes relative to plain ``voila notebooks/dashboards``:

- login: :class:`~painel.web.auth.PainelIdentityProvider` (users, argon2, server-side
  sessions, signed httponly SameSite cookie, XSRF-protected forms); every Jupyter route
  needs a session; only the login page and static assets are public;
- identity into kernels: the server-set ``X-Painel-User`` header (``http_header_envs``);
- per-dashboard roles checked before any kernel is handed out; kernels owned by the user
  and session that opened them, capped per user, culled when idle, shut down at logout;
- limits (README "Serving in production"): the size of a websocket message from the
  browser, each kernel's memory (a watchdog ends a kernel over it), an access watchdog that
  ends the kernels of ended or expired sessions and disabled or removed users, and an
  allowlist of the server's environment variables a kernel may see;
- Voilà's unauthenticated request-info websocket requires a per-server kernel token;
- the directory listing and contents API are replaced by painel's landing page;
- unsafe settings in ``voila.json`` (tracebacks, sources, template overrides, a file
  allowlist reaching data or code) stop the server at start-up.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from jupyter_server.services.kernels.handlers import KernelHandler
from jupyter_server.utils import url_path_join
from tornado import web
from traitlets import Bool, Float, Integer, List, Unicode
from traitlets.config import Config
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.tornado.contentshandler import VoilaContentsHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from .. import service
from ..auth import Sessions, Users
from ..config import HOME_ENV, PROJECT_ENV, ConfigError, Paths
from ..opstate import OpState
from ..wire import (
    KERNEL_TOKEN_ENV,
    LAB_ENV,
    RENDER_TIMEOUT_ENV,
    SCRATCH_STORE_ENV,
    TEST_USER_ENV,
    USER_HEADER,
)
from .auth import PainelAuthorizer, PainelIdentityProvider
from .catalog import Catalog
from .handlers import (
    DashboardHandler,
    HealthHandler,
    KernelsHandler,
    LabExtensionsHandler,
    LandingHandler,
    MeHandler,
    NoStoreKernelHandler,
    NotFoundHandler,
    OwnedShutdownHandler,
    PainelKernelWebsocketHandler,
    PlotlyJsHandler,
    TokenRequestInfoHandler,
    plotly_js_dir,
)
from .kernels import (
    DEFAULT_KERNEL_ENV_ALLOWLIST,
    REQUIRED_KERNEL_ENV,
    OwnershipMixin,
    kernel_environment,
)

HERE = Path(__file__).parent
SHARE = HERE / "share" / "jupyter"
FORBIDDEN_FILES = re.compile(
    r".*\.(ipynb|py|duckdb|wal|sqlite|sqlite-wal|sqlite-shm|json|yaml|yml|csv|txt)$", re.I
)


# A cell that calls one of these waits for the page's visitor (``dash.render`` and friends).
VISITOR_CELL = re.compile(r"\b(?:render|current_viewer|wait_for_request)\s*\(")


class VisitorCellTimeout:
    """nbclient's ``timeout_func``: no timeout for the cell that waits for the visitor.

    Every other cell keeps ``VoilaExecutor.timeout``; the visitor's cell bounds its own work
    once the visitor has come (``PAINEL_RENDER_TIMEOUT``, the same number of seconds).
    """

    def __init__(self, timeout: int | None):
        self.timeout = timeout

    def __call__(self, cell: Any) -> int | None:
        if cell.get("cell_type") == "code" and VISITOR_CELL.search(str(cell.get("source", ""))):
            return None
        return self.timeout


PAINEL_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(painel(?:\.\w+)*)[ \t]+import[ \t]+([\w \t,]+)|import[ \t]+(painel(?:\.\w+)*))",
    re.M,
)


def dashboard_modules(folder: Path) -> list[str]:
    """The painel modules the dashboards in ``folder`` import (``from painel.x import y``
    names ``painel.x`` and ``painel.x.y``: the warm parent of kernels imports what exists)."""
    import json

    out: dict[str, None] = {}
    for path in sorted(folder.glob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for cell in cells:
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            for m in PAINEL_IMPORT.finditer(
                "".join(source) if isinstance(source, list) else source
            ):
                if m.group(3):
                    out[m.group(3)] = None
                    continue
                out[m.group(1)] = None
                for name in m.group(2).split(","):
                    first = name.split()[0] if name.split() else ""
                    if first.isidentifier():
                        out[f"{m.group(1)}.{first}"] = None
    return list(out)


class CompiledTemplates(jinja2.BytecodeCache):
    """Voilà's page templates compiled once per process, not once per page.

    Voilà makes a new exporter, so a new Jinja environment, for every page it renders (each
    preheated kernel's page, each cold render), and Jinja compiles every template again for
    a new environment: measured, ~40 % of the server's own CPU per page open. This cache
    keeps the compiled code by template (and source checksum: an edited template compiles
    again) for every environment of the same kind."""

    def __init__(self) -> None:
        self._codes: dict[str, tuple[str, Any]] = {}

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> jinja2.bccache.Bucket:
        kind = repr((environment.is_async, sorted(environment.extensions)))
        key = self.get_cache_key(name, filename) + kind
        bucket = jinja2.bccache.Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        hit = self._codes.get(bucket.key)
        if hit is not None and hit[0] == bucket.checksum:
            bucket.code = hit[1]

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._codes[bucket.key] = (bucket.checksum, bucket.code)


def exporter_with_compiled_templates(base: type, cache: CompiledTemplates) -> type:
    """Voilà's exporter class whose Jinja environments share ``cache``."""

    class PainelVoilaExporter(base):
        def _create_environment(self) -> jinja2.Environment:
            environment = super()._create_environment()
            environment.bytecode_cache = cache
            return environment

    return PainelVoilaExporter


class ServerState:
    """What painel's handlers need, in ``settings["painel"]``."""

    service_worker: service.Worker | None = None
    usage_ingester: Any = None

    def __init__(self, paths: Paths, app: PainelVoila):
        self.paths = paths
        self.opstate = OpState(paths.opstate)
        self.opstate.migrate()
        self.users = Users(self.opstate)
        from .. import sso

        self.sso = sso.load_settings(paths)  # None: password login only
        self.sessions = Sessions(self.opstate)
        self.catalog = Catalog(paths.dashboards)
        self.max_kernels_per_user = app.max_kernels_per_user
        self.websocket_max_message_size = app.websocket_max_message_size
        self.session_touch_interval = app.session_touch_interval
        self.secure_cookies = app.secure_cookies
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True
        )

    def cookie_secure(self, handler: web.RequestHandler) -> bool:
        if self.secure_cookies == "always":
            return True
        if self.secure_cookies == "never":
            return False
        return handler.request.protocol == "https"


class PainelVoila(Voila):
    name = "painel"
    description = "painel dashboards server (Voilà behind painel's login)"

    max_kernels_per_user = Integer(
        4,
        config=True,
        help="Kernels one user may hold; opening another shuts down their least recently used.",
    )
    secure_cookies = Unicode(
        "auto",
        config=True,
        help="'auto': Secure cookies when the request is https; 'always' behind a TLS-terminating proxy; 'never'.",
    )
    websocket_max_message_size = Integer(
        1024 * 1024,
        config=True,
        help="Largest message (bytes) a browser may send to a kernel over its websocket; "
        "a larger one closes the connection (code 1009) before it reaches the kernel.",
    )
    kernel_memory_limit = Integer(
        1024**3,
        config=True,
        help="Resident memory (bytes) a dashboard kernel may use; the memory watchdog shuts "
        "down a kernel over it and its page says so. 0: no ceiling.",
    )
    kernel_duckdb_memory_limit = Unicode(
        "512MB",
        config=True,
        help="DuckDB's memory limit in each dashboard kernel (its buffer pool and query "
        "memory; e.g. '512MB', '1GB'; '' for DuckDB's default, 80 %% of the machine's memory). "
        "Keep it under kernel_memory_limit: a query over it fails with a message on its panel "
        "instead of the kernel growing.",
    )
    kernel_duckdb_threads = Integer(
        2,
        config=True,
        help="Threads DuckDB may use in each dashboard kernel (0: one per core). Hundreds of "
        "kernels each with a thread per core would only contend for the same cores.",
    )
    kernel_memory_check_interval = Float(
        2.0,
        config=True,
        help="Seconds between two checks of the kernels' memory.",
    )
    session_touch_interval = Float(
        60.0,
        config=True,
        help="Seconds between two refreshes of a session's last use by the messages of its "
        "pages' kernel websockets (a visitor working only through widgets is not idle).",
    )
    usage_ingest_interval = Float(
        5.0,
        config=True,
        help="Seconds between two moves of the panels' usage events (spooled by each kernel) "
        "into the operational store, for Monitoramento de Uso. 0: off.",
    )
    access_check_interval = Float(
        10.0,
        config=True,
        help="Seconds between two runs of the access watchdog, which shuts down the kernels of "
        "ended or expired sessions and of disabled or removed users. 0: off (logout still ends "
        "the session's kernels).",
    )
    kernel_env_allowlist = List(
        Unicode(),
        default_value=list(DEFAULT_KERNEL_ENV_ALLOWLIST),
        config=True,
        help="The server's environment variables a dashboard kernel may see (fnmatch patterns, "
        "e.g. 'LC_*'), besides painel's and Voilà's own (always passed); every other variable "
        "(API keys, ...) stays out of kernels. Setting it replaces the default list.",
    )
    fork_kernels = Bool(
        True,
        config=True,
        help="Start dashboard kernels as forks of one warm process that has imported the "
        "libraries and the dashboards' modules once (painel.forkkernel): a kernel starts in a "
        "fraction of the time and CPU, and shares those pages with every other kernel. "
        "False: each kernel starts afresh.",
    )
    kernel_preload = List(
        Unicode(),
        default_value=[],
        config=True,
        help="Modules the warm parent of forked kernels imports besides the libraries and the "
        "painel modules the dashboards import (found in their code cells).",
    )
    zygote_check_interval = Float(
        5.0,
        config=True,
        help="Seconds between two checks that the warm parent of forked kernels is alive "
        "(restarted if not; kernels start afresh meanwhile).",
    )
    painel_home = Unicode("", config=True, help="The data directory (PAINEL_HOME).")
    painel_paths: Paths  # set by make_app before initialize()
    open_browser = Bool(False, config=True)

    def initialize(self, argv: list[str] | None = None) -> None:
        super().initialize(argv)
        self._enforce_safe_configuration()

    def _enforce_safe_configuration(self) -> None:
        vc = self.voila_configuration
        problems = []
        if vc.show_tracebacks:
            problems.append("show_tracebacks must be false")
        if not vc.strip_sources:
            problems.append("strip_sources must be true")
        if vc.allow_template_override != "NO" or vc.allow_theme_override != "NO":
            problems.append("allow_template_override and allow_theme_override must be 'NO'")
        for pattern in vc.file_allowlist:
            for probe in ("x.ipynb", "x.py", "x.duckdb", "x.sqlite", "x.json", "x.csv", "x.yaml"):
                if re.fullmatch(pattern, probe, re.I):
                    problems.append(f"file_allowlist pattern {pattern!r} would serve {probe}")
        if problems:
            raise ConfigError("unsafe voila.json: " + "; ".join(problems))
        # A preheated kernel runs the notebook up to the cell that waits for its visitor and
        # can sit there for hours: that cell must not run into the executor's timeout (which
        # would serve Voilà's English "Cell execution timed out" page to the next visitor).
        # The page's own build is bounded in the kernel instead (dash.render).
        timeout = self.config.VoilaExecutor.get("timeout", 120)
        timeout = None if timeout is None or timeout <= 0 else int(timeout)
        self.config.VoilaExecutor.timeout_func = VisitorCellTimeout(timeout)
        self.config.VoilaExecutor.cell_error_instruction = ""
        self.config.VoilaExecutor.cell_timeout_instruction = ""
        os.environ[RENDER_TIMEOUT_ENV] = str(timeout or 0)
        vc.http_header_envs = [USER_HEADER]
        if FORBIDDEN_FILES.pattern not in vc.file_denylist:
            vc.file_denylist = [*vc.file_denylist, FORBIDDEN_FILES.pattern]
        vc.prelaunch_hook = None
        self.identity_provider_class = PainelIdentityProvider
        self.authorizer_class = PainelAuthorizer

    zygote: Any = None  # forkkernel.Zygote when fork_kernels

    def init_zygote(self, allowlist: tuple[str, ...]) -> None:
        """Start the warm parent of dashboard kernels (``fork_kernels``), with only what a
        kernel may see of this process's environment: a forked kernel's memory starts as
        its copy. A zygote that cannot start leaves kernels starting afresh (logged)."""
        if not self.fork_kernels:
            return
        import atexit

        from .. import forkkernel

        modules = (
            *forkkernel.PRELOAD,
            *dashboard_modules(self.painel_paths.dashboards),
            *self.kernel_preload,
            "painel.dash:warm_up",  # the first-use costs every page's first cell would pay
        )
        try:
            self.zygote = forkkernel.Zygote(
                tuple(dict.fromkeys(modules)), env=kernel_environment(os.environ, allowlist)
            )
        except forkkernel.ZygoteError as exc:
            self.log.warning("painel: %s; dashboard kernels start afresh", exc)
            return
        atexit.register(self.zygote.stop)
        os.environ.update(self.zygote.env())
        self.log.info("painel: dashboard kernels fork from process %s", self.zygote.pid)

    def watch_zygote(self) -> None:
        """Restart the warm parent if it died (kernels start afresh until it is back)."""
        if self.zygote is None or self.zygote_check_interval <= 0:
            return
        import asyncio

        from tornado.ioloop import PeriodicCallback

        from .. import forkkernel

        busy = False

        async def check() -> None:
            nonlocal busy
            if busy or self.zygote.alive():
                return
            busy = True
            self.log.warning(
                "painel: the kernel zygote ended (%s): restarting it", self.zygote.proc.returncode
            )
            try:
                await asyncio.to_thread(self.zygote.restart)
            except forkkernel.ZygoteError as exc:
                self.log.warning("painel: %s", exc)
            finally:
                busy = False

        self._zygote_watch = PeriodicCallback(check, self.zygote_check_interval * 1000)
        self._zygote_watch.start()

    def init_settings(self) -> dict[str, Any]:
        import voila.app as voila_app
        import voila.notebook_renderer as renderer

        # every page rendered by this process uses one cache of compiled templates (the
        # renderer module's exporter class: the same substitution as the kernel manager's)
        if not getattr(renderer.VoilaExporter, "_painel_compiled", False):
            renderer.VoilaExporter = exporter_with_compiled_templates(
                renderer.VoilaExporter, CompiledTemplates()
            )
            renderer.VoilaExporter._painel_compiled = True

        original = voila_app.voila_kernel_manager_factory

        allowlist = (*REQUIRED_KERNEL_ENV, *self.kernel_env_allowlist)
        from ..wire import DUCKDB_MEMORY_ENV, DUCKDB_THREADS_ENV

        # for the kernels (REQUIRED_KERNEL_ENV passes PAINEL_DUCKDB_*): painel.store reads them
        os.environ[DUCKDB_MEMORY_ENV] = self.kernel_duckdb_memory_limit
        os.environ[DUCKDB_THREADS_ENV] = str(max(self.kernel_duckdb_threads, 0) or "")
        self.init_zygote(allowlist)

        def factory(base_class: type, *args: Any, **kwargs: Any) -> type:
            manager = original(base_class, *args, **kwargs)
            return type(
                "PainelKernelManager",
                (OwnershipMixin, manager),
                {"painel_env_allowlist": allowlist},
            )

        voila_app.voila_kernel_manager_factory = factory
        try:
            settings = super().init_settings()
        finally:
            voila_app.voila_kernel_manager_factory = original
        state = ServerState(self.painel_paths, self)
        settings["painel"] = state
        # what dashboard kernels (which hold no secrets) ask of the server: runs, API reads
        state.service_worker = service.Worker(self.painel_paths).start()
        if self.usage_ingest_interval > 0:  # the kernels' usage events into the store
            from .. import usage

            state.usage_ingester = usage.Ingester(
                state.opstate, self.painel_paths.home, self.usage_ingest_interval
            ).start()
        settings["xsrf_cookie_kwargs"] = {"samesite": "Lax", "path": self.base_url}
        self.kernel_manager.start_watchdogs(
            state.opstate,
            idle=state.sessions.idle,
            access_interval=self.access_check_interval,
            memory_limit=self.kernel_memory_limit,
            memory_interval=self.kernel_memory_check_interval,
        )
        self.watch_zygote()
        return settings

    def init_handlers(self) -> list[Any]:
        replaced: dict[type, tuple[type, dict[str, Any] | None] | None] = {
            TornadoVoilaTreeHandler: None,
            VoilaContentsHandler: (NotFoundHandler, {}),
            TornadoVoilaHandler: (DashboardHandler, None),
            VoilaShutdownKernelHandler: (OwnedShutdownHandler, {}),
            KernelHandler: (NoStoreKernelHandler, None),
            VoilaKernelWebsocketHandler: (PainelKernelWebsocketHandler, None),
            RequestInfoSocketHandler: (
                TokenRequestInfoHandler,
                {"token": os.environ[KERNEL_TOKEN_ENV]},
            ),
        }
        out: list[Any] = [
            (self.server_url, LandingHandler, {}),
            (url_path_join(self.server_url, r"/voila/tree(.*)"), LandingHandler, {}),
            (url_path_join(self.server_url, r"/painel/api/kernels"), KernelsHandler, {}),
            (url_path_join(self.server_url, r"/painel/api/health"), HealthHandler, {}),
            (url_path_join(self.server_url, r"/painel/api/me"), MeHandler, {}),
            (
                url_path_join(self.server_url, r"/painel/static/(plotly\.min\.js)"),
                PlotlyJsHandler,
                {"path": plotly_js_dir()},
            ),
        ]
        for spec in super().init_handlers():
            pattern, cls = spec[0], spec[1]
            kwargs = spec[2] if len(spec) > 2 else {}
            if pattern.endswith("/voila/labextensions/(.*)"):
                out.append((pattern, LabExtensionsHandler, {**kwargs, "no_cache_paths": []}))
                continue
            if cls in replaced:
                replacement = replaced[cls]
                if replacement is None:
                    continue
                new_cls, new_kwargs = replacement
                out.append((pattern, new_cls, kwargs if new_kwargs is None else new_kwargs))
            else:
                out.append((pattern, cls, kwargs))
        return out


def _cookie_secret(paths: Paths) -> bytes:
    """Shared by every replica: PAINEL_COOKIE_SECRET_FILE, else <home>/secrets/cookie_secret."""
    env_file = os.environ.get("PAINEL_COOKIE_SECRET_FILE")
    path = Path(env_file) if env_file else paths.secrets / "cookie_secret"
    if not path.exists():
        if env_file:
            raise ConfigError(f"PAINEL_COOKIE_SECRET_FILE={env_file} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
    secret = path.read_bytes()
    if len(secret) < 32:
        raise ConfigError(f"{path}: cookie secret shorter than 32 bytes")
    return secret


def load_extra_config(path: str | os.PathLike[str]) -> Config:
    """A voila.json-style file layered over the project's voila.json (``painel serve --config``)."""
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a JSON object of sections")
    return Config(data)


def make_app(
    paths: Paths, host: str, port: int, preheat: bool = True, extra: Config | None = None
) -> PainelVoila:
    paths.ensure()
    if not paths.dashboards.is_dir():
        raise ConfigError(f"no dashboards folder at {paths.dashboards}")
    # Kernels inherit this process's environment: give them the data and project dirs and
    # the request-info token, and never the test-only identity variable.
    for name in (TEST_USER_ENV, LAB_ENV, SCRATCH_STORE_ENV):
        os.environ.pop(name, None)
    os.environ[HOME_ENV] = str(paths.home)
    os.environ[PROJECT_ENV] = str(paths.project)
    os.environ[KERNEL_TOKEN_ENV] = secrets.token_urlsafe(24)
    os.environ["VOILA_APP_IP"] = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    jupyter_path = os.environ.get("JUPYTER_PATH", "")
    if str(SHARE) not in jupyter_path.split(os.pathsep):
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(SHARE), jupyter_path) if p)

    config = Config()
    config.Voila.ip = host
    config.Voila.port = port
    config.Voila.port_retries = 0
    config.Voila.open_browser = False
    # a dashboard kernel that died is not restarted blank under its page: the page reopens
    # with its state instead (painel.web.kernels CLOSE_DIED, painel.dash.memory)
    config.KernelRestarter.restart_limit = 0
    # voila.json from the project only: not ~/.jupyter or system-wide config dirs
    config.Voila.config_file_paths = [str(paths.project)]
    app = PainelVoila(config=config)
    app.painel_paths = paths
    app.initialize([str(paths.dashboards)])
    if extra is not None:  # the extra file wins over voila.json, then is checked like it
        app.update_config(extra)
        app.voila_configuration.update_config(extra)
        app._enforce_safe_configuration()
    if not preheat:  # the command line wins over voila.json
        app.voila_configuration.preheat_kernel = False
    app.cookie_secret = _cookie_secret(paths)
    return app


def serve(
    paths: Paths,
    host: str = "127.0.0.1",
    port: int = 8866,
    preheat: bool = True,
    config_file: str | None = None,
) -> int:
    extra = load_extra_config(config_file) if config_file else None
    app = make_app(paths, host, port, preheat=preheat, extra=extra)
    print(
        f"painel: serving {paths.dashboards} at http://{host}:{port}/ (data: {paths.home})",
        file=sys.stderr,
        flush=True,
    )
    app.start()
    return 0
