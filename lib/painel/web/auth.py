"""Login, logout, sessions and authorization for ``painel serve``.

- :class:`PainelIdentityProvider` resolves the signed session cookie to a live server-side
  session (painel.auth.Sessions). On every request it first deletes any client-sent
  ``X-Painel-User`` header, then sets its own for logged-in users: that header is what
  Voilà hands to the kernel, so the kernel's identity always comes from the server.
- :class:`PainelAuthorizer` allows kernel access (REST, websocket) only to the kernel's
  owner and denies every other Jupyter resource (contents, terminals, ...).
- Login and logout are forms protected by tornado's XSRF token. A login's password is
  checked on a small thread pool, never on the event loop (argon2 takes ~0.1-0.3 s of CPU),
  with a bound on the logins waiting for it; painel.auth throttles guessers per client
  address (the forwarded one only from ``trusted_proxies``) and per account.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import re
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import httputil, web
from traitlets import Integer, List, TraitError, Unicode, validate

from ..auth import LoginThrottled
from ..wire import USER_HEADER

COOKIE_NAME = "painel_session"

if TYPE_CHECKING:  # the mixin is always combined with a Jupyter handler
    _HandlerBase = JupyterHandler
else:
    _HandlerBase = object


def _strip_identity_headers(handler: web.RequestHandler) -> None:
    target = USER_HEADER.lower().replace("_", "-")
    for name in list(handler.request.headers.keys()):
        if name.lower().replace("_", "-") == target:
            del handler.request.headers[name]


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: list[str]) -> list[IPNetwork]:
    """Addresses or CIDR networks (``10.0.0.5``, ``10.0.0.0/8``, ``::1``); ValueError names a bad one."""
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {value!r}") from None
    return out


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, trusted: list[IPNetwork]
) -> bool:
    return ip is not None and any(ip.version == net.version and ip in net for net in trusted)


def client_address(
    peer: str, headers: httputil.HTTPHeaders | dict[str, str], trusted: list[IPNetwork]
) -> str:
    """The address of the client a request comes from.

    The TCP peer, unless the peer is a trusted proxy: then the rightmost address of
    ``X-Forwarded-For`` that is not itself a trusted proxy (each proxy appends the address
    it received the request from; whatever the client wrote is further left), else
    ``X-Real-Ip``. The same rule as tornado's ``xheaders`` with ``trusted_downstream``, but
    only for requests that do come from a trusted proxy.
    """
    if not _trusted(_ip(peer), trusted):
        return peer
    hops = [h.strip() for h in headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            return peer  # a malformed chain: count the proxy itself
        if not _trusted(ip, trusted):
            return str(ip)
    if hops:
        return str(_ip(hops[0]))  # every hop is a trusted proxy: the first one asked
    real = _ip(headers.get("X-Real-Ip", ""))
    return str(real) if real is not None else peer


class PainelIdentityProvider(IdentityProvider):
    """Users and sessions from the operational store; no tokens, no anonymous access.

    Configured in ``voila.json`` (or ``painel serve --config``) under
    ``"PainelIdentityProvider"``.
    """

    trusted_proxies = List(
        Unicode(),
        default_value=[],
        config=True,
        help=(
            "Addresses or CIDR networks of the reverse proxies in front of painel serve. Only "
            "for requests from these is the client's address taken from X-Forwarded-For / "
            "X-Real-Ip; login throttling counts failures per client address, so behind a "
            "proxy that is not listed every visitor counts as the proxy."
        ),
    )
    login_threads = Integer(
        2, min=1, config=True, help="Threads that check login passwords (argon2, ~0.1-0.3 s each)."
    )
    max_pending_logins = Integer(
        8,
        min=1,
        config=True,
        help="Logins being checked or waiting for a thread; beyond this a login gets 503 at once.",
    )

    def __init__(self, **kwargs: Any):
        kwargs.pop("login_handler_class", None)  # Voilà passes its token login page
        kwargs["token"] = ""
        super().__init__(**kwargs)
        self.login_handler_class = LoginHandler
        self.logout_handler_class = LogoutHandler
        self.pending_logins = 0  # changed on the event loop only
        self._login_pool: ThreadPoolExecutor | None = None
        self._warned_forwarded = False

    @validate("trusted_proxies")
    def _valid_proxies(self, proposal: Any) -> list[str]:
        try:
            parse_networks(proposal["value"])
        except ValueError as exc:
            raise TraitError(f"PainelIdentityProvider.trusted_proxies: {exc}") from None
        return list(proposal["value"])

    @property
    def login_pool(self) -> ThreadPoolExecutor:
        if self._login_pool is None:
            self._login_pool = ThreadPoolExecutor(
                max_workers=self.login_threads, thread_name_prefix="painel-login"
            )
        return self._login_pool

    def client_address(self, request: httputil.HTTPServerRequest) -> str:
        """The login's client (see :func:`client_address`); warns once about ignored headers."""
        peer = request.remote_ip or ""
        trusted = parse_networks(self.trusted_proxies)
        forwarded = "X-Forwarded-For" in request.headers or "X-Real-Ip" in request.headers
        if forwarded and not self._warned_forwarded and not _trusted(_ip(peer), trusted):
            self._warned_forwarded = True
            self.log.warning(
                "login from %s carries X-Forwarded-For/X-Real-Ip, ignored: if %s is your "
                "reverse proxy, list it in PainelIdentityProvider.trusted_proxies",
                peer,
                peer,
            )
        return client_address(peer, request.headers, trusted)

    @property
    def auth_enabled(self) -> bool:
        return True

    @property
    def login_available(self) -> bool:
        return True

    def _server(self, handler: web.RequestHandler) -> Any:
        return handler.settings["painel"]

    def get_user(self, handler: web.RequestHandler) -> User | None:
        _strip_identity_headers(handler)
        if getattr(handler, "_painel_user", None) is not None:
            return handler._painel_user  # type: ignore[attr-defined]
        raw = handler.get_secure_cookie(COOKIE_NAME, max_age_days=1)
        if not raw:
            return None
        server = self._server(handler)
        username = server.sessions.lookup(raw.decode("ascii", "replace"))
        if username is None:
            return None
        handler.request.headers[USER_HEADER] = username
        user = User(username=username, name=username, display_name=username)
        handler._painel_user = user  # type: ignore[attr-defined]
        return user

    def get_handlers(self) -> list[tuple[str, object]]:
        base = self.parent.base_url if self.parent is not None else "/"
        return [
            (url_path_join(base, "/login"), LoginHandler),
            (url_path_join(base, "/login/sso"), SsoStartHandler),
            (url_path_join(base, "/login/sso/callback"), SsoCallbackHandler),
            (url_path_join(base, "/logout"), LogoutHandler),
        ]

    def validate_security(self, app: Any, ssl_options: dict[str, Any] | None = None) -> None:
        return None


class PainelAuthorizer(Authorizer):
    def is_authorized(
        self, handler: JupyterHandler, user: User, action: str, resource: str
    ) -> bool:
        if user is None:
            return False
        if resource != "kernels":
            return False
        kernel_id = (handler.path_kwargs or {}).get("kernel_id") or (
            handler.path_args[0] if handler.path_args else None
        )
        km = handler.settings["kernel_manager"]
        return bool(kernel_id) and km.owner(kernel_id) == user.username


class PageMixin(_HandlerBase):
    """painel's own templates and pt-BR error pages, for any Jupyter handler."""

    @property
    def painel(self) -> Any:
        return self.settings["painel"]

    def render_page(self, name: str, status: int = 200, **ns: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        template = self.painel.templates.get_template(name)
        user = self.current_user
        self.finish(
            template.render(
                base_url=self.base_url,
                xsrf_form_html=self.xsrf_form_html(),
                user=user.username if user else None,
                sso_label=self.painel.sso.label if self.painel.sso is not None else None,
                **ns,
            )
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        messages = {
            403: "Você não tem permissão para abrir esta página.",
            404: "Página não encontrada.",
        }
        message = messages.get(status_code, "Ocorreu um erro. Tente novamente mais tarde.")
        try:
            self.render_page("error.html", status=status_code, message=message, code=status_code)
        except Exception:  # noqa: BLE001 - never a traceback to the browser
            self.finish(html.escape(message))


class PageHandler(PageMixin, JupyterHandler):
    """A painel HTML page."""


# Control characters (CR/LF would be a header injection tornado refuses with a 500), spaces
# and anything beyond ASCII: a next= the login page itself sends is percent-encoded.
_UNSAFE_NEXT = re.compile(r"[^\x21-\x7e]")


def safe_next(handler: JupyterHandler, target: str | None) -> str:
    """Only same-site paths under base_url; anything else goes to the landing page."""
    default = handler.base_url
    if not target:
        return default
    if _UNSAFE_NEXT.search(target):
        return default
    parsed = urlparse(target)
    if (
        parsed.scheme
        or parsed.netloc
        or not target.startswith(handler.base_url)
        or target.startswith("//")
        or "\\" in target
    ):
        return default
    return target


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} segundo" + ("s" if seconds != 1 else "")
    minutes = -(-seconds // 60)
    return f"{minutes} minuto" + ("s" if minutes != 1 else "")


class LoginHandler(PageHandler):
    @allow_unauthenticated
    def get(self) -> None:
        if self.current_user:
            self.redirect(safe_next(self, self.get_argument("next", None)))
            return
        self.render_page(
            "login.html", next=self.get_argument("next", ""), message=None, username=""
        )

    @allow_unauthenticated
    async def post(self) -> None:
        username = self.get_body_argument("username", "").strip().lower()
        password = self.get_body_argument("password", "")
        next_url = self.get_body_argument("next", "")
        idp: PainelIdentityProvider = self.identity_provider  # type: ignore[assignment]
        client = idp.client_address(self.request)

        def refuse(status: int, message: str, retry_after: int) -> None:
            self.set_header("Retry-After", str(retry_after))
            self.render_page(
                "login.html", status=status, next=next_url, username=username, message=message
            )

        if idp.pending_logins >= idp.max_pending_logins:
            self.log.warning(
                "login of %r from %s refused: too many pending logins", username, client
            )
            refuse(503, "Muitas pessoas estão entrando agora. Tente de novo em alguns segundos.", 5)
            return
        idp.pending_logins += 1
        try:
            viewer = await asyncio.get_running_loop().run_in_executor(
                idp.login_pool, self.painel.users.authenticate, username, password, client
            )
        except LoginThrottled as exc:
            self.log.warning("login throttled (%s) for %r from %s", exc.reason, username, client)
            if exc.reason == "client":
                message = (
                    "Muitas tentativas sem sucesso a partir deste endereço. "
                    f"Aguarde {_wait_text(exc.retry_after)} e tente de novo."
                )
            else:
                message = "Muitas tentativas sem sucesso para este usuário. Aguarde alguns minutos."
            refuse(429, message, exc.retry_after)
            return
        finally:
            idp.pending_logins -= 1
        if viewer is None:
            self.log.warning("failed login for %r from %s", username, client)
            self.render_page(
                "login.html",
                status=401,
                next=next_url,
                username=username,
                message="Usuário ou senha inválidos.",
            )
            return
        sign_in(self, viewer, client)
        self.redirect(safe_next(self, next_url))


def sign_in(handler: PageHandler, viewer: Any, client: str, method: str = "senha") -> None:
    """Open a session for ``viewer``: the cookie, the log line, the usage event."""
    from .. import usage

    session_id = handler.painel.sessions.create(
        viewer.username,
        client,
        handler.request.headers.get("User-Agent", ""),
    )
    handler.set_secure_cookie(
        COOKIE_NAME,
        session_id,
        expires_days=None,
        httponly=True,
        samesite="Lax",
        secure=handler.painel.cookie_secure(handler),
        path=handler.base_url,
    )
    handler.log.info("login %s from %s (%s)", viewer.username, client, method)
    usage.track(handler.painel.paths.home, "login", usage.Who.of(viewer))


SSO_COOKIE = "painel-sso"


class SsoStartHandler(PageHandler):
    """``/login/sso``: off to the institution's provider (authorization code + PKCE)."""

    @allow_unauthenticated
    async def get(self) -> None:
        from .. import sso

        settings = self.painel.sso
        if settings is None:
            self.redirect(url_path_join(self.base_url, "login"))
            return
        next_url = self.get_argument("next", "")
        try:
            url, pending = await asyncio.get_running_loop().run_in_executor(
                None, sso.start, settings, sso_redirect_uri(self), next_url
            )
        except sso.SsoError as exc:
            self.render_page(
                "login.html", status=exc.status, next=next_url, username="", message=str(exc)
            )
            return
        self.set_secure_cookie(
            SSO_COOKIE,
            pending.to_text(),
            expires_days=None,
            httponly=True,
            samesite="Lax",
            secure=self.painel.cookie_secure(self),
            path=self.base_url,
        )
        self.redirect(url)


class SsoCallbackHandler(PageHandler):
    """``/login/sso/callback``: the provider sends the browser back with a code."""

    @allow_unauthenticated
    async def get(self) -> None:
        from .. import audit, sso

        settings = self.painel.sso
        idp: PainelIdentityProvider = self.identity_provider  # type: ignore[assignment]
        client = idp.client_address(self.request)
        raw = self.get_secure_cookie(SSO_COOKIE, max_age_days=1)
        self.clear_cookie(SSO_COOKIE, path=self.base_url)
        next_url = ""

        def refuse(status: int, message: str, email: str = "") -> None:
            audit.record(
                self.painel.opstate,
                "login_failed",
                actor=email or "?",
                client=client,
                detail={"motivo": message, "metodo": "sso"},
            )
            self.render_page(
                "login.html", status=status, next=next_url, username="", message=message
            )

        if settings is None or raw is None:
            refuse(400, "Esta entrada pelo login institucional expirou. Entre de novo.")
            return
        try:
            pending = sso.Pending.from_text(raw.decode("utf-8", "replace"))
        except ValueError:
            refuse(400, "Esta entrada pelo login institucional expirou. Entre de novo.")
            return
        next_url = pending.next
        if self.get_argument("error", ""):
            refuse(403, "O login institucional não autorizou a entrada.")
            return
        try:
            email = await asyncio.get_running_loop().run_in_executor(
                None,
                sso.finish,
                settings,
                sso_redirect_uri(self),
                pending,
                self.get_argument("state", ""),
                self.get_argument("code", ""),
            )
        except sso.SsoError as exc:
            refuse(exc.status, str(exc))
            return
        username = sso.painel_user(self.painel.opstate, email)
        if username is None:
            refuse(
                403,
                f"O e-mail {email} não tem acesso ao painel. Peça acesso à administração.",
                email,
            )
            return
        viewer = self.painel.users.viewer(username)
        audit.record(
            self.painel.opstate, "login", actor=username, client=client, detail={"metodo": "sso"}
        )
        sign_in(self, viewer, client, "sso")
        self.redirect(safe_next(self, next_url))


def sso_redirect_uri(handler: PageHandler) -> str:
    """Where the provider sends the browser back (registered with the provider): the
    setting's ``redirect_uri`` behind a proxy, else built from the request."""
    settings = handler.painel.sso
    if settings is not None and settings.redirect_uri:
        return str(settings.redirect_uri)
    return f"{handler.request.protocol}://{handler.request.host}" + url_path_join(
        handler.base_url, "login/sso/callback"
    )


class LogoutHandler(PageHandler):
    @allow_unauthenticated
    def get(self) -> None:
        if not self.current_user:
            self.redirect(url_path_join(self.base_url, "login"))
            return
        self.render_page("logout.html")

    @allow_unauthenticated
    async def post(self) -> None:
        raw = self.get_secure_cookie(COOKIE_NAME, max_age_days=1)
        if raw:
            self.painel.sessions.end(raw.decode("ascii", "replace"))
        user = self.current_user
        if user is not None:
            # this session's kernels only: the user's other devices keep theirs
            from .kernels import request_session_key

            km: Any = self.kernel_manager  # painel's kernel manager (web.kernels.OwnershipMixin)
            key = request_session_key(self)
            n = await km.shutdown_session_kernels(key) if key else 0
            self.log.info("logout %s (%d kernels of this session shut down)", user.username, n)
            from .. import audit

            idp: PainelIdentityProvider = self.identity_provider  # type: ignore[assignment]
            audit.record(
                self.painel.users.opstate,
                "logout",
                actor=user.username,
                client=idp.client_address(self.request),
            )
            from .. import usage

            try:
                who = usage.Who.of(self.painel.users.viewer(user.username))
            except Exception:  # noqa: BLE001 - a user disabled meanwhile: counted by name
                who = usage.Who(user.username)
            usage.track(self.painel.paths.home, "logout", who)
        self.clear_cookie(COOKIE_NAME, path=self.base_url)
        self.redirect(url_path_join(self.base_url, "login"))
