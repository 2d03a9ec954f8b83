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


def test_audit_lists_the_command_lines_changes_and_keeps_them(tmp_path: Path) -> None:
    import json

    home = tmp_path / "home"
    add = painel(
        home,
        "users",
        "add",
        "maria",
        "--role",
        "school_sre",
        "--grant",
        "school:sre:12",
        "--password-stdin",
        stdin="uma senha longa\n",
    )
    assert add.returncode == 0, add.stderr
    assert painel(home, "users", "grant", "maria", "school:sre:13").returncode == 0
    listed = painel(home, "audit", "list", "--action", "grant", "--json")
    [entry] = json.loads(listed.stdout)
    assert entry["target"] == "maria" and entry["detail"] == {"acessos": ["school:sre:13"]}
    assert entry["actor"].startswith("cli:")
    text = painel(home, "audit", "list", "--user", entry["actor"]).stdout
    assert "user_added" in text and "grant" in text and "maria" in text
    assert painel(home, "audit", "list", "--action", "coffee", check=False).returncode != 0
    bad = painel(home, "audit", "retention", "7", check=False)
    assert bad.returncode != 0 and "at least 30 days" in bad.stderr
    assert "keeps its entries 400 days" in painel(home, "audit", "retention", "400").stdout
    assert "0 audit entries older than 400 days deleted" in painel(home, "audit", "purge").stdout
    # the entries stay (nothing is that old), the retention change among them
    got = json.loads(painel(home, "audit", "list", "--json").stdout)
    assert [e["action"] for e in got] == ["retention", "grant", "user_added"]


def test_users_import_dry_run_then_import_then_a_rejected_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    csv = tmp_path / "pessoas.csv"
    csv.write_text(
        "email;nome;papel;acessos\n"
        "maria@educacao.mg.gov.br;Maria;school_sre;school:sre:12\n"
        "jose@educacao.mg.gov.br;José;school_central;school:*\n",
        encoding="utf-8",
    )
    dry = painel(home, "users", "import", str(csv), "--dry-run")
    assert "add maria@educacao.mg.gov.br" in dry.stdout
    assert "pessoas.csv: 2 added, 0 changed, 0 unchanged, 0 rejected (dry run" in dry.stdout
    assert "maria@" not in painel(home, "users", "list").stdout
    done = painel(home, "users", "import", str(csv))
    assert (
        "2 added" in done.stdout
        and "maria@educacao.mg.gov.br" in painel(home, "users", "list").stdout
    )
    again = painel(home, "users", "import", str(csv))
    assert "0 added, 0 changed, 2 unchanged, 0 rejected" in again.stdout
    csv.write_text(csv.read_text(encoding="utf-8") + "ruim;Ruim;school_sre;*\n", encoding="utf-8")
    bad = painel(home, "users", "import", str(csv), check=False)
    assert bad.returncode == 1
    assert f"{csv}:4: rejected: email:" in bad.stderr
    assert "1 line(s) rejected; the other lines were imported" in bad.stderr
    missing = painel(home, "users", "import", str(tmp_path / "nada.csv"), check=False)
    assert missing.returncode == 2 and "nada.csv: no such file" in missing.stderr
