"""Landing the daily school dump: real pyftpdlib servers (painel.school.ftpserver) on loopback.

Every network test has a deadline; ``stable_wait_s`` is 0.2 s so the file runs in seconds.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from painel.school.contract import zip_name
from painel.school.ftpserver import Served, serve
from painel.school.landing import (
    Landed,
    LandingError,
    SourceSettings,
    clean_parts,
    pending,
    prune,
)
from tls_testing import certificate

USER = "simade"
PASSWORD = "Pw-7q!x-s3cr3t"
ENV = {"SCHOOL_FTP_PASSWORD": PASSWORD}
WAIT = 0.2
D27, D28, D29, D30 = (date(2026, 11, d) for d in (27, 28, 29, 30))

pytestmark = pytest.mark.timeout(30)


# ---- helpers -------------------------------------------------------------------------------
def make_zip(path: Path, payload: bytes | None = None) -> Path:
    """A small valid dump (the content does not matter to landing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("escola.csv", f"CO_ENTIDADE;NO_ENTIDADE\r\n1;{path.name}\r\n")
        zf.writestr("calendario.csv", "NU_ANO_LETIVO;NU_BIMESTRE\r\n2026;4\r\n")
        if payload is not None:
            zf.writestr("frequencia_diaria.csv", payload, compress_type=zipfile.ZIP_STORED)
    return path


def dump(directory: Path, day: date, payload: bytes | None = None) -> Path:
    return make_zip(directory / zip_name(day), payload)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def settings(served: Served, **changes: object) -> SourceSettings:
    base = SourceSettings(
        kind="ftps" if served.tls else "ftp",
        host=served.host,
        port=served.port,
        user=USER,
        directory="/dumps",
        timeout_s=10.0,
        stable_wait_s=WAIT,
    )
    return replace(base, **changes)


def refused(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    """The LandingError message of ``call``; checks it is one line without the password."""
    with pytest.raises(LandingError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and PASSWORD not in message
    return message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def growing(path: Path, step: bytes = b"x" * 512, every_s: float = 0.02) -> Iterator[None]:
    """Append to ``path`` from a thread until the block ends (an upload in progress)."""
    stop = threading.Event()

    def grow() -> None:
        while not stop.is_set():
            with path.open("ab") as fh:
                fh.write(step)
            stop.wait(every_s)

    thread = threading.Thread(target=grow, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


# ---- fixtures ------------------------------------------------------------------------------
@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The FTP root: /dumps holds 27..30/11/2026 and files that are not dumps."""
    dumps = tmp_path / "ftp" / "dumps"
    for day in (D27, D28, D29, D30):
        dump(dumps, day)
    (dumps / "simade_20261130.truth.json").write_text("{}")
    (dumps / "simade_20261201.zip.part").write_bytes(b"PK\x03\x04 partial")
    (dumps / ".simade_20261201.zip").write_bytes(b"hidden")
    make_zip(dumps / "other_20261201.zip")
    make_zip(dumps / "simade_20261301.zip")  # not a date
    (dumps / "simade_20261202.zip").mkdir()  # a directory named like a dump
    return tmp_path / "ftp"


@pytest.fixture
def dumps(root: Path) -> Path:
    return root / "dumps"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "home" / "landing" / "school"


@pytest.fixture
def ftp(root: Path) -> Iterator[Served]:
    with serve(root, user=USER, password=PASSWORD) as served:
        yield served


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (cert + key PEM for the server, cert PEM)."""
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = certificate(folder, "painel test FTP")
    (folder / "server.pem").write_bytes(cert_file.read_bytes() + key_file.read_bytes())
    (folder / "ca.pem").write_bytes(cert_file.read_bytes())
    return folder / "server.pem", folder / "ca.pem"


@pytest.fixture
def ftps(root: Path, cert: tuple[Path, Path]) -> Iterator[Served]:
    with serve(root, user=USER, password=PASSWORD, tls_cert=cert[0]) as served:
        yield served


# ---- plain FTP -----------------------------------------------------------------------------
def check_landed(got: list[Landed], days: list[date], dumps: Path, landing: Path, url: str) -> None:
    assert [x.day for x in got] == days
    for x in got:
        assert x.path == landing / zip_name(x.day)
        assert x.path.read_bytes() == (dumps / x.path.name).read_bytes()
        assert x.size == x.path.stat().st_size
        assert x.sha256 == sha256(dumps / x.path.name)
        assert x.source == f"{url}/dumps/{x.path.name}"
    assert not list(landing.glob("*.part"))


def test_ftp_lands_every_new_dump_oldest_first(ftp: Served, dumps: Path, landing: Path) -> None:
    got = pending(settings(ftp), landing, D28, env=ENV)
    check_landed(got, [D29, D30], dumps, landing, ftp.url)
    assert sorted(p.name for p in landing.iterdir()) == [zip_name(D29), zip_name(D30)]
    assert sorted(ftp.retrieved) == [zip_name(D29), zip_name(D30)]  # nothing else fetched

    first = pending(settings(ftp), landing, None, env=ENV)  # nothing published yet: all
    check_landed(first, [D27, D28, D29, D30], dumps, landing, ftp.url)


def test_landed_dump_is_not_downloaded_again(ftp: Served, dumps: Path, landing: Path) -> None:
    pending(settings(ftp), landing, D29, env=ENV)
    mtime = (landing / zip_name(D30)).stat().st_mtime_ns
    again = pending(settings(ftp), landing, D29, env=ENV)
    assert [x.day for x in again] == [D30]
    assert again[0].sha256 == sha256(dumps / zip_name(D30))
    assert ftp.retrieved == [zip_name(D30)]  # one RETR over both calls
    assert (landing / zip_name(D30)).stat().st_mtime_ns == mtime

    (landing / zip_name(D30)).write_bytes(b"garbage of another size")  # damaged: fetched again
    third = pending(settings(ftp), landing, D29, env=ENV)
    assert ftp.retrieved == [zip_name(D30)] * 2
    assert third[0].path.read_bytes() == (dumps / zip_name(D30)).read_bytes()


def test_server_without_mlsd_is_listed_with_nlst_and_size(
    ftp: Served, dumps: Path, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ftplib

    def no_mlsd(self: ftplib.FTP, *args: object, **kwargs: object) -> None:
        raise ftplib.error_perm("500 Command not understood.")

    monkeypatch.setattr(ftplib.FTP, "mlsd", no_mlsd)
    got = pending(settings(ftp), landing, D28, env=ENV)
    check_landed(got, [D29, D30], dumps, landing, ftp.url)
    assert "NLST" in ftp.commands and "SIZE" in ftp.commands


def test_no_new_dump(ftp: Served, dumps: Path, landing: Path) -> None:
    where = f"{ftp.url}/dumps"
    message = refused(pending, settings(ftp), landing, D30, env=ENV)
    assert (
        message == f"no new dump at {where} (newest there: simade_20261130.zip, already published)"
    )
    message = refused(pending, settings(ftp), landing, date(2026, 12, 5), env=ENV)
    assert message.startswith(f"no new dump at {where} (newest there: simade_20261130.zip, older")
    for path in dumps.glob("simade_2026113*.zip"):
        path.unlink()
    for path in dumps.glob("simade_2026112*.zip"):
        path.unlink()
    assert refused(pending, settings(ftp), landing, None, env=ENV) == f"no dump at {where}"
    assert ftp.retrieved == []


def test_one_day_published_older_and_absent(ftp: Served, dumps: Path, landing: Path) -> None:
    s = settings(ftp)
    message = refused(pending, s, landing, D30, day=D30, env=ENV)
    assert message.startswith("dump of 30/11/2026 already published")
    assert [x.day for x in pending(s, landing, D30, day=D30, reload=True, env=ENV)] == [D30]

    message = refused(pending, s, landing, D30, day=D28, env=ENV)
    assert message.startswith("dump of 28/11/2026 is older than the one published (30/11/2026)")
    assert [x.day for x in pending(s, landing, D30, day=D28, allow_older=True, env=ENV)] == [D28]

    assert [x.day for x in pending(s, landing, D27, day=D29, env=ENV)] == [D29]  # only that one

    message = refused(pending, s, landing, D30, day=date(2026, 12, 1), env=ENV)
    assert message == (
        f"simade_20261201.zip not found at {ftp.url}/dumps (newest there: simade_20261130.zip)"
    )
    assert sorted(ftp.retrieved) == [zip_name(D28), zip_name(D29), zip_name(D30)]


# ---- files not ready -------------------------------------------------------------------------
def test_growing_file_is_skipped_and_the_previous_taken(
    ftp: Served, dumps: Path, landing: Path
) -> None:
    d1 = date(2026, 12, 1)
    upload = dumps / zip_name(d1)
    upload.write_bytes(b"PK\x03\x04")
    with growing(upload):
        got = pending(settings(ftp), landing, D28, env=ENV)
        assert [x.day for x in got] == [D29, D30]  # the newest complete one is the last
        message = refused(pending, settings(ftp), landing, D30, env=ENV)
        message_day = refused(pending, settings(ftp), landing, D30, day=d1, env=ENV)
    assert message.startswith(
        f"no new dump at {ftp.url}/dumps: still being uploaded: simade_20261201.zip (its size went"
    )
    assert message_day.startswith(
        f"dump of 01/12/2026 not taken from {ftp.url}/dumps: still being uploaded:"
    )
    assert zip_name(d1) not in ftp.retrieved
    assert not (landing / zip_name(d1)).exists()


def test_truncated_zip_is_skipped(ftp: Served, dumps: Path, landing: Path) -> None:
    d1 = date(2026, 12, 1)
    whole = dump(dumps, d1).read_bytes()
    cut = whole[: whole.index(b"PK\x01\x02")]  # local headers and data, no central directory
    (dumps / zip_name(d1)).write_bytes(cut)
    got = pending(settings(ftp), landing, D29, env=ENV)
    assert [x.day for x in got] == [D30]
    message = refused(pending, settings(ftp), landing, D30, env=ENV)
    assert message == (
        f"no new dump at {ftp.url}/dumps: not a complete zip: simade_20261201.zip "
        "(File is not a zip file)"
    )
    assert ftp.retrieved.count(zip_name(d1)) == 2  # downloaded, checked, dropped
    assert sorted(p.name for p in landing.iterdir()) == [zip_name(D30)]  # no NAME, no .part


@pytest.mark.timeout(40)
def test_killed_download_leaves_only_a_part_cleaned_next_time(
    root: Path, dumps: Path, landing: Path
) -> None:
    d1 = date(2026, 12, 1)
    big = dump(dumps, d1, payload=os.urandom(512 * 1024))
    child_code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from painel.school.landing import SourceSettings, pending\n"
        "s = SourceSettings(kind='ftp', host='127.0.0.1', port=int(sys.argv[1]), user=sys.argv[2],\n"
        "                   directory='/dumps', stable_wait_s=0, timeout_s=20)\n"
        "pending(s, Path(sys.argv[3]), None, day=__import__('datetime').date(2026, 12, 1))\n"
    )
    part = landing / (zip_name(d1) + ".part")
    with serve(root, user=USER, password=PASSWORD, rate_limit=64 * 1024) as slow:
        child = subprocess.Popen(
            [sys.executable, "-c", child_code, str(slow.port), USER, str(landing)],
            env={**os.environ, **ENV},
        )
        try:
            deadline = time.monotonic() + 15
            while not (part.exists() and part.stat().st_size > 0):
                assert child.poll() is None, "the download ended before it could be killed"
                assert time.monotonic() < deadline, "the download never started"
                time.sleep(0.02)
            assert clean_parts(landing) == []  # a live download's .part is left alone
            assert part.exists()
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
    assert 0 < part.stat().st_size < big.stat().st_size
    assert not (landing / zip_name(d1)).exists()  # never a truncated NAME

    with serve(root, user=USER, password=PASSWORD) as fast:
        got = pending(settings(fast), landing, D30, env=ENV)
    assert [x.day for x in got] == [d1]
    assert got[0].path.read_bytes() == big.read_bytes()
    assert sorted(p.name for p in landing.iterdir()) == [zip_name(d1)]


def test_connection_dropped_mid_download_leaves_nothing(
    root: Path, dumps: Path, landing: Path
) -> None:
    d1 = date(2026, 12, 1)
    dump(dumps, d1, payload=os.urandom(512 * 1024))
    part = landing / (zip_name(d1) + ".part")
    server = serve(root, user=USER, password=PASSWORD, rate_limit=64 * 1024)
    slow = server.__enter__()

    def drop() -> None:  # stop the server once the download has begun
        deadline = time.monotonic() + 15
        while not (part.exists() and part.stat().st_size > 0) and time.monotonic() < deadline:
            time.sleep(0.02)
        server.__exit__(None, None, None)

    thread = threading.Thread(target=drop, daemon=True)
    thread.start()
    try:
        message = refused(pending, settings(slow, stable_wait_s=0), landing, D30, env=ENV)
    finally:
        thread.join(20)
    assert message.startswith(f"FTP server 127.0.0.1:{slow.port} ")
    assert message.endswith(" while downloading simade_20261201.zip")
    assert list(landing.iterdir()) == []  # neither NAME nor NAME.part


# ---- FTPS ----------------------------------------------------------------------------------
def test_ftps_lands_with_the_certificate_checked(
    ftps: Served, cert: tuple[Path, Path], dumps: Path, landing: Path
) -> None:
    got = pending(settings(ftps, ca_file=str(cert[1])), landing, D28, env=ENV)
    check_landed(got, [D29, D30], dumps, landing, ftps.url)
    assert {"AUTH", "PBSZ", "PROT"} <= set(ftps.commands)


def test_ftps_refuses_an_unknown_certificate(ftps: Served, landing: Path) -> None:
    message = refused(pending, settings(ftps), landing, D28, env=ENV)  # system CAs only
    assert message.startswith(f"TLS failure with FTP server 127.0.0.1:{ftps.port} while starting")
    assert message.endswith("(AUTH TLS): certificate verify failed: self-signed certificate")
    assert "PASS" not in ftps.commands


def test_ftps_client_refuses_a_plain_server(ftp: Served, landing: Path) -> None:
    message = refused(pending, settings(ftp, kind="ftps"), landing, D28, env=ENV)
    assert message.startswith(f"FTP server 127.0.0.1:{ftp.port} does not offer TLS: AUTH TLS")
    assert "USER" not in ftp.commands and "PASS" not in ftp.commands  # nothing sent in clear


def test_tls_server_refuses_a_plain_client(ftps: Served, landing: Path) -> None:
    message = refused(pending, settings(ftps, kind="ftp"), landing, D28, env=ENV)
    assert message == (
        f"FTP login refused for user 'simade' at 127.0.0.1:{ftps.port}: "
        "550 SSL/TLS required on the control channel."
    )
    assert "PASS" not in ftps.commands


# ---- connection and login errors -------------------------------------------------------------
def test_login_refused(ftp: Served, landing: Path) -> None:
    wrong = {"SCHOOL_FTP_PASSWORD": "not-" + PASSWORD}
    message = refused(pending, settings(ftp), landing, D28, env=wrong)
    assert message.startswith(f"FTP login refused for user 'simade' at 127.0.0.1:{ftp.port}: 530")
    assert wrong["SCHOOL_FTP_PASSWORD"] not in message
    message = refused(pending, settings(ftp, user="nobody"), landing, D28, env=ENV)
    assert message.startswith(f"FTP login refused for user 'nobody' at 127.0.0.1:{ftp.port}")


def test_password_variable_missing(ftp: Served, landing: Path) -> None:
    message = refused(pending, settings(ftp), landing, D28, env={})
    assert message == (
        "environment variable SCHOOL_FTP_PASSWORD is not set (password of the FTP user 'simade')"
    )
    other = settings(ftp, password_env="SIMADE_FTP_PW")
    message = refused(pending, other, landing, D28, env=ENV)
    assert message.startswith("environment variable SIMADE_FTP_PW is not set")
    assert ftp.commands == []  # not even connected
    assert [x.day for x in pending(other, landing, D29, env={"SIMADE_FTP_PW": PASSWORD})] == [D30]


def test_server_down(landing: Path) -> None:
    port = free_port()
    s = SourceSettings(kind="ftp", host="127.0.0.1", port=port, user=USER, timeout_s=5)
    message = refused(pending, s, landing, None, env=ENV)
    assert message == f"FTP server 127.0.0.1:{port} unreachable: Connection refused"


def test_silent_server_times_out(landing: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        s = SourceSettings(kind="ftp", host="127.0.0.1", port=port, user=USER, timeout_s=0.5)
        message = refused(pending, s, landing, None, env=ENV)
    assert message == f"FTP server 127.0.0.1:{port} unreachable: no answer within 0.5 s"


def test_remote_directory_missing(ftp: Served, landing: Path) -> None:
    message = refused(pending, settings(ftp, directory="/nope"), landing, D28, env=ENV)
    assert message.startswith(f"remote directory /nope not found at 127.0.0.1:{ftp.port}")
    assert "(user 'simade'): 550" in message


def test_unknown_kind(landing: Path) -> None:
    message = refused(pending, SourceSettings(kind="sftp"), landing, None, env=ENV)
    assert message == "unknown source kind 'sftp' (ftp, ftps or local)"


# ---- local directory -------------------------------------------------------------------------
def test_local_directory_is_read_in_place(dumps: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    s = SourceSettings(kind="local", directory=str(dumps), stable_wait_s=WAIT)
    got = pending(s, landing, D28)
    assert [(x.day, x.path) for x in got] == [
        (D29, dumps / zip_name(D29)),
        (D30, dumps / zip_name(D30)),
    ]
    assert got[1].sha256 == sha256(dumps / zip_name(D30))
    assert got[1].source == str(dumps / zip_name(D30))
    assert not landing.exists()  # nothing copied

    d1, d2 = date(2026, 12, 1), date(2026, 12, 4)
    whole = make_zip(tmp_path / "whole.zip").read_bytes()
    (dumps / zip_name(d1)).write_bytes(whole[: whole.index(b"PK\x01\x02")])
    growing_path = dumps / "simade_20261205.zip"
    growing_path.write_bytes(b"PK\x03\x04")
    dump(dumps, d2)
    with growing(growing_path):
        got = pending(s, landing, D30)
        message = refused(pending, s, landing, d2)
    assert [x.day for x in got] == [d2]  # the broken one and the growing one skipped
    assert message.startswith(f"no new dump at {dumps}: still being uploaded: simade_20261205.zip")

    missing = SourceSettings(kind="local", directory=str(tmp_path / "none"))
    assert (
        refused(pending, missing, landing, None) == f"local directory {tmp_path / 'none'} not found"
    )


# ---- prune -----------------------------------------------------------------------------------
def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    days = [date(2026, 11, d) for d in range(20, 31)]
    for day in days:
        (landing / zip_name(day)).parent.mkdir(parents=True, exist_ok=True)
        (landing / zip_name(day)).write_bytes(b"zip")
    (landing / "notes.txt").write_text("kept")
    (landing / "simade_20261201.zip.part").write_bytes(b"stale")
    removed = prune(landing, keep=7)
    assert sorted(p.name for p in removed) == sorted(
        [zip_name(d) for d in days[:4]] + ["simade_20261201.zip.part"]
    )
    assert sorted(p.name for p in landing.iterdir()) == sorted(
        [zip_name(d) for d in days[4:]] + ["notes.txt"]
    )
    assert prune(landing) == []
    assert prune(tmp_path / "absent") == []
    with pytest.raises(ValueError):
        prune(landing, keep=0)
