"""The ``school`` job on the hand-written tiny dump (tests/school_tiny.py).

Every expected value below is worked out by hand from the rows written there — not with the
job's SQL — and the comments show the arithmetic.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

import school_tiny as tiny
from painel.school import contract
from painel.school.etl import job as school
from painel.school.etl import read
from painel.store import Store
from school_tiny import run_job

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAINEL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def dumps(tmp_path: Path) -> Path:
    folder = tmp_path / "dumps"
    folder.mkdir()
    return folder


def tiny_dump(dumps: Path, **kw: Any) -> Path:
    return tiny.write(dumps / contract.zip_name(tiny.D), **kw)


@pytest.fixture
def published(home: Path, dumps: Path) -> duckdb.DuckDBPyConnection:
    tiny_dump(dumps)
    run_job(home, dumps)
    con = Store(home / "store").connect("school")
    yield con
    con.close()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchall()[0][0]


def test_counts_by_hand(published: duckdb.DuckDBPyConnection) -> None:
    con = published
    # active escolarização: 1001-1005, 1007-1013, 1014-1018, 1019-1024, 1025, 1026 = 25
    # (1006 transferred out; 1027/1028 AEE; 1029/1030 closed with outcomes)
    assert one(con, "SELECT sum(ativas) FROM agg_matricula") == 25
    assert one(con, "SELECT sum(enturmadas) FROM agg_matricula") == 24  # 1026 has no turma
    by_group = dict(
        con.execute("SELECT grupo, sum(ativas) FROM agg_matricula GROUP BY 1").fetchall()
    )
    assert by_group == {"AI": 5, "EM": 7, "AF": 13}  # AF: T201 x5, 1025, T301 x6, 1026
    by_turno = dict(
        con.execute("SELECT turno, sum(ativas) FROM agg_matricula GROUP BY 1").fetchall()
    )
    assert by_turno == {"Manhã": 5, "Noite": 7, "Tarde": 6, "Integral": 6, "Sem turma": 1}
    # alunos por turma: 24 enturmadas / 4 escolarização turmas with students
    atu = one(
        con,
        "SELECT sum(ativos) / count(*) FROM turmas WHERE escolarizacao AND ativos > 0",
    )
    assert atu == 6.0
    # TDI: base 24 (1024 has no birth date); distorted 1008 (18 >= 15+2) and 1009 (20)
    assert one(con, "SELECT sum(base_tdi) FROM agg_matricula") == 24
    assert one(con, "SELECT sum(distorcidas) FROM agg_matricula") == 2


def test_attendance_by_hand(published: duckdb.DuckDBPyConnection) -> None:
    con = published
    freq = dict(con.execute("SELECT id_matricula, freq_pct FROM alunos WHERE aulas > 0").fetchall())
    # 40 classes a component; AI 8, EM 12, AF 9 components
    assert freq[1001] == pytest.approx(95.0)  # 2/40 in every component
    assert freq[1002] == pytest.approx(70.0)  # 12/40
    assert freq[1009] == pytest.approx(75.0)  # 10/40: exactly the minimum, not infrequente
    # 1008: 8 absences in 11 components, 45 (clipped to the 40 given) in MATEMATICA
    assert freq[1008] == pytest.approx(100 * (1 - (8 * 11 + 40) / 480))
    assert freq[1016] == pytest.approx(100.0)  # HISTORIA missing: 8 components, no absence
    assert 1018 not in freq and 1025 not in freq  # arrived after bimestre 1
    # infrequentes (< 75 %): 1002 70, 1005 50, 1008 73.3, 1015 72.5, 1022 0 -> 5 of 22
    assert one(con, "SELECT sum(infrequentes) FROM agg_matricula") == 5
    assert one(con, "SELECT sum(com_frequencia) FROM agg_matricula") == 22
    # em risco (absences > 7.5 %): 1002, 1004 (10 %), 1005, 1008, 1009, 1015, 1017 (15 %),
    # 1021 (22.5 %), 1022; not 1014 (exactly 7.5 %)
    assert one(con, "SELECT sum(em_risco) FROM agg_matricula") == 9
    # T101: absences (2+12+0+4+20) x 8 components of 5 x 320 classes
    assert one(con, "SELECT freq_pct FROM turmas WHERE id_turma = 101") == pytest.approx(
        100 * (1 - 38 * 8 / 1600)
    )


def test_grades_by_hand(published: duckdb.DuckDBPyConnection) -> None:
    con = published
    # points: AI 20x8+15x8+10x7+25x8+12.5x8 = 650 of 975; EM 216+144+168+(20x11+25)+192+228+228
    # = 1421 of 2100; T201 189+81+153+117 = 540 of 900; T301 198+144+99+216+180+135 = 972 of 1350
    state = one(con, "SELECT 100 * sum(soma_notas) / sum(soma_distribuidos) FROM agg_notas")
    assert state == pytest.approx(100 * 3583 / 5325)
    turmas = dict(con.execute("SELECT id_turma, aproveitamento_pct FROM turmas").fetchall())
    assert turmas[101] == pytest.approx(100 * 650 / 975)
    assert turmas[102] == pytest.approx(100 * 1421 / 2100)
    assert turmas[201] == pytest.approx(60.0)
    assert turmas[301] == pytest.approx(72.0)
    # below 60 % in a component (grade < 15 of 25): 1003, 1005, 1008, 1009, 1015, 1017, 1021;
    # 1002 and 1024 have exactly 15 (60 %)
    assert one(con, "SELECT sum(abaixo_media) FROM agg_matricula") == 7
    # at risk of failing: below average or infrequente: the 7 above plus 1002 and 1022
    assert one(con, "SELECT sum(risco_reprovacao) FROM agg_matricula") == 9


def test_outcomes_and_profile_by_hand(published: duckdb.DuckDBPyConnection) -> None:
    con = published
    row = con.execute(
        "SELECT sum(aprovados), sum(reprovados), sum(transferidos), sum(em_andamento), "
        "sum(matriculas) FROM agg_rendimento"
    ).fetchall()[0]
    assert row == (1, 1, 1, 25, 28)  # 1030 aprovada, 1029 reprovada, 1006 transferido
    sexo = dict(con.execute("SELECT sexo, sum(n) FROM agg_perfil GROUP BY 1").fetchall())
    assert sexo == {1: 12, 2: 12, 0: 1}  # João (1010) has no sex recorded
    assert one(con, "SELECT sum(n) FROM agg_perfil WHERE pcd") == 1  # Rui


EXPECTED_FINDINGS = {
    ("I1", "id_matricula", 1022),  # Téo: active in schools 21 and 12
    ("I1", "id_matricula", 1025),
    ("I2", "id_matricula", 1012),  # Luís: twice in school 11
    ("I2", "id_matricula", 1013),
    ("I3", "id_matricula", 1026),  # Wanda: no turma
    ("I4", "id_matricula", 1002),  # Bruno: 5 on 31/03 in the 1º ano (Davi, exactly 6, is not)
    ("I4", "id_matricula", 1009),  # Iara: 20 in the EM 1ª série (expected 15, + 5)
    ("I5", "id_turma", 201),  # 6 active, capacity 4
    ("I6", "id_turma", 201),  # ARTES without a teacher (the AEE turma has none: not a finding)
    ("I7", "id_matricula", 1003),  # ARTES grade of bimestre 1 missing
    ("I8", "id_matricula", 1016),  # HISTORIA attendance of bimestre 1 missing
    ("I9", "id_matricula", 1008),  # 45 absences in 40 classes
    ("I10", "id_matricula", 1010),  # 26 of 25 points
    ("I11", "co_pessoa_fisica", 310000000025),  # Yara: reprovada and aprovada
    ("I12", "id_matricula", 1010),  # no sex (Kátia's cor/raça 0 is valid)
    ("I12", "id_matricula", 1017),  # no municipality
    ("I12", "id_matricula", 1024),  # no birth date
    ("I13", "id_matricula", 1025),  # etapa 41 in a 6º ano turma
}


def findings(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str, int]]:
    out = set()
    for regra, mat, turma, pessoa in con.execute(
        "SELECT regra, id_matricula, id_turma, co_pessoa_fisica FROM inconsistencias"
    ).fetchall():
        if regra in ("I5", "I6") or (regra != "I11" and mat is None):
            out.add((regra, "id_turma", turma))
        elif regra == "I11":
            out.add((regra, "co_pessoa_fisica", pessoa))
        else:
            out.add((regra, "id_matricula", mat))
    return out


def test_every_rule_by_hand(published: duckdb.DuckDBPyConnection) -> None:
    con = published
    assert findings(con) == EXPECTED_FINDINGS
    assert one(con, "SELECT count(*) FROM inconsistencias") == len(EXPECTED_FINDINGS)
    detail = dict(
        con.execute(
            "SELECT regra || ':' || componente, bimestre FROM inconsistencias "
            "WHERE componente IS NOT NULL"
        ).fetchall()
    )
    assert detail == {
        "I6:ARTES": None,
        "I7:ARTES": 1,
        "I8:HISTORIA": 1,
        "I9:MATEMATICA": 1,
        "I10:MATEMATICA": 1,
    }
    # the school of I11 is the latest matrícula's (1030, school 12)
    assert one(con, "SELECT school_id FROM inconsistencias WHERE regra = 'I11'") == 31000012
    assert (
        one(con, "SELECT sre_id FROM inconsistencias WHERE id_turma = 201 AND regra = 'I5'") == 22
    )


def test_manifest_records_the_dump(home: Path, published: duckdb.DuckDBPyConnection) -> None:
    m = Store(home / "store").manifest("school")
    notes = m["notes"]
    assert notes["dump_date"] == "2026-05-20"
    assert notes["dump"] == "simade_20260520.zip"
    assert len(notes["dump_sha256"]) == 64
    assert notes["files"]["matricula.csv"]["rows"] == len(tiny.MATRICULAS)
    assert all(c["passed"] for c in m["checks"])
    names = {c["name"] for c in m["checks"]}
    assert "agg_matricula reconciles with alunos" in names and "no orphan rows" in names
    cargas = published.execute("SELECT arquivo, linhas FROM cargas ORDER BY 1").fetchall()
    assert ("aluno.csv", len(tiny.ALUNOS)) in cargas


def test_text_survives_cp1252(published: duckdb.DuckDBPyConnection) -> None:
    names = {r[0] for r in published.execute("SELECT nome FROM escolas").fetchall()}
    assert "E.E. Contagem – Centro" in names and "E.E. “Duque” de Caxias" in names
    assert one(published, "SELECT nome FROM estudantes WHERE id_matricula = 1001") == (
        "Ana “Aninha” Souza"
    )


# ---- bad rows: quarantined with file, line, reason and raw line ---------------------------
def _replace_line(file: str, n: int, fn: Callable[[list[str]], list[str]]) -> Callable:
    def edit(name: str, lines: list[str]) -> list[str]:
        if name == file:
            lines[n - 1] = ";".join(fn(lines[n - 1].split(";")))
        return lines

    return edit


@pytest.mark.parametrize(
    ("file", "line", "change", "reason", "place"),
    [
        (
            "aluno.csv",
            3,
            lambda f: f[:2] + ["31/02/2020"] + f[3:],
            "DT_NASCIMENTO: 31/02/2020 is not a valid dd/mm/yyyy date",
            None,  # a student's record names no school: the central office's
        ),
        (
            "nota.csv",
            2,
            lambda f: f[:4] + ["20.0"] + f[5:],
            "VL_NOTA: 20.0 is not a number with a decimal comma",
            ("matricula", 0),
        ),
        (
            "turma.csv",
            2,
            lambda f: f[:4] + ["99"] + f[5:],
            "TP_ETAPA_ENSINO 99 is not a code of its table",
            ("school", 1),
        ),
        (
            "escola.csv",
            3,
            lambda f: ["31000011"] + f[1:],
            "duplicate key CO_ENTIDADE = 31000011 (first at line 2)",
            ("school", 0),
        ),
        (
            "matricula.csv",
            2,
            lambda f: f[:1] + ["310000000999"] + f[2:],
            "CO_PESSOA_FISICA 310000000999 not in aluno.csv",
            ("school", 3),
        ),
    ],
)
def test_bad_row_goes_to_quarantine(
    home: Path,
    dumps: Path,
    file: str,
    line: int,
    change: Callable,
    reason: str,
    place: tuple[str, int] | None,
) -> None:
    tiny_dump(dumps, edit=_replace_line(file, line, change))
    run_job(home, dumps, max_quarantine_share=1.0)
    con = Store(home / "store").connect("school")
    rows = con.execute(
        "SELECT arquivo, linha, motivo, linha_original, school_id, sre_id FROM quarentena"
    ).fetchall()
    first = [r for r in rows if r[0] == file]
    assert first and first[0][1] == line and first[0][2] == reason
    fields = first[0][3].split(";")
    assert fields[0]  # the raw line as it was in the file
    # the school (and SRE) the line names, so its school's and SRE's users see it
    school_id = sre_id = None
    if place:
        kind, i = place
        school_id = (
            int(fields[i])
            if kind == "school"
            else con.execute(
                "SELECT school_id FROM alunos WHERE id_matricula = ?", [int(fields[i])]
            ).fetchall()[0][0]
        )
        sre_id = con.execute(
            "SELECT sre_id FROM escolas WHERE school_id = ?", [school_id]
        ).fetchall()[0][0]
    assert first[0][4:] == (school_id, sre_id)
    con.close()


def test_too_many_bad_rows_publish_nothing(home: Path, dumps: Path) -> None:
    tiny_dump(dumps)
    first = run_job(home, dumps)
    for old in dumps.iterdir():
        old.unlink()
    day2 = tiny.D.replace(day=21)
    tiny.write(
        dumps / contract.zip_name(day2),
        edit=_replace_line("aluno.csv", 3, lambda f: f[:2] + ["31/02/2020"] + f[3:]),
    )
    with pytest.raises(
        school.SchoolJobError,
        match=r"aluno\.csv: 1 of 25 rows are bad \(4\.00%, over the 0\.5% limit\); first: line 3: DT_NASCIMENTO",
    ):
        run_job(home, dumps)
    assert Store(home / "store").current_version("school") == first


@pytest.mark.parametrize(
    ("how", "message"),
    [
        (dict(omit=("matricula.csv",)), "simade_20260520.zip: file matricula.csv missing"),
        (
            dict(
                edit=lambda n, ls: (
                    [ls[0].replace("DT_MATRICULA", "DATA_MATRICULA")] + ls[1:]
                    if n == "matricula.csv"
                    else ls
                )
            ),
            "simade_20260520.zip: matricula.csv: column DT_MATRICULA missing (the header has DATA_MATRICULA)",
        ),
        (
            dict(edit=lambda n, ls: [x.replace(";", ",") for x in ls] if n == "turma.csv" else ls),
            "simade_20260520.zip: turma.csv: wrong delimiter ',' (expected ';')",
        ),
    ],
)
def test_structural_fault_fails_in_one_line(
    home: Path, dumps: Path, how: dict, message: str
) -> None:
    tiny_dump(dumps, **how)
    with pytest.raises(school.SchoolJobError) as err:
        run_job(home, dumps)
    assert str(err.value) == message
    assert Store(home / "store").current_version("school") is None


def test_utf8_dump_is_refused(home: Path, dumps: Path) -> None:
    path = tiny_dump(dumps)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data.decode("cp1252").encode("utf-8") if n == "escola.csv" else data)
    with pytest.raises(school.SchoolJobError, match=r"escola\.csv: encoded as UTF-8, not cp1252"):
        run_job(home, dumps)


def test_crc_error_and_not_a_zip(home: Path, dumps: Path) -> None:
    path = tiny_dump(dumps)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("escola.csv")
    # flip a byte inside escola.csv's stored data (deflated): CRC or inflate error
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 5
    data[start] ^= 0xFF
    path.write_bytes(bytes(data))
    # the job checks the CRCs as it reads the members: the run fails naming the member
    with pytest.raises(
        school.SchoolJobError, match=r"^simade_20260520\.zip: escola\.csv: corrupt \("
    ):
        run_job(home, dumps)
    assert Store(home / "store").current_version("school") is None
    # and the reader names the member if one reaches it
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS raw")
    with pytest.raises(read.DumpFault, match=r"^simade_20260520\.zip: escola\.csv: corrupt"):
        read.read_dump(con, "raw", path, dumps / "scratch")
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(read.DumpFault, match=r"^simade_20260520\.zip: not a zip file$"):
        read.read_dump(con, "raw", path, dumps / "scratch")


def test_a_corrupt_download_is_landed_again_next_run(
    home: Path, dumps: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A zip whose central directory reads but whose member does not (a CRC error found by the
    load) is removed from the landing, so the next run downloads it again."""
    from painel.school.ftpserver import serve

    good = tiny_dump(dumps).read_bytes()
    data = bytearray(good)
    with zipfile.ZipFile(dumps / contract.zip_name(tiny.D)) as zf:
        info = zf.getinfo("matricula.csv")
    data[info.header_offset + 30 + len(info.filename) + len(info.extra) + 5] ^= 0xFF
    (dumps / contract.zip_name(tiny.D)).write_bytes(bytes(data))
    monkeypatch.setenv("SCHOOL_FTP_PASSWORD", "senha")
    landed = home / "landing" / "school" / contract.zip_name(tiny.D)
    with serve(dumps, user="simade", password="senha") as ftp:
        params = {
            "source": "ftp",
            "ftp_host": "127.0.0.1",
            "ftp_port": ftp.port,
            "ftp_user": "simade",
            "directory": "/",
            "timeout_s": 10,
        }
        with pytest.raises(school.SchoolJobError, match=r"matricula\.csv: corrupt \("):
            run_job(home, dumps, **params)
        assert not landed.exists()
        assert Store(home / "store").current_version("school") is None
        (dumps / contract.zip_name(tiny.D)).write_bytes(good)  # the server's copy, mended
        assert run_job(home, dumps, **params)
    assert landed.read_bytes() == good


# ---- history: days without presence across dumps (I14) -----------------------------------
def test_days_without_presence_count_every_dump(home: Path, dumps: Path) -> None:
    """16 school days (27/04-19/05), each in the next day's dump; the job, run once, reads
    the daily file of all of them. Úrsula (1023) never came: 16 days; Rui (1021) came only on
    the first day: 15; Sara (1019) came on the first two: 14, one short of the 15."""
    assert len(tiny.write_history(dumps)) == 16
    run_job(home, dumps)
    con = Store(home / "store").connect("school")
    sem = dict(
        con.execute(
            "SELECT id_matricula, dias_sem_presenca FROM alunos WHERE dias_sem_presenca > 0"
        ).fetchall()
    )
    assert sem == {1023: 16, 1021: 15, 1019: 14}
    i14 = {
        r[0]
        for r in con.execute(
            "SELECT id_matricula FROM inconsistencias WHERE regra = 'I14'"
        ).fetchall()
    }
    assert i14 == {1021, 1023}
    last = dict(con.execute("SELECT id_matricula, ultima_presenca FROM presenca").fetchall())
    assert last[1021] == date(2026, 4, 27) and last[1023] is None
    assert one(con, "SELECT count(*) FROM dias_letivos WHERE school_id = 31000021") == 16
    con.close()


def test_history_carries_over_to_the_next_day(home: Path, dumps: Path) -> None:
    """Day by day: each run reads one daily file and keeps the history in the version."""
    days = tiny.school_days(date(2026, 4, 27), date(2026, 5, 19))
    for i, school_day in enumerate(days):
        dump_day = days[i + 1] if i + 1 < len(days) else tiny.D
        tiny.write(
            dumps / contract.zip_name(dump_day),
            absent={1023},
            daily_day=school_day.strftime("%d/%m/%Y"),
        )
        if i in (0, 7, 15):  # a run on the first, the eighth and the last day
            run_job(home, dumps)
    con = Store(home / "store").connect("school")
    assert one(con, "SELECT dias_sem_presenca FROM alunos WHERE id_matricula = 1023") == 16
    assert one(con, "SELECT count(DISTINCT data_ref) FROM serie_diaria") == 3
    assert one(con, "SELECT count(*) FROM cargas WHERE completa") == 3 * 9
    con.close()


def test_same_dump_again_is_not_loaded(home: Path, dumps: Path) -> None:
    tiny_dump(dumps)
    version = run_job(home, dumps)
    with pytest.raises(school.SchoolJobError, match=r"no new dump .*already published"):
        run_job(home, dumps)
    with pytest.raises(school.SchoolJobError, match=r"already published \(run with -p reload=true"):
        run_job(home, dumps, dump_date="2026-05-20")
    assert Store(home / "store").current_version("school") == version
    assert run_job(home, dumps, dump_date="2026-05-20", reload=True) != version


def test_volume_change_is_held(home: Path, dumps: Path) -> None:
    tiny_dump(dumps)
    first = run_job(home, dumps)
    day2 = tiny.D + timedelta(days=1)

    def fewer_grades(name: str, lines: list[str]) -> list[str]:
        return lines[: len(lines) * 3 // 4] if name == "nota.csv" else lines

    tiny.write(dumps / contract.zip_name(day2), edit=fewer_grades)
    with pytest.raises(
        school.SchoolJobError,
        match=r"simade_20260521\.zip: nota\.csv has \d+ rows against \d+ in the published dump "
        r"of 20/05/2026 \(-2\d\.\d%, over 10%\): held; run with -p accept_volume_change=true",
    ):
        run_job(home, dumps, volume_min_rows=1)
    assert Store(home / "store").current_version("school") == first
    assert run_job(home, dumps, volume_min_rows=1, accept_volume_change=True) != first
