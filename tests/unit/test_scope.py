"""The scoped query layer (painel.scope) against real, published DuckDB versions.

Every test builds a small dataset with ``Store.build(...).publish()`` in a temporary store
and reads it back through ``ScopedDataset`` as different viewers.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from painel.auth import Grant, UnknownRole, Viewer
from painel.dash import ui
from painel.runctx import RunContext
from painel.scope import ScopedDataset
from painel.store import Store

DS = "school"
SCOPE = {"regional": "regional_id", "school": "school_id"}

# (regional_id, school_id, students)
ENROLMENT = [
    (1, 1001, 10),
    (1, 1002, 20),
    (2, 2001, 30),
    (2, 2002, 40),
    (3, 3001, 50),
    (10, 10001, 60),
]
REGIONS = [(1, "Norte"), (2, "Sul"), (3, "Leste"), (10, "Oeste")]
# a table scoped by a VARCHAR column
UNITS = [("A1", 1), ("B2", 2), ("O'Brien", 3)]


def publish(store: Store, dataset: str = DS, enrolment=ENROLMENT, extra_tables=None) -> str:
    tables = {"enrolment": SCOPE, "regions": "public", "units": {"unit": "unit_code"}}
    tables.update(extra_tables or {})
    build = store.build(dataset, tables, run=RunContext(run_id="test-run", job="test"))
    con = build.con
    con.execute("CREATE TABLE enrolment (regional_id INTEGER, school_id BIGINT, students INTEGER)")
    con.executemany("INSERT INTO enrolment VALUES (?, ?, ?)", enrolment)
    con.execute("CREATE TABLE regions (regional_id INTEGER, name VARCHAR)")
    con.executemany("INSERT INTO regions VALUES (?, ?)", REGIONS)
    con.execute("CREATE TABLE units (unit_code VARCHAR, value INTEGER)")
    con.executemany("INSERT INTO units VALUES (?, ?)", UNITS)
    for table in extra_tables or {}:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM enrolment")
    return build.publish()


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "store")
    publish(s)
    return s


def viewer(role: str = "school_sre", *grants: str) -> Viewer:
    return Viewer("someone", role, frozenset(Grant.parse(g) for g in grants))


def raw_viewer(role: str, *grants: Grant) -> Viewer:
    """A viewer holding grants built directly (bypassing Grant.parse validation)."""
    return Viewer("someone", role, frozenset(grants))


def regionals(ds: ScopedDataset) -> list[int]:
    return sorted(ds.sql("SELECT regional_id FROM enrolment")["regional_id"].tolist())


def schools(ds: ScopedDataset) -> list[int]:
    return sorted(ds.sql("SELECT school_id FROM enrolment")["school_id"].tolist())


def count(ds: ScopedDataset, table: str) -> int:
    return int(ds.sql(f"SELECT count(*) AS n FROM {table}")["n"][0])


@pytest.fixture
def opened():
    handles: list[ScopedDataset] = []

    def _open(v: Viewer, store: Store, dataset: str = DS) -> ScopedDataset:
        ds = ScopedDataset(v, dataset, store)
        handles.append(ds)
        return ds

    yield _open
    for ds in handles:
        ds.close()


# ---- who sees what ------------------------------------------------------------------------
def test_admin_sees_every_row(store, opened):
    ds = opened(viewer("admin"), store)
    assert schools(ds) == sorted(s for _, s, _ in ENROLMENT)
    assert count(ds, "units") == len(UNITS)


def test_dataset_wildcard_grant_sees_every_row_of_that_dataset(store, opened):
    ds = opened(viewer("school_sre", f"{DS}:*"), store)
    assert schools(ds) == sorted(s for _, s, _ in ENROLMENT)
    assert count(ds, "units") == len(UNITS)


def test_global_wildcard_grant_sees_every_row(store, opened):
    ds = opened(viewer("analyst", "*"), store)
    assert count(ds, "enrolment") == len(ENROLMENT)


def test_regional_grant_sees_only_that_regional(store, opened):
    ds = opened(viewer("school_sre", f"{DS}:regional:1"), store)
    assert regionals(ds) == [1, 1]
    assert schools(ds) == [1001, 1002]
    # filtering is in the view: aggregates only ever see the granted rows
    total = ds.sql("SELECT sum(students) AS s FROM enrolment")["s"][0]
    assert total == 30


def test_regional_and_school_grants_are_ored(store, opened):
    ds = opened(viewer("school_sre", f"{DS}:regional:1", f"{DS}:school:3001"), store)
    assert schools(ds) == [1001, 1002, 3001]


def test_two_regional_grants(store, opened):
    ds = opened(viewer("school_sre", f"{DS}:regional:1", f"{DS}:regional:2"), store)
    assert schools(ds) == [1001, 1002, 2001, 2002]


def test_no_grant_sees_zero_rows_without_error(store, opened):
    ds = opened(viewer("school_sre"), store)
    df = ds.sql("SELECT * FROM enrolment")
    assert len(df) == 0
    assert list(df.columns) == ["regional_id", "school_id", "students"]
    assert count(ds, "units") == 0


def test_public_table_is_visible_without_grant(store, opened):
    ds = opened(viewer("school_sre"), store)
    assert count(ds, "regions") == len(REGIONS)


def test_grant_on_another_dataset_sees_zero_rows(store, opened):
    ds = opened(viewer("school_sre", "other:regional:1", "other:*"), store)
    assert count(ds, "enrolment") == 0
    assert count(ds, "units") == 0


def test_grant_kind_unknown_to_the_table_sees_zero_rows(store, opened):
    # 'unit' is a kind of the units table, not of enrolment; 'class' of neither
    ds = opened(viewer("school_sre", f"{DS}:class:1", f"{DS}:unit:1"), store)
    assert count(ds, "enrolment") == 0


def test_non_numeric_id_against_integer_column_sees_zero_rows(store, opened):
    ds = opened(viewer("school_sre", f"{DS}:regional:abc"), store)
    assert count(ds, "enrolment") == 0


def test_non_numeric_id_does_not_hide_the_other_grants(store, opened):
    ds = opened(viewer("school_sre", f"{DS}:regional:abc", f"{DS}:regional:2"), store)
    assert schools(ds) == [2001, 2002]


def test_varchar_scope_matches_ids_exactly(store, opened):
    ds = opened(viewer("school_sre", f"{DS}:unit:B2"), store)
    assert ds.sql("SELECT unit_code FROM units")["unit_code"].tolist() == ["B2"]


@pytest.mark.parametrize(
    "evil",
    [
        "x' OR '1'='1",
        "x') OR TRUE OR ('",
        "'; DROP VIEW units; --",
    ],
)
def test_quote_in_id_against_varchar_column_is_not_sql_injection(store, opened, evil):
    # Grant.parse refuses such ids; the query layer must be safe even if one gets through.
    with pytest.raises(Exception, match="id must be"):
        Grant.parse(f"{DS}:unit:{evil}")
    ds = opened(raw_viewer("school_sre", Grant(DS, "unit", evil)), store)
    assert count(ds, "units") == 0
    assert count(ds, "enrolment") == 0


def test_quote_in_id_is_matched_literally(store, opened):
    ds = opened(raw_viewer("school_sre", Grant(DS, "unit", "O'Brien")), store)
    assert ds.sql("SELECT unit_code FROM units")["unit_code"].tolist() == ["O'Brien"]


@pytest.mark.parametrize("evil", ["1 OR 1=1", "1) OR (TRUE", "0; SELECT 1"])
def test_injection_against_integer_column_sees_zero_rows(store, opened, evil):
    ds = opened(raw_viewer("school_sre", Grant(DS, "regional", evil)), store)
    assert count(ds, "enrolment") == 0


def test_integer_id_with_underscore_is_not_read_as_another_number(store, opened):
    """BUG: int('1_0') == 10 in Python, so grant 'school:regional:1_0' (a valid grant) sees
    regional 10's rows. The grant id must match the column value, not a Python literal."""
    ds = opened(viewer("school_sre", f"{DS}:regional:1_0"), store)
    assert count(ds, "enrolment") == 0


def test_huge_numeric_id_against_integer_column_sees_zero_rows_without_error(store, opened):
    """BUG: a valid grant whose numeric id exceeds HUGEINT (up to 64 digits pass Grant.parse)
    is inlined as an out-of-range literal and every query of the table fails."""
    huge = "9" * 60
    Grant.parse(f"{DS}:regional:{huge}")  # accepted as a grant
    ds = opened(viewer("school_sre", f"{DS}:regional:{huge}", f"{DS}:regional:2"), store)
    assert schools(ds) == [2001, 2002]


def test_forged_filter_value_for_a_region_outside_the_grant_returns_nothing(store, opened):
    ds = opened(viewer("school_sre", f"{DS}:regional:1"), store)
    q = "SELECT * FROM enrolment WHERE ($1 IS NULL OR regional_id = $1)"
    assert len(ds.sql(q, [1])) == 2
    assert len(ds.sql(q, [2])) == 0  # the browser asked for regional 2
    assert len(ds.sql(q, [None])) == 2
    assert len(ds.sql("SELECT * FROM enrolment WHERE school_id = ?", [2001])) == 0
    # a string that would be an injection if it were interpolated is only a value
    with pytest.raises(duckdb.Error):
        ds.sql(q, ["1 OR 1=1"])


def test_named_parameters_are_bound(store, opened):
    ds = opened(viewer("school_sre", f"{DS}:regional:2"), store)
    df = ds.sql("SELECT school_id FROM enrolment WHERE school_id = $s", {"s": 2001})
    assert df["school_id"].tolist() == [2001]


def test_school_queries_with_a_forged_place(tmp_path, opened, monkeypatch):
    """The school panels' queries: a place the viewer does not hold yields nothing."""
    import school_tiny as tiny
    from painel.school import queries

    home = tmp_path / "home"
    monkeypatch.setenv("PAINEL_HOME", str(home))
    tiny.publish(home)
    s = Store(home / "store")
    ds = opened(viewer("school_sre", "school:sre:22"), s, "school")
    mine = queries.View(queries.Place((("sre", 22),)))
    other = queries.View(queries.Place((("sre", 19),)))
    school_21 = queries.View(
        queries.Place((("sre", 19), ("municipio", 3136702), ("escola", 31000021)))
    )
    assert queries.matriculas_total(ds, mine)["matriculas"] == 18
    assert not queries.matriculas_total(ds, other)["matriculas"]
    assert not queries.matriculas_total(ds, school_21)["matriculas"]
    assert queries.child_labels(ds, other.place).empty
    assert set(queries.child_labels(ds, queries.Place())["label"]) == {"SRE Metropolitana A"}
    admin = opened(viewer("admin"), s, "school")
    assert queries.matriculas_total(admin, other)["matriculas"] == 7


# ---- what is queryable --------------------------------------------------------------------
def test_table_in_file_but_not_in_manifest_is_not_queryable(tmp_path, opened):
    s = Store(tmp_path / "store")
    version = publish(s, extra_tables={"secret": {"regional": "regional_id"}})
    # as published, 'secret' is declared and (scoped) queryable
    ds = opened(viewer("admin"), s)
    assert count(ds, "secret") == len(ENROLMENT)
    ds.close()
    # drop it from the manifest by hand: the file still holds the table
    manifest_path = s.version_path(DS, version).with_suffix(".json")
    manifest = json.loads(manifest_path.read_text())
    del manifest["tables"]["secret"]
    manifest_path.write_text(json.dumps(manifest))
    with duckdb.connect(str(s.version_path(DS, version)), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM secret").fetchone()[0] == len(ENROLMENT)
    for v in (viewer("admin"), viewer("school_sre", f"{DS}:*")):
        ds = opened(v, s)
        with pytest.raises(duckdb.CatalogException, match="secret"):
            ds.sql("SELECT * FROM secret")
        with pytest.raises(duckdb.CatalogException):
            ds.sql("SELECT * FROM main.secret")
        assert count(ds, "enrolment") == len(ENROLMENT)  # declared tables still work


def test_unknown_role_is_refused():
    with pytest.raises(UnknownRole, match="'x'"):
        Viewer("someone", "x")
    with pytest.raises(UnknownRole):
        Viewer("someone", "Admin", frozenset({Grant.parse("*")}))


def test_scoped_dataset_needs_a_viewer(store):
    with pytest.raises(TypeError):
        ScopedDataset({"username": "x", "role": "admin"}, DS, store)  # type: ignore[arg-type]


def test_no_published_version_is_an_error(tmp_path):
    from painel.store import NoVersion

    ds = ScopedDataset(viewer("admin"), "nothing", Store(tmp_path / "store"))
    with pytest.raises(NoVersion, match="nothing"):
        ds.sql("SELECT 1")


# ---- following new versions -----------------------------------------------------------------
def test_follows_a_new_publish_on_next_sql(store, opened):
    ds = opened(viewer("school_sre", f"{DS}:regional:1"), store)
    first = store.current_version(DS)
    assert schools(ds) == [1001, 1002]
    assert ds.version == first
    publish(store, enrolment=[*ENROLMENT, (1, 1003, 5), (2, 2003, 7)])
    second = store.current_version(DS)
    assert second != first
    # the next query reads the new version, still scoped to the viewer's grant
    assert schools(ds) == [1001, 1002, 1003]
    assert ds.version == second
    assert ds.manifest["version"] == second
    assert ds.manifest["row_counts"]["enrolment"] == len(ENROLMENT) + 2


def test_follows_a_rollback(store, opened):
    ds = opened(viewer("admin"), store)
    first = store.current_version(DS)
    assert count(ds, "enrolment") == len(ENROLMENT)
    publish(store, enrolment=ENROLMENT[:2])
    assert count(ds, "enrolment") == 2
    store.rollback(DS)
    assert count(ds, "enrolment") == len(ENROLMENT)
    assert ds.version == first


# ---- dash.ui.choose ---------------------------------------------------------------------------
def test_choose_accepts_offered_values_only():
    options = [("Todas", 0), ("Norte", 1), ("Sul", 2)]
    assert ui.choose(1, options) == 1
    assert ui.choose(0, options, fallback=-1) == 0
    assert ui.choose(3, options) is None
    assert ui.choose(3, options, fallback=0) == 0
    assert ui.choose("1", options, fallback=0) == 0  # a string is not the offered int
    assert ui.choose("Norte", options, fallback=0) == 0  # a label is not a value
    assert ui.choose(None, options, fallback=0) == 0


def test_choose_with_plain_options():
    assert ui.choose("b", ["a", "b"]) == "b"
    assert ui.choose("c", ["a", "b"], fallback="a") == "a"
    assert ui.choose("a", []) is None


# ---- state held beside the scoped views ----------------------------------------------------------
def test_a_held_frame_joins_the_scoped_rows_and_is_made_again_on_change(store, opened):
    import pandas as pd

    ds = opened(viewer("school_sre", f"{DS}:regional:1"), store)
    made: list[int] = []

    def make(flag: str) -> pd.DataFrame:
        made.append(1)
        return pd.DataFrame({"school_id": [1001, 2001, 3001], "flag": [flag] * 3})

    join = "SELECT e.school_id, f.flag FROM enrolment e JOIN marks f USING (school_id)"
    ds.hold("marks", 1, lambda: make("a"))
    ds.hold("marks", 1, lambda: make("a"))  # same token: kept
    assert len(made) == 1
    # the held rows of other regions join nothing: the viewer's rows stay its own
    assert ds.sql(join).values.tolist() == [[1001, "a"]]
    ds.hold("marks", 2, lambda: make("b"))  # a new token: made again
    assert len(made) == 2 and ds.sql(join)["flag"].tolist() == ["b"]
    # a new version opens a new connection: the next hold makes it again, same token or not
    publish(store, enrolment=[*ENROLMENT, (1, 1003, 5)])
    ds.hold("marks", 2, lambda: make("c"))
    assert len(made) == 3 and ds.sql(join)["flag"].tolist() == ["c"]
    # a dataset's table name cannot be taken
    with pytest.raises(ValueError, match="enrolment"):
        ds.hold("enrolment", 1, lambda: make("x"))
    assert schools(ds) == [1001, 1002, 1003]
