"""E-mail: settings, a durable outbox in the operational store, delivery over SMTP.

Why an outbox: a job that writes digests must neither fail, block nor send twice because the
mail server is down or the job runs again. It *queues* each mail (one row per recipient, named
by a *dedup key* the caller derives from what the mail is about, e.g.
``procurement.daily:2026-12-01:maria``) and :func:`deliver` sends what is due, now or later
(``painel mail send``, or ``painel schedule`` on each pass).

What the outbox promises:

- **Queued once.** ``dedup_key`` is UNIQUE: queuing it again (a re-run) is a no-op, whether
  the first copy is still waiting, sent or given up.
- **Sent once.** A pass claims each row with a compare-and-set UPDATE (``pending`` ->
  ``sending``) just before sending it, so concurrent passes never send the same row, and marks
  it ``sent`` as soon as the server has accepted it (its reply to DATA), before the next one.
- **The one window left is at-least-once.** A process that dies between the server's
  acceptance and that commit leaves the row ``sending``; after :data:`CLAIM_LEASE` a pass sends
  it again, with the same Message-ID and Date (the same message), so the receiving side can
  drop the copy. We prefer that to at-most-once: a duplicate with the same id beats a mail lost
  without a trace.
- **Never lost.** A refused recipient, a server down or a lost connection record the error,
  count the attempt and schedule the next one (``retry_backoff_s``, doubling, at most
  ``retry_backoff_max_s``); after ``max_attempts`` the row is *given up*: kept, and listed by
  ``painel mail list``.

Settings come from ``parameters/mail.yaml`` (then ``parameters/<profile>/mail.yaml``);
``PAINEL_SMTP_HOST`` and ``PAINEL_SMTP_PORT`` override the server (the demo and the tests point
it at a loopback catcher); the password is only ever read from the environment variable that
``password_env`` names.
"""

from __future__ import annotations

import contextlib
import html
import json
import mimetypes
import os
import re
import smtplib
import socket
import ssl
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from .access import Viewer, read_viewer
from .config import TIMEZONE, Paths
from .opstate import OpState, iso, parse_iso, utcnow

HOST_ENV = "PAINEL_SMTP_HOST"
PORT_ENV = "PAINEL_SMTP_PORT"
SECURITY = ("none", "starttls", "ssl")
CLAIM_LEASE = timedelta(minutes=10)  # a "sending" row older than this was left by a dead pass
FAILURE_MAIL_TIMEOUT_S = 5.0  # a failing job waits at most this per SMTP step for its mail
STATUSES = ("pending", "sending", "sent", "given_up")

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class MailSettingsError(ValueError):
    """``mail.yaml`` (or an override) is wrong; the message names the file and the field."""


class AddressError(ValueError):
    """Not an e-mail address painel sends to; the message says why."""


def validate_address(text: str) -> str:
    """A bare address, ``local@domain``, ASCII only (no SMTPUTF8); the domain may have no dot
    (``root@localhost`` on loopback). Deliberately simple: the server has the last word, and a
    refusal is recorded on the mail. Returns it stripped."""
    address = str(text).strip()
    if not address:
        raise AddressError("the e-mail address is empty")
    if len(address) > 254 or parseaddr(address)[1] != address or not _ADDRESS.match(address):
        raise AddressError(
            f"{address!r} is not an e-mail address like nome@orgao.go.gov.br "
            "(one bare address, ASCII letters)"
        )
    return address


# ---- settings -----------------------------------------------------------------------------
@dataclass(frozen=True)
class MailSettings:
    host: str = "localhost"
    port: int = 25
    security: str = "none"  # none | starttls | ssl (implicit TLS, usually port 465)
    user: str = ""  # empty: no login
    password_env: str = "PAINEL_SMTP_PASSWORD"
    sender: str = "painel <painel@localhost>"
    timeout_s: float = 10.0
    support: tuple[str, ...] = ()  # who gets the failure mails; empty: nobody
    max_attempts: int = 20
    retry_backoff_s: float = 60.0
    retry_backoff_max_s: float = 3600.0
    ca_file: str = ""  # certificates to trust for TLS instead of the system's
    origin: str = "built-in defaults"  # the files these came from, for messages

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]

    def password(self) -> str:
        """The SMTP password (only when ``user`` is set), from the environment."""
        if not self.user:
            return ""
        value = os.environ.get(self.password_env, "")
        if not value:
            raise MailSettingsError(
                f"{self.origin}: user {self.user!r} needs a password: export it in the "
                f"environment variable {self.password_env}"
            )
        return value

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next attempt after ``attempts`` failed ones."""
        seconds = self.retry_backoff_s * 2 ** min(max(attempts - 1, 0), 32)
        return timedelta(seconds=min(seconds, self.retry_backoff_max_s))


_KEYS = {f.name for f in fields(MailSettings)} - {"origin"}


def load_settings(paths: Paths, env: Mapping[str, str] | None = None) -> MailSettings:
    """``parameters/mail.yaml`` (then the profile's) over the defaults, then the environment's
    host and port. No file: the defaults (localhost:25, no support address)."""
    from .params import layered_settings

    env = os.environ if env is None else env
    read = layered_settings(paths.parameter_files("mail"), paths.project, _KEYS, MailSettingsError)
    values, origins = read.values, read.origins
    ca_file = values.get("ca_file")
    if isinstance(ca_file, str) and ca_file.strip() and not Path(ca_file.strip()).is_absolute():
        values["ca_file"] = str(paths.project / ca_file.strip())  # relative to the project
    for name, key in ((HOST_ENV, "host"), (PORT_ENV, "port")):
        if env.get(name, "").strip():
            values[key] = env[name].strip()
            origins[key] = f"environment variable {name}"
    return settings_from(values, origins, read.origin)


def settings_from(
    values: Mapping[str, Any], origins: Mapping[str, str] | None = None, origin: str = "mail.yaml"
) -> MailSettings:
    """Validated settings; each error names where the value came from and the field."""
    origins = origins or {}
    d = MailSettings()

    def where(key: str) -> str:
        return f"{origins.get(key, origin)}: field {key!r}"

    def text(key: str, default: str, *, empty: bool = True) -> str:
        value = values.get(key, default)
        if value is None and empty:
            return ""
        if not isinstance(value, str) or (not empty and not value.strip()):
            raise MailSettingsError(f"{where(key)} must be {'a' if empty else 'a non-empty'} text")
        return value.strip()

    def number(key: str, default: float, low: float, *, whole: bool = False) -> Any:
        value = values.get(key, default)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)  # from an environment variable
        kinds = (int,) if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or value < low:
            kind = "a whole number" if whole else "a number"
            raise MailSettingsError(f"{where(key)} must be {kind} >= {low:g}, got {value!r}")
        return value

    host = text("host", d.host, empty=False)
    if any(c.isspace() for c in host):
        raise MailSettingsError(f"{where('host')} must be a host name or address, got {host!r}")
    port = number("port", d.port, 1, whole=True)
    if port > 65535:
        raise MailSettingsError(f"{where('port')} must be a port number 1-65535, got {port}")
    security = values.get("security", d.security)
    if security not in SECURITY:
        raise MailSettingsError(
            f"{where('security')} must be one of {', '.join(SECURITY)}, got {security!r}"
        )
    password_env = text("password_env", d.password_env, empty=False)
    if not _ENV_NAME.match(password_env):
        raise MailSettingsError(
            f"{where('password_env')} must name an environment variable, got {password_env!r}"
        )
    sender = text("sender", d.sender, empty=False)
    try:
        validate_address(parseaddr(sender)[1])
    except AddressError as exc:
        raise MailSettingsError(
            f"{where('sender')} must be an address, optionally with a name "
            f"('painel <painel@orgao.go.gov.br>'): {exc}"
        ) from None
    support = values.get("support") or []
    if not isinstance(support, list):
        raise MailSettingsError(f"{where('support')} must be a list of addresses")
    try:
        support_addresses = tuple(validate_address(a) for a in support)
    except AddressError as exc:
        raise MailSettingsError(f"{where('support')}: {exc}") from None
    backoff = float(number("retry_backoff_s", d.retry_backoff_s, 0))
    backoff_max = float(number("retry_backoff_max_s", d.retry_backoff_max_s, backoff))
    ca_file = text("ca_file", d.ca_file)
    if ca_file and not Path(ca_file).is_file():
        raise MailSettingsError(f"{where('ca_file')}: no such file {ca_file!r}")
    return MailSettings(
        host=host,
        port=int(port),
        security=str(security),
        user=text("user", d.user),
        password_env=password_env,
        sender=sender,
        timeout_s=float(number("timeout_s", d.timeout_s, 0.1)),
        support=support_addresses,
        max_attempts=int(number("max_attempts", d.max_attempts, 1, whole=True)),
        retry_backoff_s=backoff,
        retry_backoff_max_s=backoff_max,
        ca_file=ca_file,
        origin=origin,
    )


def _relative(path: Path, base: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(base))
    return str(path)


# ---- recipients ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipient:
    """A user who gets mail: the address, and the viewer (role, grants) the mail is built for,
    read fresh, so a grant revoked today narrows tomorrow's mail."""

    address: str
    viewer: Viewer


def recipients(opstate: OpState, roles: Collection[str] | None = None) -> list[Recipient]:
    """Active users with an e-mail address (of ``roles``, if given), by username. A user whose
    role is unknown to this installation is left out (fail closed), as the server would refuse
    them."""
    from .access import UnknownRole

    out = []
    with opstate.connect() as con:
        rows = con.execute(
            "SELECT username, email, role FROM users "
            "WHERE disabled = 0 AND email != '' ORDER BY username"
        ).fetchall()
        for row in rows:
            if roles is not None and row["role"] not in roles:
                continue
            try:
                out.append(Recipient(row["email"], read_viewer(con, row["username"])))
            except UnknownRole:
                continue
    return out


# ---- the outbox ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Mail:
    """One message to one address: subject, plain text and HTML, pt-BR as the reader reads it."""

    to: str
    subject: str
    text: str
    html: str
    kind: str = "mail"  # what it is, for the listing: "procurement.daily", "run.failed", ...
    username: str | None = None  # the user it is for, when it is for one
    # files to attach, by absolute path, read when the mail is sent (a report burst's files)
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    dedup_key: str
    kind: str
    recipient: str
    username: str | None
    subject: str
    body_text: str
    body_html: str
    message_id: str
    status: str  # pending | sending | sent | given_up
    attempts: int
    created_at: str
    last_attempt_at: str | None
    next_attempt_at: str
    claimed_until: str | None
    sent_at: str | None
    last_error: str | None
    attachments: str = "[]"  # JSON list of absolute paths

    @classmethod
    def of(cls, row: Any) -> OutboxEntry:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    @property
    def files(self) -> list[Path]:
        return [Path(p) for p in json.loads(self.attachments or "[]")]


def queue(opstate: OpState, mail: Mail, dedup_key: str, *, now: datetime | None = None) -> bool:
    """Add ``mail`` to the outbox, due at once; False (and nothing changes) when ``dedup_key``
    is there already, waiting, sent or given up. The Message-ID is fixed here, so every attempt
    sends the same message."""
    if not dedup_key.strip():
        raise ValueError("a mail needs a non-empty dedup key")
    if not mail.subject.strip() or "\n" in mail.subject or "\r" in mail.subject:
        raise ValueError(f"a mail's subject must be one non-empty line, got {mail.subject!r}")
    to = validate_address(mail.to)
    for path in mail.attachments:
        if not Path(path).is_absolute():
            raise ValueError(f"a mail's attachment must be an absolute path, got {path!r}")
    moment = iso(now or utcnow())
    with opstate.connect() as con:
        cur = con.execute(
            "INSERT INTO mail_outbox (dedup_key, kind, recipient, username, subject, body_text, "
            "body_html, message_id, created_at, next_attempt_at, attachments) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
            [
                dedup_key,
                mail.kind,
                to,
                mail.username,
                mail.subject,
                mail.text,
                mail.html,
                make_msgid(domain=_msgid_domain()),
                moment,
                moment,
                json.dumps(list(mail.attachments)),
            ],
        )
        return cur.rowcount == 1


def outbox(opstate: OpState, *, pending: bool = False, limit: int = 100) -> list[OutboxEntry]:
    """The newest mails first; with ``pending``, only those not sent and not given up."""
    where = "WHERE status IN ('pending', 'sending')" if pending else ""
    with opstate.connect() as con:
        rows = con.execute(
            f"SELECT * FROM mail_outbox {where} ORDER BY id DESC LIMIT ?", [limit]
        ).fetchall()
    return [OutboxEntry.of(r) for r in rows]


def build_message(entry: OutboxEntry, sender: str) -> EmailMessage:
    """multipart/alternative (text, then HTML), UTF-8 quoted-printable (7-bit safe on any
    server), the subject RFC 2047-encoded, the Date of queuing in São Paulo time."""
    msg = EmailMessage()
    msg["Subject"] = entry.subject
    msg["From"] = sender
    msg["To"] = entry.recipient
    msg["Date"] = format_datetime(parse_iso(entry.created_at).astimezone(ZoneInfo(TIMEZONE)))
    msg["Message-ID"] = entry.message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    msg.set_content(entry.body_text, charset="utf-8", cte="quoted-printable")
    msg.add_alternative(entry.body_html, subtype="html", charset="utf-8", cte="quoted-printable")
    for path in entry.files:  # read now: a file removed since it was queued fails this mail
        maintype, _, subtype = (
            mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        ).partition("/")
        msg.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    return msg


# ---- delivery -----------------------------------------------------------------------------
@dataclass
class DeliveryReport:
    """What one pass did, by dedup key."""

    server: str
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # key -> error; retried later
    given_up: dict[str, str] = field(default_factory=dict)  # key -> last error; no more tries
    unreachable: str | None = None  # the server could not be reached, or the connection broke

    @property
    def ok(self) -> bool:
        return not (self.failed or self.given_up or self.unreachable)

    def summary(self) -> str:
        """One line: what went and what did not, naming the server and the first error."""
        parts = [f"{len(self.sent)} sent"]
        if self.failed:
            parts.append(f"{len(self.failed)} to retry")
        if self.given_up:
            parts.append(f"{len(self.given_up)} given up")
        line = f"{self.server}: {', '.join(parts)}"
        first = self.unreachable or next(iter({**self.failed, **self.given_up}.values()), None)
        return f"{line} ({first})" if first else line


def deliver(
    opstate: OpState,
    settings: MailSettings,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    keys: Collection[str] | None = None,
) -> DeliveryReport:
    """Send every due mail (only ``keys``, if given) over one SMTP connection.

    Due: ``pending`` whose next attempt has come, or ``sending`` whose claim expired. Nothing
    due: no connection. Raises :class:`MailSettingsError` (before anything is claimed) when the
    password is missing; everything the server or the network does is in the report.
    """
    clock = (lambda: now) if now is not None else utcnow
    report = DeliveryReport(server=settings.server)
    due = _due(opstate, clock(), limit, keys)
    if not due:
        return report
    password = settings.password()
    try:
        smtp = _connect(settings, password)
    except (OSError, smtplib.SMTPException) as exc:
        report.unreachable = f"cannot reach the SMTP server {settings.server}: {_describe(exc)}"
        for row in due:
            _count_unreached(opstate, row, report, settings, clock())
        return report
    try:
        for row in due:
            entry = _claim(opstate, row["id"], clock())
            if entry is None:
                continue  # another pass has it, or sent it
            try:
                message = build_message(entry, settings.sender)
            except OSError as exc:  # an attachment is gone or unreadable: this mail only
                error = f"cannot attach {exc.filename or 'a file'}: {exc.strerror or exc}"
                _failed(opstate, entry, error, report, settings, clock())
                continue
            try:
                smtp.send_message(
                    message,
                    from_addr=settings.envelope_sender,
                    to_addrs=[entry.recipient],
                )
            except smtplib.SMTPRecipientsRefused as exc:
                _failed(opstate, entry, _refusal(exc), report, settings, clock())
            except smtplib.SMTPResponseException as exc:  # MAIL FROM or DATA refused
                _failed(opstate, entry, _describe(exc), report, settings, clock())
                if exc.smtp_code == 421:  # the server is closing the connection
                    report.unreachable = (
                        f"{settings.server} closed the connection: {_describe(exc)}"
                    )
                    break
            except (OSError, smtplib.SMTPException) as exc:  # the connection broke
                error = f"connection to {settings.server} lost: {_describe(exc)}"
                _failed(opstate, entry, error, report, settings, clock())
                report.unreachable = error
                break
            else:
                _mark_sent(opstate, entry, clock())
                report.sent.append(entry.dedup_key)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()
        smtp.close()
    return report


def retry_now(opstate: OpState, now: datetime | None = None) -> int:
    """Make every queued mail waiting out its back-off due now (the server is back, say);
    returns how many. Mail already sent or given up is left alone."""
    with opstate.connect() as con:
        cur = con.execute(
            "UPDATE mail_outbox SET next_attempt_at = ? "
            "WHERE status = 'pending' AND next_attempt_at > ?",
            [iso(now or utcnow()), iso(now or utcnow())],
        )
        return int(cur.rowcount)


def _due(
    opstate: OpState, now: datetime, limit: int | None, keys: Collection[str] | None
) -> list[Any]:
    sql = (
        "SELECT id, dedup_key, status, attempts FROM mail_outbox "
        "WHERE ((status = 'pending' AND next_attempt_at <= :now) "
        "OR (status = 'sending' AND claimed_until < :now))"
    )
    args: dict[str, Any] = {"now": iso(now)}
    if keys is not None:
        if not keys:
            return []
        names = [f":k{i}" for i in range(len(keys))]
        sql += f" AND dedup_key IN ({', '.join(names)})"
        args.update({n[1:]: k for n, k in zip(names, keys, strict=True)})
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT :limit"
        args["limit"] = limit
    with opstate.connect() as con:
        return con.execute(sql, args).fetchall()


def _claim(opstate: OpState, row_id: int, now: datetime) -> OutboxEntry | None:
    """Compare-and-set: the row becomes ours (``sending``, one more attempt) only if it is still
    due; a concurrent pass's UPDATE then changes nothing."""
    with opstate.connect() as con:
        row = con.execute(
            "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, "
            "last_attempt_at = :now, claimed_until = :lease "
            "WHERE id = :id AND ((status = 'pending' AND next_attempt_at <= :now) "
            "OR (status = 'sending' AND claimed_until < :now)) RETURNING *",
            {"id": row_id, "now": iso(now), "lease": iso(now + CLAIM_LEASE)},
        ).fetchone()
    return OutboxEntry.of(row) if row is not None else None


def _mark_sent(opstate: OpState, entry: OutboxEntry, now: datetime) -> None:
    with opstate.connect() as con:
        con.execute(
            "UPDATE mail_outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, "
            "last_error = NULL WHERE id = ?",
            [iso(now), entry.id],
        )


def _failed(
    opstate: OpState,
    entry: OutboxEntry,
    error: str,
    report: DeliveryReport,
    settings: MailSettings,
    now: datetime,
) -> None:
    """A claimed mail that was not accepted: back to ``pending`` for later, or given up."""
    status = "given_up" if entry.attempts >= settings.max_attempts else "pending"
    with opstate.connect() as con:
        con.execute(
            "UPDATE mail_outbox SET status = ?, next_attempt_at = ?, claimed_until = NULL, "
            "last_error = ? WHERE id = ? AND status = 'sending'",
            [status, iso(now + settings.backoff(entry.attempts)), error, entry.id],
        )
    (report.given_up if status == "given_up" else report.failed)[entry.dedup_key] = error


def _count_unreached(
    opstate: OpState, row: Any, report: DeliveryReport, settings: MailSettings, now: datetime
) -> None:
    """The server was down for a due mail: that is an attempt too (compare-and-set on the
    attempts seen, so two passes failing at once count it once)."""
    attempts = int(row["attempts"]) + 1
    status = "given_up" if attempts >= settings.max_attempts else "pending"
    error = str(report.unreachable)
    with opstate.connect() as con:
        cur = con.execute(
            "UPDATE mail_outbox SET status = ?, attempts = ?, last_attempt_at = ?, "
            "next_attempt_at = ?, claimed_until = NULL, last_error = ? "
            "WHERE id = ? AND status = ? AND attempts = ?",
            [
                status,
                attempts,
                iso(now),
                iso(now + settings.backoff(attempts)),
                error,
                row["id"],
                row["status"],
                row["attempts"],
            ],
        )
    if cur.rowcount == 1:
        (report.given_up if status == "given_up" else report.failed)[row["dedup_key"]] = error


def _connect(settings: MailSettings, password: str) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout_s, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
    try:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.user:
            smtp.login(settings.user, password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        return f"{exc.smtp_code} {' '.join(text.split())}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    words = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {words}" if words else type(exc).__name__


def _refusal(exc: smtplib.SMTPRecipientsRefused) -> str:
    return "; ".join(
        f"recipient {addr} refused: {code} {' '.join(msg.decode('utf-8', 'replace').split())}"
        for addr, (code, msg) in exc.recipients.items()
    )


def _msgid_domain() -> str:
    """The right-hand side of Message-IDs: this host's name (no DNS lookup, unlike
    ``make_msgid()``'s default)."""
    name = re.sub(r"[^A-Za-z0-9.-]", "", socket.gethostname())
    return name or "painel"


# ---- pt-BR mails of the core --------------------------------------------------------------
def local_time(moment: datetime) -> str:
    """``01/12/2026 05:03``: São Paulo time, as a reader in Brazil reads it."""
    return moment.astimezone(ZoneInfo(TIMEZONE)).strftime("%d/%m/%Y %H:%M")


def html_document(title: str, body: str) -> str:
    """A whole pt-BR HTML mail around ``body`` (already HTML); ``title`` is escaped here."""
    return (
        '<!DOCTYPE html>\n<html lang="pt-BR">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n"
        '<body style="font-family: Arial, sans-serif; font-size: 14px; color: #1f2933">\n'
        f"{body}\n"
        '<p style="color: #616e7c; font-size: 12px">Mensagem automática do painel; '
        "não responda.</p>\n</body>\n</html>\n"
    )


def _facts_html(facts: list[tuple[str, str]]) -> str:
    rows = "".join(
        f'<tr><th style="text-align: left; padding-right: 12px">{html.escape(k)}</th>'
        f"<td>{html.escape(v)}</td></tr>"
        for k, v in facts
    )
    return f"<table>{rows}</table>"


def probe_mail(address: str, settings: MailSettings, now: datetime | None = None) -> Mail:
    """``painel mail test``: a short pt-BR message that proves the settings work."""
    when = local_time(now or utcnow())
    subject = "[painel] Mensagem de teste"
    lines = [
        "Esta é uma mensagem de teste do painel.",
        f"Enviada por {settings.server} em {when} (horário de Brasília).",
        "Se você a recebeu, o envio de e-mails está funcionando.",
    ]
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return Mail(
        to=address,
        subject=subject,
        text="\n\n".join(lines) + "\n\n-- \nMensagem automática do painel; não responda.\n",
        html=html_document(subject, body),
        kind="test",
    )


def run_failure_mail(run: Mapping[str, Any], address: str) -> Mail:
    """The pt-BR mail telling support that run ``run`` (a ``runs`` row) failed."""
    job, run_id = str(run["job"]), str(run["run_id"])
    finished = parse_iso(run["finished_at"]) if run["finished_at"] else utcnow()
    notebook = Path(str(run["notebook_out"]))
    kernel_log = notebook.with_suffix(".kernel.log")
    facts = [
        ("Job", job),
        ("Execução", run_id),
        ("Quando", f"{local_time(finished)} (horário de Brasília)"),
        ("Erro", str(run["error"] or "sem mensagem de erro")),
        ("Notebook executado", str(notebook)),
    ]
    if kernel_log.is_file():
        facts.append(("Log do kernel", str(kernel_log)))
    subject = f"[painel] Falha na execução do job {job}"
    intro = f"A execução {run_id} do job {job} falhou e nada foi publicado por ela."
    hint = f"Veja as execuções recentes com: painel runs {job}"
    width = max(len(k) for k, _ in facts)
    text = (
        f"{intro}\n\n"
        + "\n".join(f"{k + ':':<{width + 1}} {v}" for k, v in facts)
        + f"\n\n{hint}\n\n-- \nMensagem automática do painel; não responda.\n"
    )
    body = (
        f"<p>{html.escape(intro)}</p>\n{_facts_html(facts)}\n"
        f"<p>Veja as execuções recentes com: <code>painel runs {html.escape(job)}</code></p>"
    )
    return Mail(
        to=address, subject=subject, text=text, html=html_document(subject, body), kind="run.failed"
    )


def notify_run_failed(
    opstate: OpState,
    paths: Paths | None,
    run_id: str,
    *,
    deliver_now: bool = True,
    stream: IO[str] | None = None,
) -> list[str]:
    """Queue the failure mail of run ``run_id`` to every ``support`` address and, with
    ``deliver_now``, try to send those at once (at most :data:`FAILURE_MAIL_TIMEOUT_S` per
    SMTP step). Never raises: the job's own failure is what its caller reports, so a mail
    problem is one line on ``stream`` (stderr) and the mail waits in the outbox. Returns the
    dedup keys queued (none without support addresses)."""
    out = sys.stderr if stream is None else stream
    try:
        settings = load_settings(paths or Paths.from_env())
        if not settings.support:
            return []
        with opstate.connect() as con:
            row = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).fetchone()
        if row is None:
            return []
        keys = []
        for address in settings.support:
            key = f"run.failed:{run_id}:{address}"
            queue(opstate, run_failure_mail(row, address), key)
            keys.append(key)
        if deliver_now:
            quick = replace(settings, timeout_s=min(settings.timeout_s, FAILURE_MAIL_TIMEOUT_S))
            report = deliver(opstate, quick, keys=keys)
            if not report.ok:
                print(
                    f"painel: the failure mail to support is queued, not sent: {report.summary()}; "
                    "'painel mail send' retries it",
                    file=out,
                    flush=True,
                )
        return keys
    except Exception as exc:  # noqa: BLE001 - a mail problem never changes a run's outcome
        print(
            f"painel: could not mail support about run {run_id}: {type(exc).__name__}: {exc}",
            file=out,
            flush=True,
        )
        return []


__all__ = [
    "AddressError",
    "DeliveryReport",
    "Mail",
    "MailSettings",
    "MailSettingsError",
    "OutboxEntry",
    "Recipient",
    "build_message",
    "deliver",
    "html_document",
    "load_settings",
    "local_time",
    "notify_run_failed",
    "outbox",
    "probe_mail",
    "queue",
    "recipients",
    "run_failure_mail",
    "settings_from",
    "validate_address",
]
