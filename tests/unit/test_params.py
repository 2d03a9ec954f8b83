"""ETL parameters: the notebook's parameters cell is the schema; layers merge and validate."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from painel.config import Paths
from painel.params import (
    Param,
    ParameterError,
    coerce,
    load_yaml_params,
    notebook_parameters,
    parse_cli_pairs,
    resolve,
)
from painel.runner import resolve_parameters
from painel_testing import REPO

PARAMS_CELL = """\
source_dir: str = "sources/demo"  # folder holding the extract
min_rows: int = 1  # fewer rows than this fails the run
ratio: float = 0.5  # share of rows kept
dry_run: bool = False  # build but do not publish
regions: list[str] | None = None  # only these offices (None: all)
codes: list[int] = [1, 2]
api_key: str = None  # token for the source API
since: Optional[str] = None  # first month to load
"""


def write_notebook(path: Path, *cells) -> Path:
    nb = new_notebook(cells=list(cells))
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def params_cell(source: str):
    return new_code_cell(source, metadata={"tags": ["parameters"]})


@pytest.fixture
def schema(tmp_path: Path) -> dict[str, Param]:
    nb = write_notebook(
        tmp_path / "job.ipynb",
        new_markdown_cell("# Job"),
        new_code_cell("from painel import etl"),
        params_cell(PARAMS_CELL),
        new_code_cell("print(source_dir)"),
    )
    return notebook_parameters(nb)


# ---- notebook_parameters -----------------------------------------------------------------
def test_parameters_cell_declares_names_types_defaults_and_help(schema: dict[str, Param]) -> None:
    assert list(schema) == [
        "source_dir",
        "min_rows",
        "ratio",
        "dry_run",
        "regions",
        "codes",
        "api_key",
        "since",
    ]
    assert schema["source_dir"] == Param(
        "source_dir", "str", "sources/demo", "folder holding the extract"
    )
    assert schema["min_rows"] == Param("min_rows", "int", 1, "fewer rows than this fails the run")
    assert schema["ratio"] == Param("ratio", "float", 0.5, "share of rows kept")
    assert schema["dry_run"] == Param("dry_run", "bool", False, "build but do not publish")
    assert schema["regions"].type_src == "list[str] | None"
    assert schema["regions"].help == "only these offices (None: all)"
    assert schema["codes"] == Param("codes", "list[int]", [1, 2], "")  # no comment: no help


def test_optional_and_required(schema: dict[str, Param]) -> None:
    assert schema["regions"].optional and not schema["regions"].required
    assert schema["since"].optional and not schema["since"].required  # Optional[...] too
    assert not schema["api_key"].optional and schema["api_key"].required  # None on a str
    assert not schema["min_rows"].optional and not schema["min_rows"].required


def test_the_school_notebook_declares_its_parameters() -> None:
    from painel.school.etl.job import PARAMETERS

    schema = notebook_parameters(REPO / "notebooks" / "etl" / "school.ipynb")
    assert set(schema) == set(PARAMETERS)  # the job reads exactly what the notebook declares
    assert schema["directory"].type_src == "str"
    assert schema["dias_busca_ativa"].type_src == "int"
    assert schema["dias_busca_ativa"].default == 15
    assert schema["capacidade_padrao"].type_src == "dict"
    assert all(p.help for p in schema.values())


def test_help_is_the_comment_not_a_hash_inside_the_default(tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "job.ipynb",
        params_cell(
            'url: str = "https://example.org/dump#latest"  # where the extract lives\n'
            'comment_char: str = "#"  # lines starting with this are skipped\n'
        ),
    )
    schema = notebook_parameters(nb)
    assert schema["url"].default == "https://example.org/dump#latest"
    assert schema["url"].help == "where the extract lives"
    assert schema["comment_char"].help == "lines starting with this are skipped"


@pytest.mark.parametrize("n_cells", [0, 2])
def test_exactly_one_parameters_cell(tmp_path: Path, n_cells: int) -> None:
    cells = [params_cell(f"x{i}: int = {i}  # x") for i in range(n_cells)]
    nb = write_notebook(tmp_path / "job.ipynb", new_code_cell("import os"), *cells)
    with pytest.raises(ParameterError) as info:
        notebook_parameters(nb)
    assert (
        str(info.value)
        == f"job.ipynb: needs exactly one cell tagged 'parameters' (found {n_cells})"
    )


def test_a_markdown_cell_tagged_parameters_does_not_count(tmp_path: Path) -> None:
    md = new_markdown_cell("## Parameters", metadata={"tags": ["parameters"]})
    nb = write_notebook(tmp_path / "job.ipynb", md, params_cell("n: int = 3  # n"))
    assert list(notebook_parameters(nb)) == ["n"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("n: int = 3\nprint(n)\n", "line 2: only 'name: type = value' lines are allowed"),
        ("n: int = 3\ndef f():\n    pass\n", "line 2: only 'name: type = value' lines are allowed"),
        ("n: int = len('abc')\n", "parameter 'n' default must be a literal"),
        ("n: int = = 3\n", "parameters cell line 1:"),
    ],
)
def test_parameters_cell_holds_only_annotated_literals(
    tmp_path: Path, source: str, expected: str
) -> None:
    nb = write_notebook(tmp_path / "job.ipynb", params_cell(source))
    with pytest.raises(ParameterError, match="job.ipynb") as info:
        notebook_parameters(nb)
    assert expected in str(info.value)


def test_missing_or_invalid_notebook(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="notebook not found"):
        notebook_parameters(tmp_path / "nope.ipynb")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(ParameterError, match="not a valid notebook"):
        notebook_parameters(bad)


# ---- coerce --------------------------------------------------------------------------------
def p(type_src: str, default=None, name: str = "x") -> Param:
    return Param(name, type_src, default, "")


@pytest.mark.parametrize(
    ("type_src", "raw", "expected"),
    [
        ("int", "42", 42),
        ("int", " -7 ", -7),
        ("int", 5, 5),
        ("float", "2.5", 2.5),
        ("float", "3", 3.0),
        ("float", 3, 3.0),
        ("bool", "true", True),
        ("bool", "True", True),
        ("bool", "yes", True),
        ("bool", "1", True),
        ("bool", "false", False),
        ("bool", "no", False),
        ("bool", "0", False),
        ("bool", False, False),
        ("str", "abc", "abc"),
        ("str", 42, "42"),  # YAML read 0042-like values as ints
        ("list[str]", "[a, b]", ["a", "b"]),
        ("list[str]", "[1, 2]", ["1", "2"]),
        ("list[str]", ["x"], ["x"]),
        ("list[int]", "[1, 2]", [1, 2]),
        ("list[str] | None", "[a]", ["a"]),
        ("list", "[1, a]", [1, "a"]),
        ("dict", "{a: 1}", {"a": 1}),
    ],
)
def test_coerce_parses_cli_strings(type_src: str, raw, expected) -> None:
    value = coerce(p(type_src), raw, "-p")
    assert value == expected
    assert type(value) is type(expected)


def test_coerce_str_from_a_yaml_date() -> None:
    import datetime as dt

    assert coerce(p("str"), dt.date(2026, 1, 1), "f.yaml") == "2026-01-01"


@pytest.mark.parametrize(
    ("type_src", "raw", "expected"),
    [
        ("int", "abc", "an integer"),
        ("int", "1.5", "an integer"),
        ("int", True, "an integer"),
        ("int", 1.5, "an integer"),
        ("float", "abc", "a number"),
        ("float", True, "a number"),
        ("bool", "maybe", "true or false"),
        ("bool", 1, "true or false"),
        ("str", True, "a string"),
        ("str", [1], "a string"),
        ("list[str]", "a", "a list"),
        ("list[str]", "[a", "valid YAML"),
        ("list[int]", "[1, x]", "an integer"),
        ("dict", "[1]", "a dict"),
    ],
)
def test_coerce_rejects_ill_typed_values(type_src: str, raw, expected: str) -> None:
    with pytest.raises(ParameterError) as info:
        coerce(p(type_src, name="min_rows"), raw, "-p")
    message = str(info.value)
    assert message.startswith("parameter 'min_rows' (-p) must be ")
    assert expected in message


def test_coerce_none() -> None:
    assert coerce(p("list[str] | None"), None, "-p") is None
    assert coerce(p("Optional[int]"), None, "-p") is None
    with pytest.raises(ParameterError, match="parameter 'x' \\(f.yaml\\) must not be empty"):
        coerce(p("int"), None, "f.yaml")


def test_coerce_unsupported_type() -> None:
    with pytest.raises(ParameterError, match="unsupported type 'tuple'"):
        coerce(p("tuple"), "(1, 2)", "-p")


# ---- parse_cli_pairs / load_yaml_params ------------------------------------------------------
def test_parse_cli_pairs() -> None:
    assert parse_cli_pairs(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ParameterError, match="-p 'novalue': expected NAME=VALUE"):
        parse_cli_pairs(["novalue"])


def test_load_yaml_params(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("# comment\nmin_rows: 3\nregions: [a, b]\n")
    assert load_yaml_params(good) == {"min_rows": 3, "regions": ["a", "b"]}
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    assert load_yaml_params(empty) == {}
    seq = tmp_path / "seq.yaml"
    seq.write_text("- a\n- b\n")
    with pytest.raises(ParameterError, match="seq.yaml: must be a mapping"):
        load_yaml_params(seq)
    with pytest.raises(ParameterError, match="parameter file not found: .*missing.yaml"):
        load_yaml_params(tmp_path / "missing.yaml")


def test_broken_yaml_error_names_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("min_rows: 3\nsource_dir: a: b\nratio: 0.1\n")
    with pytest.raises(ParameterError) as info:
        load_yaml_params(broken)
    message = str(info.value)
    assert message.startswith(f"{broken} line 2: broken YAML: ")
    assert "mapping values are not allowed here" in message
    assert "\n" not in message


# ---- resolve -------------------------------------------------------------------------------
def test_resolve_precedence(schema: dict[str, Param]) -> None:
    layers = [
        ("parameters/job.yaml", {"min_rows": 10, "ratio": 0.1, "dry_run": True, "api_key": "y"}),
        ("-f prod.yaml", {"ratio": 0.2, "dry_run": False, "api_key": "f"}),
        ("-p", {"dry_run": "true", "regions": "[north]", "api_key": "p"}),
    ]
    out = resolve(schema, layers, "job")
    assert out == {
        "source_dir": "sources/demo",  # notebook default
        "min_rows": 10,  # parameters/job.yaml
        "ratio": 0.2,  # -f beats the job file
        "dry_run": True,  # -p beats -f (and is parsed from a string)
        "regions": ["north"],
        "codes": [1, 2],
        "api_key": "p",
        "since": None,
    }


def test_resolve_unknown_parameter_names_it_and_the_job(schema: dict[str, Param]) -> None:
    with pytest.raises(ParameterError) as info:
        resolve(schema, [("-p", {"min_row": "3", "api_key": "k"})], "enrolment")
    message = str(info.value)
    assert message.startswith("unknown parameter 'min_row' for job 'enrolment' (-p); known: ")
    assert "min_rows" in message and "source_dir" in message


def test_resolve_missing_required_parameter(schema: dict[str, Param]) -> None:
    with pytest.raises(ParameterError) as info:
        resolve(schema, [("-p", {"min_rows": "2"})], "enrolment")
    assert (
        str(info.value)
        == "missing parameter 'api_key' for job 'enrolment': token for the source API"
    )
    # given in any layer, it is no longer missing
    assert resolve(schema, [("-f x.yaml", {"api_key": "k"})], "enrolment")["api_key"] == "k"


def test_resolve_ill_typed_value_names_parameter_and_origin(schema: dict[str, Param]) -> None:
    with pytest.raises(ParameterError) as info:
        resolve(schema, [("-f prod.yaml", {"min_rows": "many", "api_key": "k"})], "job")
    assert str(info.value) == "parameter 'min_rows' (-f prod.yaml) must be an integer, got 'many'"


# ---- the same through the project files ------------------------------------------------------
@pytest.fixture
def project(tmp_path: Path) -> Paths:
    root = tmp_path / "project"
    write_notebook(
        root / "notebooks" / "etl" / "load.ipynb",
        new_code_cell("from painel import etl"),
        params_cell(
            'source_dir: str = "sources/demo"  # folder\n'
            "min_rows: int = 1  # minimum\n"
            "ratio: float = 0.5  # share\n"
            "dry_run: bool = False  # flag\n"
        ),
    )
    (root / "parameters").mkdir()
    return Paths(home=tmp_path / "home", project=root)


def test_project_layers_notebook_job_yaml_file_and_pairs(project: Paths, tmp_path: Path) -> None:
    assert resolve_parameters(project, "load") == {
        "source_dir": "sources/demo",
        "min_rows": 1,
        "ratio": 0.5,
        "dry_run": False,
    }
    (project.parameters / "load.yaml").write_text("min_rows: 5\nratio: 0.25\ndry_run: true\n")
    assert resolve_parameters(project, "load") == {
        "source_dir": "sources/demo",
        "min_rows": 5,
        "ratio": 0.25,
        "dry_run": True,
    }
    extra = tmp_path / "extra.yaml"
    extra.write_text("ratio: 0.75\ndry_run: false\n")
    assert resolve_parameters(project, "load", [str(extra)]) == {
        "source_dir": "sources/demo",
        "min_rows": 5,
        "ratio": 0.75,
        "dry_run": False,
    }
    assert resolve_parameters(project, "load", [str(extra)], ["dry_run=yes", "min_rows=9"]) == {
        "source_dir": "sources/demo",
        "min_rows": 9,
        "ratio": 0.75,
        "dry_run": True,
    }


def test_project_errors_name_the_culprit(project: Paths, tmp_path: Path) -> None:
    (project.parameters / "load.yaml").write_text("min_rows: 5\nbogus: 1\n")
    with pytest.raises(
        ParameterError, match=r"unknown parameter 'bogus' for job 'load' \(parameters/load.yaml\)"
    ):
        resolve_parameters(project, "load")
    (project.parameters / "load.yaml").write_text("min_rows: [1\n")
    with pytest.raises(ParameterError, match=r"load.yaml line \d+: broken YAML"):
        resolve_parameters(project, "load")
    (project.parameters / "load.yaml").unlink()
    broken = tmp_path / "broken.yaml"
    broken.write_text("ratio: 0.1\ndry_run: : x\n")
    with pytest.raises(ParameterError, match=rf"^{broken} line 2: broken YAML"):
        resolve_parameters(project, "load", [str(broken)])
