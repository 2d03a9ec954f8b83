"""Handlers that replace or guard Voilà's own routes."""

from __future__ import annotations

import hmac
import json
import re
import time
from pathlib import Path
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler, FileFindHandler
from jupyter_server.services.kernels.handlers import KernelHandler
from jupyter_server.utils import url_path_join
from tornado import web
from voila.request_info_handler import RequestInfoSocketHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

from ..access import AuthError
from .auth import COOKIE_NAME, PageHandler, PageMixin
from .kernels import REQUEST_USER, Claimant, request_session_key


class LandingHandler(PageHandler):
    """``/``: the dashboards this user's role may open."""

    @web.authenticated
    def get(self, path: str = "") -> None:
        if path:  # /voila/tree/<anything>: there is only one listing
            self.redirect(self.base_url)
            return
        try:
            viewer = self.painel.users.viewer(self.current_user.username)
        except AuthError:
            raise web.HTTPError(403) from None
        dashboards = self.painel.catalog.for_role(viewer.role)
        self.render_page(
            "landing.html",
            viewer=viewer,
            dashboards=[
                {
                    "title": d.title,
                    "description": d.description,
                    "url": url_path_join(self.base_url, "voila/render", d.path),
                }
                for d in dashboards
            ],
        )


class DashboardHandler(PageMixin, TornadoVoilaHandler):
    """``/voila/render/<notebook>``: role check, kernel cap, then Voilà renders.

    The role check runs before Voilà touches a kernel: a refused user gets 403 and no kernel.
    The cap is a reservation taken before the first await (kernels.OwnershipMixin.reserve):
    parallel opens by one user cannot all pass the check before any of them claims a kernel.
    When the user's whole cap is taken by pages still opening, the request gets 429.
    """

    TOO_MANY = (
        "Muitos painéis sendo abertos ao mesmo tempo. Aguarde um pouco e recarregue a página."
    )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 429:
            self.render_page("error.html", status=429, message=self.TOO_MANY, code=429)
            return
        super().write_error(status_code, **kwargs)

    @web.authenticated
    async def get(self, path: str | None = None) -> None:
        painel = self.painel
        entry = painel.catalog.get(path or "")
        if entry is None:
            raise web.HTTPError(404)
        try:
            viewer = painel.users.viewer(self.current_user.username)
        except AuthError:
            raise web.HTTPError(403) from None
        if not entry.allows(viewer.role):
            self.log.warning(
                "%s (role %s) refused dashboard %s", viewer.username, viewer.role, entry.path
            )
            raise web.HTTPError(403)
        km: Any = self.kernel_manager  # painel's kernel manager (kernels.OwnershipMixin)
        # no await from here to the reservation: the cap check and the claim are one step
        slot, evicted = km.reserve(viewer.username, painel.max_kernels_per_user)
        if evicted:
            self.log.info("kernel cap: shut down %s of %s", evicted, viewer.username)
        if slot is None:
            self.log.warning(
                "kernel cap: %s has %d pages opening; refused another",
                viewer.username,
                km.pending_of(viewer.username),
            )
            raise web.HTTPError(429)
        claimant = Claimant(viewer.username, request_session_key(self), slot)
        token = REQUEST_USER.set(claimant)
        try:
            await super().get(path)  # type: ignore[misc]  # Voilà's handler is a coroutine
        finally:
            REQUEST_USER.reset(token)
            km.release(slot)  # a no-op once the kernel was claimed


class OwnedShutdownHandler(APIHandler):
    """``/voila/api/shutdown/<id>`` (the page's unload beacon), for the kernel's owner only."""

    @web.authenticated
    async def post(self, kernel_id: str) -> None:
        km: Any = self.kernel_manager  # painel's kernel manager (kernels.OwnershipMixin)
        if km.owner(kernel_id) != self.current_user.username:
            raise web.HTTPError(403)
        await ensure_async(km.shutdown_kernel(kernel_id))
        self.set_status(204)
        self.finish()


class TokenRequestInfoHandler(RequestInfoSocketHandler):
    """``/voila/query/<id>``: request info for preheated kernels, only with the kernel token.

    Voilà serves this websocket without any authentication; only kernels started by this
    server know the token (an environment variable set before they start).
    """

    def initialize(self, token: str) -> None:
        self._token = token

    async def get(self, *args: Any, **kwargs: Any) -> None:
        given = self.get_argument("token", "")
        if not self._token or not hmac.compare_digest(given, self._token):
            raise web.HTTPError(403)
        await super().get(*args, **kwargs)


class NoStoreMixin:
    """``Cache-Control: no-store`` on every answer, errors included."""

    def set_default_headers(self) -> None:
        super().set_default_headers()  # type: ignore[misc]
        self.set_header("Cache-Control", "no-store")  # type: ignore[attr-defined]


class NoStoreKernelHandler(NoStoreMixin, KernelHandler):
    """``/api/kernels/<id>`` (Jupyter's kernel model and DELETE), never cached."""


class PainelKernelWebsocketHandler(VoilaKernelWebsocketHandler):
    """``/api/kernels/<id>/channels``: Voilà's kernel websocket, with painel's limits.

    - a message from the browser larger than ``websocket_max_message_size`` (PainelVoila)
      closes the connection (tornado answers with close code 1009) before it reaches the
      kernel;
    - each open socket is known to the kernel manager, which closes it with a reason code
      when it ends the kernel (memory ceiling, access ended).
    """

    @property
    def max_message_size(self) -> int:
        return int(self.settings["painel"].websocket_max_message_size)

    def write_message(self, message: Any, binary: bool = False) -> Any:
        """Voilà's filter (no ``execute_input`` to the page) without its v1-only header read.

        Voilà reads every binary frame's header as the v1 protocol's: a client on the legacy
        protocol (no ``Sec-WebSocket-Protocol``) gets 4-byte big-endian offsets, which that
        read takes for a count near 10^18 and starts a list that long on the server's event
        loop, freezing the server for everyone (an export click or a chart's plotly.js
        request was enough). Here a binary frame's header is read only on a v1 socket and
        only within the frame; legacy binary frames carry widget buffers, never an
        ``execute_input``."""
        if isinstance(message, bytes):
            header = _v1_header(message) if self.selected_subprotocol == V1_PROTOCOL else None
        elif isinstance(message, dict):
            header = message.get("header")
        else:
            header = None
        if isinstance(header, dict) and header.get("msg_type") == "execute_input":
            return None
        return super(VoilaKernelWebsocketHandler, self).write_message(message, binary)

    async def open(self, kernel_id: str) -> None:
        self.kernel_manager.add_socket(kernel_id, self)
        await super().open(kernel_id)

    _touched = 0.0

    def on_message(self, message: Any) -> Any:
        # a visitor working only through widgets is active: keep their session from expiring
        # as idle (the lookup touches it at most once a minute; ended sessions stay ended)
        now = time.monotonic()
        if now - self._touched >= self.settings["painel"].session_touch_interval:
            self._touched = now
            raw = self.get_secure_cookie(COOKIE_NAME, max_age_days=1)
            if raw:
                self.settings["painel"].sessions.lookup(raw.decode("ascii", "replace"))
        return super().on_message(message)

    def on_close(self) -> None:
        self.kernel_manager.remove_socket(getattr(self, "kernel_id", ""), self)
        if getattr(self, "connection", None) is not None:
            super().on_close()


V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"


def _v1_header(frame: bytes) -> dict[str, Any] | None:
    """The header of a v1 kernel websocket frame (``[n][offsets...][channel][header]...``),
    None when the frame is not one (every offset is checked against the frame's length)."""
    if len(frame) < 8:
        return None
    count = int.from_bytes(frame[:8], "little")
    if count < 3 or 8 * (count + 1) > len(frame):
        return None
    offsets = [int.from_bytes(frame[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(3)]
    if not offsets[1] <= offsets[2] <= len(frame):
        return None
    try:
        header = json.loads(frame[offsets[1] : offsets[2]].decode("utf-8"))
    except ValueError:
        return None
    return header if isinstance(header, dict) else None


class KernelsHandler(NoStoreMixin, APIHandler):
    """``/painel/api/kernels``: your kernels (admins: everyone's, with owners)."""

    @web.authenticated
    def get(self) -> None:
        km: Any = self.kernel_manager
        painel = self.settings["painel"]
        viewer = painel.users.viewer(self.current_user.username)
        rows = []
        for kernel_id in list(km.list_kernel_ids()):
            owner = km.owner(kernel_id)
            if viewer.is_admin or owner == viewer.username:
                rows.append({"id": kernel_id, "owner": owner})
        self.finish(json.dumps({"kernels": rows}))


def pools_ready(km: Any) -> bool:
    """Whether every preheated-kernel pool is full (true when preheating is off).

    Voilà's preheating manager keeps ``_pools``: notebook -> list of tasks, one per pooled
    kernel, done once that kernel has started; a used kernel's replacement is appended at once.
    """
    pools = getattr(km, "_pools", None)
    if pools is None:
        return True
    config = getattr(km, "kernel_pools_config", {}) or {}
    default = config.get("default", {})
    for notebook, pool in list(pools.items()):
        size = config.get(notebook, default).get("pool_size", default.get("pool_size", 1))
        if len(pool) < size:
            return False
        for task in pool:
            if not task.done() or task.cancelled() or task.exception() is not None:
                return False
    return True


class HealthHandler(APIHandler):
    """``/painel/api/health``: public liveness for probes and tests; says nothing else."""

    @allow_unauthenticated
    def get(self) -> None:
        ready = pools_ready(self.kernel_manager)
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"status": "ok", "pools_ready": ready}))


class PlotlyJsHandler(web.StaticFileHandler):
    """``/painel/static/plotly.min.js``: the plotly.js that ships with the plotly package, for
    ``dash.Chart``. Public like any script; cached for a day and revalidated by its ETag."""

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "public, max-age=86400")


HASHED = re.compile(r"(^|/)[\w.-]*\.[0-9a-f]{8,}\.(js|css)$")


class LabExtensionsHandler(FileFindHandler):
    """``/voila/labextensions/…`` (the widget, anywidget and Voilà bundles), cacheable.

    Voilà serves them with ``no-cache``: each page open revalidated ~17 files in three waves
    of round trips before its widgets could draw. A file named by its content hash
    (``remoteEntry.<hash>.js``) or asked with ``?v=<hash>`` never changes under its URL, so
    the browser keeps it; anything else is still revalidated."""

    def set_headers(self) -> None:
        super().set_headers()
        if "v" in self.request.arguments or HASHED.search(self.request.path):
            self.set_header("Cache-Control", "public, max-age=31536000, immutable")
        else:
            self.set_header("Cache-Control", "no-cache")


def plotly_js_dir() -> str:
    import plotly

    return str(Path(plotly.__file__).parent / "package_data")


class MeHandler(APIHandler):
    """``/painel/api/me``: the logged-in user's display name, for the dashboards' header.

    A preheated page is rendered before its visitor is known, so the header asks for it.
    """

    @web.authenticated
    def get(self) -> None:
        try:
            viewer = self.settings["painel"].users.viewer(self.current_user.username)
        except AuthError:
            raise web.HTTPError(403) from None
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"name": viewer.label()}))


class NotFoundHandler(PageHandler):
    """Routes Voilà would expose but painel does not (e.g. the contents API)."""

    @web.authenticated
    def get(self, *args: Any, **kwargs: Any) -> None:  # the contents route passes ``path=``
        raise web.HTTPError(404)
