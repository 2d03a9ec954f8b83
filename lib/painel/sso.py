"""Single sign-on with the institution's OpenID Connect provider (Google Workspace, Microsoft
Entra...): authorization code with PKCE, through Authlib; the ID token checked with joserfc.

``parameters/sso.yaml`` (then the profile's) turns it on::

    issuer: https://accounts.google.com       # its /.well-known/openid-configuration is read
    client_id: 1234.apps.googleusercontent.com
    client_secret_env: PAINEL_SSO_CLIENT_SECRET  # the *name* of the variable holding the secret
    domains: [educacao.mg.gov.br]               # only e-mails of these domains sign in
    label: Entrar com a conta institucional      # the login page's button
    redirect_uri: https://painel.example/login/sso/callback  # behind a proxy (default: the request's host)

The provider says who the person is (a verified e-mail of an allowed domain); painel still says
what they may see: the e-mail must be a painel user's (its username or its address), active,
and that user's role and grants apply. An unknown e-mail gets no access and a pt-BR page that
says so. Password login stays for accounts that have a password.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .config import Paths

KEYS = {
    "issuer",
    "client_id",
    "client_secret_env",
    "domains",
    "label",
    "scope",
    "timeout_s",
    "redirect_uri",
}
DEFAULT_LABEL = "Entrar com a conta institucional"


class SsoSettingsError(Exception):
    """``parameters/sso.yaml`` cannot be used; the message names the file and the field."""


class SsoError(Exception):
    """A sign-in that cannot go on; ``str()`` is the pt-BR message for the login page."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SsoSettings:
    issuer: str
    client_id: str
    client_secret_env: str = "PAINEL_SSO_CLIENT_SECRET"
    domains: tuple[str, ...] = ()
    label: str = DEFAULT_LABEL
    scope: str = "openid email profile"
    timeout_s: float = 10.0
    redirect_uri: str = ""  # "": built from the request's host
    _metadata: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _jwks: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def secret(self) -> str | None:
        value = os.environ.get(self.client_secret_env, "").strip()
        return value or None

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (read once, then kept)."""
        if not self._metadata:
            import requests

            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            try:
                r = requests.get(url, timeout=self.timeout_s)
                r.raise_for_status()
                data = r.json()
            except (requests.RequestException, ValueError) as exc:
                raise SsoError(
                    "O login institucional não respondeu. Tente de novo em alguns minutos.", 502
                ) from exc
            if data.get("issuer") != self.issuer:
                raise SsoError("O login institucional respondeu com outra identidade.", 502)
            self._metadata.update(data)
        return self._metadata

    def jwks(self, *, fresh: bool = False) -> tuple[Any, bool]:
        """The provider's signing keys, kept :data:`JWKS_TTL_S`; ``fresh`` reads them again
        (a token signed with a key not yet seen: the provider rotated its keys). Returns the
        key set and whether it was just read."""
        import requests

        if fresh or not self._jwks or time.monotonic() - self._jwks["at"] > JWKS_TTL_S:
            r = requests.get(self.metadata()["jwks_uri"], timeout=self.timeout_s)
            r.raise_for_status()
            self._jwks.update(keys=r.json(), at=time.monotonic())
            return self._jwks["keys"], True
        return self._jwks["keys"], False


def load_settings(paths: Paths) -> SsoSettings | None:
    """The SSO settings, or None when no ``sso.yaml`` turns it on."""
    from .params import layered_settings

    read = layered_settings(paths.parameter_files("sso"), paths.project, KEYS, SsoSettingsError)
    values, where = read.values, read.origin
    if not values:
        return None
    for key in ("issuer", "client_id"):
        if not isinstance(values.get(key), str) or not values[key].strip():
            raise SsoSettingsError(f"{where}: field {key!r} is required (text)")
    if not str(values["issuer"]).startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise SsoSettingsError(f"{where}: field 'issuer' must be an https URL")
    domains = values.get("domains") or []
    if isinstance(domains, str):
        domains = [domains]
    if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
        raise SsoSettingsError(f"{where}: field 'domains' must be a list of e-mail domains")
    return SsoSettings(
        issuer=str(values["issuer"]).strip(),
        client_id=str(values["client_id"]).strip(),
        client_secret_env=str(values.get("client_secret_env") or "PAINEL_SSO_CLIENT_SECRET"),
        domains=tuple(d.strip().lower().lstrip("@") for d in domains),
        label=str(values.get("label") or DEFAULT_LABEL),
        scope=str(values.get("scope") or "openid email profile"),
        timeout_s=float(values.get("timeout_s") or 10.0),
        redirect_uri=_redirect(values.get("redirect_uri"), where),
    )


def _redirect(value: Any, where: str) -> str:
    if value is None or value == "":
        return ""
    text = str(value).strip()
    if not text.startswith(
        ("https://", "http://127.0.0.1", "http://localhost")
    ) or not text.endswith("/login/sso/callback"):
        raise SsoSettingsError(
            f"{where}: field 'redirect_uri' must be the https address of painel's "
            "/login/sso/callback"
        )
    return text


@dataclass(frozen=True)
class Pending:
    """What the browser carries (in a signed cookie) between the two legs of a sign-in."""

    state: str
    nonce: str
    verifier: str
    next: str
    started: float

    def to_text(self) -> str:
        return "|".join([self.state, self.nonce, self.verifier, str(int(self.started)), self.next])

    @classmethod
    def from_text(cls, text: str) -> Pending:
        state, nonce, verifier, started, nxt = text.split("|", 4)
        return cls(state, nonce, verifier, nxt, float(started))


def _session(settings: SsoSettings, redirect_uri: str) -> Any:
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(
        settings.client_id,
        settings.secret(),
        scope=settings.scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if settings.secret() else "none",
        timeout=settings.timeout_s,
    )


def start(settings: SsoSettings, redirect_uri: str, next_url: str) -> tuple[str, Pending]:
    """The provider's authorization URL, and what to keep until the browser comes back."""
    pending = Pending(
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(48),
        next=next_url,
        started=time.time(),
    )
    url, _state = _session(settings, redirect_uri).create_authorization_url(
        settings.metadata()["authorization_endpoint"],
        state=pending.state,
        code_verifier=pending.verifier,
        nonce=pending.nonce,
    )
    return url, pending


JWKS_TTL_S = 3600.0  # the provider's signing keys are read again after an hour, or on a new key
MAX_AGE_S = 600  # a sign-in started more than ten minutes ago starts again


def finish(
    settings: SsoSettings, redirect_uri: str, pending: Pending, state: str, code: str
) -> str:
    """The verified e-mail (lower case) of the person the provider signed in; raises SsoError."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    if not code or not secrets.compare_digest(state or "", pending.state):
        raise SsoError("O login institucional não confere com esta sessão. Entre de novo.", 400)
    if time.time() - pending.started > MAX_AGE_S:
        raise SsoError("O login institucional demorou demais. Entre de novo.", 400)
    meta = settings.metadata()
    try:
        token = _session(settings, redirect_uri).fetch_token(
            meta["token_endpoint"], code=code, code_verifier=pending.verifier
        )
    except Exception as exc:
        raise SsoError("O login institucional recusou a entrada. Entre de novo.", 403) from exc
    id_token = token.get("id_token")
    if not id_token:
        raise SsoError("O login institucional não disse quem é você.", 502)
    try:
        import requests

        keys, just_read = settings.jwks()
        try:
            decoded = jwt.decode(id_token, KeySet.import_key_set(keys))
        except (JoseError, ValueError):
            if just_read:
                raise
            keys, _ = settings.jwks(fresh=True)  # keys rotated since they were kept
            decoded = jwt.decode(id_token, KeySet.import_key_set(keys))
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.client_id},
            nonce={"essential": True, "value": pending.nonce},
            exp={"essential": True},
        ).validate(decoded.claims)
    except requests.RequestException as exc:
        raise SsoError(
            "O login institucional não respondeu. Tente de novo em alguns minutos.", 502
        ) from exc
    except (JoseError, ValueError, KeyError) as exc:
        raise SsoError("A identidade enviada pelo login institucional não é válida.", 403) from exc
    claims = decoded.claims
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is not True:
        raise SsoError("O login institucional não confirmou o seu e-mail.", 403)
    domain = email.rsplit("@", 1)[-1]
    if settings.domains and domain not in settings.domains:
        raise SsoError(
            f"Só e-mails institucionais ({', '.join('@' + d for d in settings.domains)}) "
            "entram no painel.",
            403,
        )
    return email


def painel_user(opstate: Any, email: str) -> str | None:
    """The active painel user this e-mail is (its username, or its address), if any."""
    with opstate.connect() as con:
        row = con.execute(
            "SELECT username FROM users WHERE disabled = 0 AND (username = ? OR lower(email) = ?) "
            "ORDER BY username = ? DESC LIMIT 1",
            [email, email, email],
        ).fetchone()
    return None if row is None else str(row[0])
