"""ETL parameters: the notebook's ``parameters`` cell is the schema.

Each ETL notebook has exactly one cell tagged ``parameters`` holding annotated assignments
with their dev/demo defaults and a comment each::

    source_dir: str = "data/sources/demo"   # folder holding the CSV extract
    min_rows: int = 1                       # fewer rows than this fails the run
    regions: list[str] | None = None        # only these regional offices (None: all)

Values for a run are merged from the notebook's defaults, then ``parameters/<job>.yaml``,
then ``-f FILE.yaml``, then ``-p NAME=VALUE``; the result is validated here, before the
notebook starts (papermill itself only warns about unknown names). A default of ``None``
on a type that does not admit ``None`` marks a parameter that must be given.
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import json
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_SIMPLE = {"str": str, "int": int, "float": float, "bool": bool, "dict": dict, "list": list}


class ParameterError(Exception):
    """A parameter problem; the message names the parameter and where its value came from."""


@dataclass(frozen=True)
class Param:
    name: str
    type_src: str  # the annotation as written, e.g. "list[str] | None"
    default: Any
    help: str = ""

    @property
    def optional(self) -> bool:
        return _parse_type(self.type_src)[1]

    @property
    def required(self) -> bool:
        return self.default is None and not self.optional


def _parse_type(src: str) -> tuple[ast.expr, bool]:
    """(base type expression, admits None)."""
    node = ast.parse(src, mode="eval").body
    optional = False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        parts = [node.left, node.right]
        nones = [p for p in parts if isinstance(p, ast.Constant) and p.value is None]
        rest = [p for p in parts if p not in nones]
        if nones and len(rest) == 1:
            return rest[0], True
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Optional"
    ):
        return node.slice, True
    return node, optional


def notebook_parameters(path: str | Path) -> dict[str, Param]:
    """The schema declared by the notebook's single ``parameters`` cell."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError(f"notebook not found: {path}") from None
    except ValueError as exc:
        raise ParameterError(f"{path}: not a valid notebook ({exc})") from None
    cells = [
        c
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if len(cells) != 1:
        raise ParameterError(
            f"{path.name}: needs exactly one cell tagged 'parameters' (found {len(cells)})"
        )
    source = cells[0]["source"]
    source = "".join(source) if isinstance(source, list) else source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{path.name}: parameters cell line {exc.lineno}: {exc.msg}") from None
    comments = _comments_by_line(source)
    params: dict[str, Param] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name = stmt.target.id
            type_src = ast.get_source_segment(source, stmt.annotation) or "str"
            value_node = stmt.value
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            name = stmt.targets[0].id
            value_node = stmt.value
            type_src = "?"
        else:
            raise ParameterError(
                f"{path.name}: parameters cell line {stmt.lineno}: only 'name: type = value' lines are allowed"
            )
        try:
            default = ast.literal_eval(value_node) if value_node is not None else None
        except ValueError:
            raise ParameterError(
                f"{path.name}: parameter {name!r} default must be a literal"
            ) from None
        if type_src == "?":
            type_src = type(default).__name__ if default is not None else "str | None"
        help_text = comments.get(stmt.end_lineno or stmt.lineno, "")
        _parse_type(type_src)  # raises SyntaxError early for nonsense annotations
        params[name] = Param(name, type_src, default, help_text)
    return params


def _comments_by_line(source: str) -> dict[int, str]:
    """The ``# comment`` ending each line (a ``#`` inside a string is not a comment)."""
    out: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


def coerce(param: Param, value: Any, origin: str) -> Any:
    """Check ``value`` against the parameter's type; strings from ``-p`` are parsed."""
    base, optional = _parse_type(param.type_src)
    if value is None:
        if optional:
            return None
        raise ParameterError(f"parameter {param.name!r} ({origin}) must not be empty")
    return _coerce_to(base, value, param, origin)


def _coerce_to(node: ast.expr, value: Any, param: Param, origin: str) -> Any:
    def fail(expected: str) -> ParameterError:
        return ParameterError(
            f"parameter {param.name!r} ({origin}) must be {expected}, got {value!r}"
        )

    if isinstance(node, ast.Name) and node.id in _SIMPLE:
        kind = node.id
        if kind == "str":
            if isinstance(value, str):
                return value
            if isinstance(value, (dt.date, int, float)) and not isinstance(value, bool):
                return str(value)  # YAML reads 2026-01-01 as a date and 0042 as an int
            raise fail("a string")
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
                return value.lower() in ("true", "yes", "1")
            raise fail("true or false")
        if kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str):
                try:
                    return int(value.strip())
                except ValueError:
                    raise fail("an integer") from None
            raise fail("an integer")
        if kind == "float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            if isinstance(value, str):
                try:
                    return float(value.strip())
                except ValueError:
                    raise fail("a number") from None
            raise fail("a number")
        if kind in ("list", "dict"):
            value = _maybe_yaml(value, fail)
            if not isinstance(value, _SIMPLE[kind]):
                raise fail(f"a {kind}")
            return value
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        outer = node.value.id
        if outer == "list":
            value = _maybe_yaml(value, fail)
            if not isinstance(value, list):
                raise fail(f"a list ({ast.unparse(node)})")
            return [_coerce_to(node.slice, v, param, origin) for v in value]
        if outer == "dict":
            value = _maybe_yaml(value, fail)
            if not isinstance(value, dict):
                raise fail(f"a mapping ({ast.unparse(node)})")
            return value
    raise ParameterError(f"parameter {param.name!r}: unsupported type {param.type_src!r}")


def _maybe_yaml(value: Any, fail: Any) -> Any:
    if isinstance(value, str):
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            raise fail("valid YAML") from None
    return value


def yaml_error(path: str | Path, exc: yaml.YAMLError) -> str:
    """``<file> line N: broken YAML: <problem>``, for every YAML file painel reads."""
    mark = getattr(exc, "problem_mark", None)
    where = f" line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{path}{where}: broken YAML: {problem}"


@dataclass
class Layered:
    """Settings read from ``parameters/<name>.yaml`` and then the profile's file."""

    values: dict[str, Any]
    origins: dict[str, str]  # each key -> the file (relative to the project) it came from
    files: list[str]  # the files read, relative to the project

    @property
    def origin(self) -> str:
        return " + ".join(self.files) or "built-in defaults"


def layered_settings(
    files: list[Path], project: Path, known: set[str], error: type[Exception]
) -> Layered:
    """A settings file and its profile's layered (``Paths.parameter_files(name)``): each a
    mapping of known keys, the later over the earlier; ``error`` (naming the file and the
    field) for broken YAML, a non-mapping or an unknown key."""
    out = Layered({}, {}, [])
    for path in files:
        try:
            where = str(path.relative_to(project))
        except ValueError:
            where = str(path)
        out.files.append(where)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise error(yaml_error(where, exc)) from None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise error(f"{where}: must be a mapping of settings to values")
        unknown = set(data) - known
        if unknown:
            raise error(
                f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))} "
                f"(known: {', '.join(sorted(known))})"
            )
        out.values.update(data)
        out.origins.update(dict.fromkeys(data, where))
    return out


def load_yaml_params(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError(f"parameter file not found: {path}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParameterError(yaml_error(path, exc)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: must be a mapping of parameter names to values")
    return data


def parse_cli_pairs(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ParameterError(f"-p {pair!r}: expected NAME=VALUE")
        name, value = pair.split("=", 1)
        out[name.strip()] = value
    return out


def resolve(
    schema: Mapping[str, Param],
    layers: list[tuple[str, Mapping[str, Any]]],
    job: str,
) -> dict[str, Any]:
    """Merge ``layers`` (origin, values) over the defaults and validate the result."""
    values: dict[str, tuple[Any, str]] = {
        name: (p.default, "notebook default") for name, p in schema.items()
    }
    for origin, layer in layers:
        for name, value in layer.items():
            if name not in schema:
                known = ", ".join(sorted(schema)) or "none"
                raise ParameterError(
                    f"unknown parameter {name!r} for job {job!r} ({origin}); known: {known}"
                )
            values[name] = (value, origin)
    out: dict[str, Any] = {}
    for name, (value, origin) in values.items():
        param = schema[name]
        if value is None and param.required:
            raise ParameterError(
                f"missing parameter {name!r} for job {job!r}: {param.help or 'no default'}"
            )
        out[name] = coerce(param, value, origin)
    return out
