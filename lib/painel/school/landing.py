"""Landing the daily SIMADE dump (``simade_AAAAMMDD.zip``) from an FTP/FTPS server or a directory.

The state's IT company uploads one zip a night by FTP. :func:`pending` lists the dumps at the
source, picks the ones the job has not published yet and lands each in ``landing_dir``
(``PAINEL_HOME/landing/school/``), safely:

- only names matching :data:`~painel.school.contract.ZIP_PATTERN` are dumps (``*.truth.json``,
  ``.part`` and hidden files are not);
- a file still being uploaded is not taken: its size must stay the same over
  ``stable_wait_s`` (two listings), and what was downloaded must be a complete zip (its central
  directory readable, no member past the end; the CRCs are checked as the job reads the members,
  and a landed copy found corrupt then is removed, to be downloaded again);
- a download goes to ``NAME.part`` (locked with ``flock`` while written, hashed on the way,
  fsynced, checked) and only then is renamed to ``NAME``: a failed or killed download never
  leaves a truncated ``NAME``, and the ``.part`` a killed one leaves is removed by the next
  call; a dump already landed whole is not downloaded again;
- ``kind="local"`` reads a directory in place under the same rules.

The client is the standard library's ``ftplib``: ``FTP``, or ``FTP_TLS`` with explicit TLS
(``AUTH TLS``), certificate checking and a protected data channel (``PROT P``). The password
comes from an environment variable only; it never appears in a message or a log line. Every
failure is a :class:`LandingError` with a one-line message naming the server, user or file.
"""

from __future__ import annotations

import contextlib
import fcntl
import ftplib
import hashlib
import logging
import os
import posixpath
import ssl
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from .contract import DATE_FORMAT, zip_date, zip_name

log = logging.getLogger(__name__)

KINDS = ("ftp", "ftps", "local")
PART = ".part"
BLOCK = 1 << 16
KEEP = 7  # landed dumps prune() keeps by default


class LandingError(Exception):
    """The dump could not be landed; the message is one line naming the host, user or file."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))  # server replies may span lines


@dataclass(frozen=True)
class SourceSettings:
    """Where the dumps are. The FTP password is read from ``password_env``, never passed."""

    kind: str  # "ftp", "ftps" or "local"
    host: str = ""  # ftp/ftps
    port: int = 21
    user: str = ""
    directory: str = "/"  # the remote directory, or the local one for kind="local"
    password_env: str = "SCHOOL_FTP_PASSWORD"
    timeout_s: float = 60.0  # per network operation (connect, each reply, each data block)
    stable_wait_s: float = 2.0  # a file must keep its size over this wait to be taken
    ca_file: str = ""  # ftps: PEM of the certificates to trust (default: the system's CAs)


@dataclass(frozen=True)
class Landed:
    day: date
    path: Path
    size: int
    sha256: str
    source: str  # e.g. "ftp://host:21/dir/simade_20261130.zip", or the local path


# ---- the sources -----------------------------------------------------------------------------
def _is_dump(name: str) -> bool:
    return not name.startswith(".") and zip_date(name) is not None


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _reply(err: BaseException) -> str:
    return str(err).strip() or type(err).__name__


def _not_understood(err: ftplib.Error) -> bool:
    return str(err)[:3] in ("500", "501", "502", "504")


class _LocalSource:
    def __init__(self, directory: str):
        self.dir = Path(directory).expanduser().absolute()
        self.where = str(self.dir)
        if not self.dir.is_dir():
            raise LandingError(f"local directory {self.dir} not found")

    def listing(self) -> dict[str, int]:
        found: dict[str, int] = {}
        try:
            with os.scandir(self.dir) as entries:
                for entry in entries:
                    if _is_dump(entry.name) and entry.is_file():
                        found[entry.name] = entry.stat().st_size
        except OSError as e:
            raise LandingError(f"cannot list {self.dir}: {e.strerror or e}") from None
        return found

    def locate(self, name: str) -> str:
        return str(self.dir / name)


class _FtpSource:
    """One logged-in FTP(S) session in the dumps' directory; a context manager."""

    def __init__(self, settings: SourceSettings, password: str):
        self.settings = settings
        self.tls = settings.kind == "ftps"
        self.addr = _hostport(settings.host, settings.port)
        self.dir = settings.directory or "/"
        scheme = "ftps" if self.tls else "ftp"
        self.where = f"{scheme}://{self.addr}{'' if self.dir.startswith('/') else '/'}{self.dir}"
        self._password = password
        self._mlsd = True
        self.ftp: ftplib.FTP | None = None

    # -- session
    def __enter__(self) -> _FtpSource:
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.ftp is None:
            return
        if self.ftp.sock is not None:  # connected: say goodbye, whatever the answer
            with contextlib.suppress(*ftplib.all_errors):
                self.ftp.quit()
        self.ftp.close()
        self.ftp = None

    def _open(self) -> None:
        s = self.settings
        if self.tls:
            context = ssl.create_default_context(cafile=s.ca_file or None)
            self.ftp = ftplib.FTP_TLS(context=context, timeout=s.timeout_s)
        else:
            self.ftp = ftplib.FTP(timeout=s.timeout_s)
        ftp = self.ftp
        try:
            ftp.connect(s.host, s.port)
        except TimeoutError:
            raise LandingError(
                f"FTP server {self.addr} unreachable: no answer within {s.timeout_s:g} s"
            ) from None
        except (OSError, EOFError, ftplib.Error) as e:
            why = getattr(e, "strerror", None) or _reply(e)
            raise LandingError(f"FTP server {self.addr} unreachable: {why}") from None
        if isinstance(ftp, ftplib.FTP_TLS):
            with self._step("starting TLS (AUTH TLS)"):
                try:
                    ftp.auth()
                except ftplib.error_perm as e:
                    raise LandingError(
                        f"FTP server {self.addr} does not offer TLS: AUTH TLS answered {_reply(e)}"
                    ) from None
        with self._step(f"logging in as {s.user!r}"):
            try:
                ftp.login(s.user, self._password)
            except ftplib.error_perm as e:
                raise LandingError(
                    f"FTP login refused for user {s.user!r} at {self.addr}: {_reply(e)}"
                ) from None
        if isinstance(ftp, ftplib.FTP_TLS):
            with self._step("protecting the data channel (PROT P)"):
                ftp.prot_p()
        with self._step(f"entering {self.dir}"):
            try:
                ftp.cwd(self.dir)
            except ftplib.error_perm as e:
                raise LandingError(
                    f"remote directory {self.dir} not found at {self.addr} "
                    f"(user {s.user!r}): {_reply(e)}"
                ) from None

    @contextlib.contextmanager
    def _step(self, doing: str) -> Iterator[None]:
        """Turns what ftplib, ssl and sockets raise into one-line LandingErrors."""
        at = f"FTP server {self.addr}"
        try:
            yield
        except LandingError:
            raise
        except TimeoutError:
            raise LandingError(
                f"{at} timed out ({self.settings.timeout_s:g} s) while {doing}"
            ) from None
        except ssl.SSLCertVerificationError as e:
            why = f"certificate verify failed: {e.verify_message}"
            raise LandingError(f"TLS failure with {at} while {doing}: {why}") from None
        except ssl.SSLError as e:
            why = e.reason or _reply(e)
            raise LandingError(f"TLS failure with {at} while {doing}: {why}") from None
        except EOFError:
            raise LandingError(f"{at} closed the connection while {doing}") from None
        except ftplib.Error as e:
            raise LandingError(f"{at} answered {_reply(e)} while {doing}") from None
        except OSError as e:
            raise LandingError(f"{at}: {e.strerror or _reply(e)} while {doing}") from None

    @property
    def _ftp(self) -> ftplib.FTP:
        if self.ftp is None:
            raise LandingError(f"FTP session with {self.addr} is closed")
        return self.ftp

    # -- listing and download
    def listing(self) -> dict[str, int]:
        with self._step(f"listing {self.dir}"):
            if self._mlsd:
                try:
                    return self._listing_mlsd()
                except ftplib.error_perm as e:
                    if not _not_understood(e):
                        raise
                    self._mlsd = False  # an older server (vsftpd...): NLST and SIZE
            return self._listing_nlst()

    def _listing_mlsd(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for name, facts in self._ftp.mlsd(facts=["type", "size"]):
            base = posixpath.basename(name)
            if facts.get("type", "file") == "file" and _is_dump(base) and "size" in facts:
                found[base] = int(facts["size"])
        return found

    def _listing_nlst(self) -> dict[str, int]:
        ftp = self._ftp
        try:
            names = [posixpath.basename(n) for n in ftp.nlst()]
        except (ftplib.error_perm, ftplib.error_temp) as e:
            if str(e)[:3] not in ("450", "550"):  # some servers answer so for an empty dir
                raise
            names = []
        ftp.voidcmd("TYPE I")  # SIZE counts bytes in binary mode
        found: dict[str, int] = {}
        for name in filter(_is_dump, names):
            try:
                size = ftp.size(name)
            except ftplib.error_perm:  # not a plain file
                continue
            if size is not None:
                found[name] = size
        return found

    def retrieve(self, name: str, write: Callable[[bytes], object]) -> None:
        with self._step(f"downloading {name}"):
            self._ftp.retrbinary(f"RETR {name}", write, blocksize=BLOCK)

    def locate(self, name: str) -> str:
        return f"{self.where.rstrip('/')}/{name}"


# ---- files -----------------------------------------------------------------------------------
def _zip_problem(path: Path) -> str | None:
    """Why ``path`` is not a complete zip, or None when it is: its central directory (at the
    end of the file) reads, so a truncated or half-uploaded file is not taken. The members'
    CRCs are checked as the job reads them, in the same pass (a corrupt landed copy is then
    removed, to be downloaded again)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as e:
        return str(e) or type(e).__name__
    except OSError as e:
        return e.strerror or str(e)
    size = path.stat().st_size
    late = [i.filename for i in infos if i.header_offset + i.compress_size > size]
    return f"member {late[0]} runs past the end of the file" if late else None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _try_lock(fh: BinaryIO) -> bool:
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def clean_parts(landing_dir: Path) -> list[Path]:
    """Remove the ``.part`` files killed downloads left; one a live process writes is kept."""
    removed: list[Path] = []
    for part in sorted(landing_dir.glob(f"simade_*.zip{PART}")):
        try:
            fh = part.open("rb")
        except FileNotFoundError:
            continue
        with fh:
            if _try_lock(fh):
                part.unlink(missing_ok=True)
                removed.append(part)
    return removed


def _download(src: _FtpSource, name: str, landing_dir: Path) -> tuple[int, str] | str:
    """Download ``name`` into ``landing_dir``: (size, sha256), or why it is not complete."""
    final, part = landing_dir / name, landing_dir / (name + PART)
    fh = os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT, 0o644), "wb")
    with fh:
        if not _try_lock(fh) or os.fstat(fh.fileno()).st_ino != _inode(part):
            raise LandingError(f"{part} is being written by another process")
        h = hashlib.sha256()
        size = 0

        def write(block: bytes) -> None:
            nonlocal size
            try:
                fh.write(block)
            except OSError as e:  # a local failure (disk full...), not the server's
                raise _io_error(name, e) from None
            h.update(block)
            size += len(block)

        try:
            fh.truncate(0)
            src.retrieve(name, write)
            fh.flush()
            os.fsync(fh.fileno())
            problem = _zip_problem(part)
            if problem:
                part.unlink()
                return problem
            os.replace(part, final)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    _fsync_dir(landing_dir)
    return size, h.hexdigest()


def _io_error(name: str, e: OSError) -> LandingError:
    where = f" ({e.filename})" if e.filename else ""
    return LandingError(f"{name}: {e.strerror or e}{where}")


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


# ---- choosing the dumps ----------------------------------------------------------------------
def _fmt(day: date) -> str:
    return day.strftime(DATE_FORMAT)


def _newest(listing: Mapping[str, int]) -> str:
    return max(listing, key=lambda n: zip_date(n) or date.min) if listing else ""


def _wanted(
    listing: Mapping[str, int],
    where: str,
    after: date | None,
    day: date | None,
    allow_older: bool,
    reload: bool,
) -> list[str]:
    """The dump names to take, oldest first (raises when there is none)."""
    newest = _newest(listing)
    if day is not None:
        if after is not None and day == after and not reload:
            raise LandingError(
                f"dump of {_fmt(day)} already published (run with -p reload=true to load it again)"
            )
        if after is not None and day < after and not allow_older:
            raise LandingError(
                f"dump of {_fmt(day)} is older than the one published ({_fmt(after)}); "
                "run with -p allow_older=true to load it"
            )
        name = zip_name(day)
        if name not in listing:
            there = f"newest there: {newest}" if newest else "no dump there"
            raise LandingError(f"{name} not found at {where} ({there})")
        return [name]
    names = sorted(listing, key=lambda n: zip_date(n) or date.min)
    taken = [n for n in names if after is None or (zip_date(n) or date.min) > after]
    if not taken:
        if not newest:
            raise LandingError(f"no dump at {where}")
        newest_day = zip_date(newest) or date.min
        state = (
            "already published"
            if newest_day == after
            else f"older than the one published, {_fmt(after or newest_day)}"
        )
        raise LandingError(f"no new dump at {where} (newest there: {newest}, {state})")
    return taken


def _unstable(first: Mapping[str, int], second: Mapping[str, int], wait_s: float) -> dict[str, str]:
    """Why each name whose size moved between the listings is skipped."""
    why: dict[str, str] = {}
    for name, size in first.items():
        if name not in second:
            why[name] = f"vanished: {name} (gone during the {wait_s:g} s wait)"
        elif second[name] != size:
            why[name] = (
                f"still being uploaded: {name} "
                f"(its size went from {size} to {second[name]} bytes in {wait_s:g} s)"
            )
    return why


def _land_one(
    src: _FtpSource | _LocalSource, name: str, size: int, landing_dir: Path
) -> Landed | str:
    """Land one stable dump: its Landed, or why it is skipped."""
    day = zip_date(name)
    assert day is not None
    if isinstance(src, _LocalSource):
        path = src.dir / name
        problem = _zip_problem(path)
        if problem:
            return f"not a complete zip: {name} ({problem})"
        return Landed(day, path, path.stat().st_size, sha256_file(path), src.locate(name))
    path = landing_dir / name
    if path.is_file() and path.stat().st_size == size and _zip_problem(path) is None:
        log.info("%s already landed in %s", name, landing_dir)
        return Landed(day, path, size, sha256_file(path), src.locate(name))
    got = _download(src, name, landing_dir)
    if isinstance(got, str):
        return f"not a complete zip: {name} ({got})"
    log.info("landed %s (%d bytes, sha256 %s)", src.locate(name), got[0], got[1])
    return Landed(day, path, got[0], got[1], src.locate(name))


def _password(settings: SourceSettings, env: Mapping[str, str]) -> str:
    password = env.get(settings.password_env, "")
    if not password:
        raise LandingError(
            f"environment variable {settings.password_env} is not set "
            f"(password of the FTP user {settings.user!r})"
        )
    return password


def _check(settings: SourceSettings) -> None:
    if settings.kind not in KINDS:
        raise LandingError(f"unknown source kind {settings.kind!r} (ftp, ftps or local)")
    if settings.kind == "local":
        return
    if not settings.host:
        raise LandingError(f"no host set for the {settings.kind} source of the school dump")
    if not settings.user:
        raise LandingError(f"no user set for the FTP server {settings.host}:{settings.port}")


@contextlib.contextmanager
def _open_source(
    settings: SourceSettings, env: Mapping[str, str]
) -> Iterator[_FtpSource | _LocalSource]:
    _check(settings)
    if settings.kind == "local":
        yield _LocalSource(settings.directory)
        return
    password = _password(settings, env)
    try:
        with _FtpSource(settings, password) as src:
            yield src
    except LandingError as e:  # belt and braces: no reply may ever echo the password
        if password in str(e):
            raise LandingError(str(e).replace(password, "***")) from None
        raise


def pending(
    settings: SourceSettings,
    landing_dir: Path,
    after: date | None,
    *,
    day: date | None = None,
    allow_older: bool = False,
    reload: bool = False,
    env: Mapping[str, str] = os.environ,
) -> list[Landed]:
    """Land the dumps to load, oldest first; the last one is the one to publish.

    ``after`` is the date of the dump currently published (None: none yet). Without ``day``,
    every complete dump dated after it; with ``day``, exactly that dump (``reload`` allows the
    published date again, ``allow_older`` an older one). Files still being uploaded are skipped;
    raises :class:`LandingError` when nothing is left to land.
    """
    landing_dir = Path(landing_dir)
    if settings.kind != "local":
        try:
            landing_dir.mkdir(parents=True, exist_ok=True)
            for part in clean_parts(landing_dir):
                log.info("removed %s, left by an interrupted download", part.name)
        except OSError as e:
            raise _io_error("landing directory", e) from None
    with _open_source(settings, env) as src:
        first = src.listing()
        names = _wanted(first, src.where, after, day, allow_older, reload)
        time.sleep(settings.stable_wait_s)
        sizes = {n: first[n] for n in names}
        skipped = _unstable(sizes, src.listing(), settings.stable_wait_s)
        landed: list[Landed] = []
        for name in names:
            try:
                got = skipped.get(name) or _land_one(src, name, sizes[name], landing_dir)
            except OSError as e:  # the source's own errors are LandingErrors already
                raise _io_error(name, e) from None
            if isinstance(got, str):
                skipped[name] = got
                log.warning("not taken from %s: %s", src.where, got)
            else:
                landed.append(got)
    if not landed:
        reasons = "; ".join(skipped[n] for n in names)
        prefix = f"dump of {_fmt(day)} not taken from" if day else "no new dump at"
        raise LandingError(f"{prefix} {src.where}: {reasons}")
    return landed


def prune(landing_dir: Path, keep: int = KEEP) -> list[Path]:
    """Remove the oldest landed dumps beyond ``keep`` (and stale ``.part`` files); the removed.

    Call it after the load: a run that found many dumps pending may still need them.
    """
    if keep < 1:
        raise ValueError("prune keeps at least one dump")
    landing_dir = Path(landing_dir)
    if not landing_dir.is_dir():
        return []
    removed = clean_parts(landing_dir)
    dumps = sorted((d, p) for p in landing_dir.iterdir() if (d := zip_date(p.name)) and p.is_file())
    for _, path in dumps[:-keep]:
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed
