"""Login, logout, sessions and authorization for ``painel serve``.

- :class:`PainelIdentityProvider` resolves the signed session cookie to a live server-side
  session (painel.auth.Sessions). On every request it first deletes any client-sent
  ``X-Painel-User`` header, then sets its own for logged-in users: that header is what
  Voilà hands to the kernel, so the kernel's identity always comes from the server.
- :class:`PainelAuthorizer` allows kernel access (REST, websocket) only to the kernel's
  owner and denies every other Jupyter resource (contents, terminals, ...).
- Login and logout are forms protected by tornado's XSRF token.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..access import AuthError
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


class PainelIdentityProvider(IdentityProvider):
    """Users and sessions from the operational store; no tokens, no anonymous access."""

    def __init__(self, **kwargs: Any):
        kwargs.pop("login_handler_class", None)  # Voilà passes its token login page
        kwargs["token"] = ""
        super().__init__(**kwargs)
        self.login_handler_class = LoginHandler
        self.logout_handler_class = LogoutHandler

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


def safe_next(handler: JupyterHandler, target: str | None) -> str:
    """Only same-site paths under base_url; anything else goes to the landing page."""
    default = handler.base_url
    if not target:
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
    def post(self) -> None:
        username = self.get_body_argument("username", "").strip().lower()
        password = self.get_body_argument("password", "")
        next_url = self.get_body_argument("next", "")
        try:
            viewer = self.painel.users.authenticate(
                username, password, remote_ip=self.request.remote_ip or ""
            )
        except AuthError:
            self.log.warning("login throttled for %r from %s", username, self.request.remote_ip)
            self.render_page(
                "login.html",
                status=429,
                next=next_url,
                username=username,
                message="Muitas tentativas sem sucesso. Aguarde alguns minutos.",
            )
            return
        if viewer is None:
            self.log.warning("failed login for %r from %s", username, self.request.remote_ip)
            self.render_page(
                "login.html",
                status=401,
                next=next_url,
                username=username,
                message="Usuário ou senha inválidos.",
            )
            return
        session_id = self.painel.sessions.create(
            viewer.username,
            self.request.remote_ip or "",
            self.request.headers.get("User-Agent", ""),
        )
        self.set_secure_cookie(
            COOKIE_NAME,
            session_id,
            expires_days=None,
            httponly=True,
            samesite="Lax",
            secure=self.painel.cookie_secure(self),
            path=self.base_url,
        )
        self.log.info("login %s from %s", viewer.username, self.request.remote_ip)
        self.redirect(safe_next(self, next_url))


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
            km: Any = self.kernel_manager  # painel's kernel manager (web.kernels.OwnershipMixin)
            n = await km.shutdown_user_kernels(user.username)
            self.log.info("logout %s (%d kernels shut down)", user.username, n)
        self.clear_cookie(COOKIE_NAME, path=self.base_url)
        self.redirect(url_path_join(self.base_url, "login"))
