"""The CLI commands not covered elsewhere, driven as an operator would."""

from __future__ import annotations

from pathlib import Path

import pytest

from painel.auth import Users
from painel.opstate import OpState
from painel_testing import painel

pytestmark = [pytest.mark.timeout(180)]


def test_user_lifecycle(tmp_path: Path) -> None:
    home = tmp_path / "home"
    out = painel(
        home,
        "users",
        "add",
        "maria",
        "--role",
        "school_sre",
        "--grant",
        "school:sre:12",
        "--grant",
        "school:school:31000001",
        "--display-name",
        "Maria",
        "--password-stdin",
        stdin="first-pass-123\n",
    ).stdout
    assert "maria added with role school_sre" in out
    listing = painel(home, "users", "list").stdout
    line = next(ln for ln in listing.splitlines() if ln.startswith("maria"))
    assert (
        "school_sre" in line
        and "active" in line
        and "school:sre:12" in line
        and "school:school:31000001" in line
    )

    users = Users(OpState(home / "painel.sqlite"))
    assert users.authenticate("maria", "first-pass-123") is not None
    painel(home, "users", "passwd", "maria", "--password-stdin", stdin="second-pass-456\n")
    assert users.authenticate("maria", "first-pass-123") is None
    assert users.authenticate("maria", "second-pass-456") is not None

    painel(home, "users", "grant", "maria", "school:sre:13")
    painel(home, "users", "revoke", "maria", "school:sre:12")
    grants = {str(g) for g in users.viewer("maria").grants}
    assert grants == {"school:sre:13", "school:school:31000001"}

    painel(home, "users", "disable", "maria")
    assert "disabled" in next(
        ln for ln in painel(home, "users", "list").stdout.splitlines() if ln.startswith("maria")
    )
    assert users.authenticate("maria", "second-pass-456") is None
    painel(home, "users", "enable", "maria")
    assert users.authenticate("maria", "second-pass-456") is not None


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["users", "add", "x.y", "--role", "chief", "--password-stdin"],
            "long-enough-pass\n",
            "invalid choice: 'chief'",
        ),
        (
            [
                "users",
                "add",
                "x.y",
                "--role",
                "school_sre",
                "--grant",
                "school:12",
                "--password-stdin",
            ],
            "long-enough-pass\n",
            "grant 'school:12'",
        ),
        (
            ["users", "add", "x.y", "--role", "school_sre", "--password-stdin"],
            "short\n",
            "password too short",
        ),
        (
            ["users", "add", "Bad Name", "--role", "school_sre", "--password-stdin"],
            "long-enough-pass\n",
            "invalid username",
        ),
        (["users", "add", "x.y", "--role", "school_sre"], "", "use --password-stdin"),
        (
            ["users", "passwd", "ghost", "--password-stdin"],
            "long-enough-pass\n",
            "no such user 'ghost'",
        ),
        (["users", "disable", "ghost"], None, "no such user 'ghost'"),
    ],
)
def test_user_commands_reject_bad_input(
    tmp_path: Path, args: list[str], stdin: str | None, message: str
) -> None:
    proc = painel(tmp_path / "home", *args, stdin=stdin, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_etl_list_shows_jobs_schedules_and_parameters(tmp_path: Path) -> None:
    out = painel(tmp_path / "home", "etl", "list").stdout
    assert "school  [cron '0 5 * * *' (America/Sao_Paulo)]" in out
    assert "dias_busca_ativa: int = 15" in out and "source: str = 'local'" in out


def test_help_texts_describe_the_commands(tmp_path: Path) -> None:
    top = painel(tmp_path / "home", "--help").stdout
    for command in ("etl", "runs", "store", "schedule", "serve", "users", "demo"):
        assert command in top
    assert "--password-stdin" in painel(tmp_path / "home", "users", "add", "--help").stdout
    assert "--once" in painel(tmp_path / "home", "schedule", "--help").stdout
    assert "rollback" in painel(tmp_path / "home", "store", "--help").stdout


def test_demo_logins_match_the_demo_users(tmp_path: Path) -> None:
    home = tmp_path / "home"
    painel(home, "demo", "prepare", "--no-data")
    users = Users(OpState(home / "painel.sqlite"))
    for line in painel(home, "demo", "logins").stdout.splitlines()[1:]:
        name, password = line.split()[:2]
        assert users.authenticate(name, password) is not None, name
    # the accounts the demo mails (procurement digests) have their catcher addresses
    from painel.demos import users as demo_users

    addresses = {u["username"]: u["email"] for u in users.list()}
    wanted = {u.username: u.email for u in demo_users() if u.email}
    assert wanted and {k: addresses[k] for k in wanted} == wanted
