"""The progress job's settings: tracks, parameters, ISO weeks in São Paulo, the API key."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from painel.progress import settings as s
from painel.progress.settings import Settings, SettingsError, Track

UTC = dt.UTC


def good_tracks() -> dict[str, Any]:
    return {
        "analista": {
            "name": " Formação Analista ",
            "products": [2101, 2102],
            "expected_pct_per_week": 8,
        },
        "cientista_2": {"name": "Cientista", "products": [2105]},
    }


def params(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "base_url": "https://escola.cademi.com.br/api/v1/",
        "api_key_env": "CADEMI_API_KEY",
        "tracks": good_tracks(),
    }
    base.update(overrides)
    return base


# --------------------------------------------------------------------------- tracks


def test_parse_tracks() -> None:
    tracks = s.parse_tracks(good_tracks())
    assert tracks == {
        "analista": Track("analista", "Formação Analista", (2101, 2102), 8.0),
        "cientista_2": Track("cientista_2", "Cientista", (2105,), 10.0),  # default pace
    }
    assert isinstance(tracks["analista"].expected_pct_per_week, float)
    assert (
        s.parse_tracks({"a": {"name": "A", "products": [1], "expected_pct_per_week": 100}})[
            "a"
        ].expected_pct_per_week
        == 100
    )


@pytest.mark.parametrize("value", [None, {}, [], "analista", [{"name": "x"}]])
def test_tracks_must_be_a_non_empty_mapping(value: Any) -> None:
    with pytest.raises(SettingsError, match=r"^parameter 'tracks' must be a non-empty mapping"):
        s.parse_tracks(value)


def test_the_origin_is_named() -> None:
    with pytest.raises(SettingsError, match=r"^parameter 'trilhas' must"):
        s.parse_tracks({}, origin="trilhas")
    with pytest.raises(SettingsError, match=r"^parameter 'trilhas', track 'x':"):
        s.parse_tracks({"x": {"name": "X", "products": []}}, origin="trilhas")


@pytest.mark.parametrize(
    "key", ["Analista", "1analista", "ana-lista", "", "a" * 33, "análise", 7, "ana lista"]
)
def test_bad_track_keys(key: Any) -> None:
    with pytest.raises(SettingsError) as info:
        s.parse_tracks({key: {"name": "X", "products": [1]}})
    assert (
        str(info.value)
        == f"parameter 'tracks', track {key!r}: the key must be lowercase letters, digits or _"
    )


def test_track_spec_must_be_a_mapping() -> None:
    with pytest.raises(
        SettingsError, match=r"^parameter 'tracks', track 'analista': expected a mapping"
    ):
        s.parse_tracks({"analista": [2101, 2102]})


def test_unknown_fields_are_named() -> None:
    spec = {"name": "X", "products": [1], "produtos": [2], "pace": 3}
    with pytest.raises(SettingsError) as info:
        s.parse_tracks({"analista": spec})
    assert (
        str(info.value) == "parameter 'tracks', track 'analista': unknown field(s) pace, produtos"
    )


@pytest.mark.parametrize("name", [None, "", "   ", 12, ["x"]])
def test_track_name_required(name: Any) -> None:
    with pytest.raises(SettingsError) as info:
        s.parse_tracks({"analista": {"name": name, "products": [1]}})
    assert (
        str(info.value) == "parameter 'tracks', track 'analista': 'name' must be a non-empty text"
    )


@pytest.mark.parametrize(
    "products",
    [
        None,
        [],
        (2101,),
        [2101, 2101],
        ["2101"],
        [2101, 2.0],
        [True],
        [0],
        [-5],
        "2101",
        {2101: 1},
        [None],
    ],
)
def test_bad_products(products: Any) -> None:
    spec: dict[str, Any] = {"name": "X"}
    if products is not None:
        spec["products"] = products
    with pytest.raises(SettingsError) as info:
        s.parse_tracks({"ok": {"name": "Y", "products": [1]}, "cientista": spec})
    assert str(info.value) == (
        "parameter 'tracks', track 'cientista': 'products' must be a non-empty list of distinct Cademi product ids"
    )


def test_the_same_product_in_two_tracks_is_allowed() -> None:
    tracks = s.parse_tracks(
        {"a": {"name": "A", "products": [1, 2]}, "b": {"name": "B", "products": [2, 3]}}
    )
    assert tracks["b"].products == (2, 3)


@pytest.mark.parametrize("pace", [0, -1, 100.01, 101, "8", True, None, float("nan")])
def test_pace_out_of_range(pace: Any) -> None:
    with pytest.raises(SettingsError) as info:
        s.parse_tracks({"analista": {"name": "X", "products": [1], "expected_pct_per_week": pace}})
    assert (
        str(info.value)
        == "parameter 'tracks', track 'analista': 'expected_pct_per_week' must be a number in (0, 100]"
    )


# --------------------------------------------------------------------------- from_parameters


def test_from_parameters() -> None:
    settings = s.from_parameters(
        params(per_second=1.5, per_minute="90", retries=3, max_failed_share=0.1, timeout_s=12)
    )
    assert settings.base_url == "https://escola.cademi.com.br/api/v1"  # trailing slash dropped
    assert settings.api_key_env == "CADEMI_API_KEY"
    assert set(settings.tracks) == {"analista", "cientista_2"}
    assert (settings.per_second, settings.per_minute, settings.retries) == (1.5, 90, 3)
    assert (settings.max_failed_share, settings.timeout_s) == (0.1, 12.0)
    defaults = s.from_parameters(params())
    assert (
        defaults.per_second,
        defaults.per_minute,
        defaults.retries,
        defaults.max_failed_share,
    ) == (2.0, 120, 5, 0.02)


@pytest.mark.parametrize(
    "url", [None, "", "escola.cademi.com.br/api/v1", "ftp://x/api", "https://", "http:// x"]
)
def test_base_url_must_be_http(url: Any) -> None:
    with pytest.raises(
        SettingsError, match=r"^parameter 'base_url' must be an http\(s\) URL, got "
    ):
        s.from_parameters(params(base_url=url))


@pytest.mark.parametrize(
    "env", [None, "", "1KEY", "CADEMI-KEY", "CADEMI KEY", "$CADEMI", "abc123secret!"]
)
def test_api_key_env_must_name_a_variable(env: Any) -> None:
    with pytest.raises(SettingsError) as info:
        s.from_parameters(params(api_key_env=env))
    assert str(info.value).startswith(
        "parameter 'api_key_env' must name an environment variable, got "
    )


@pytest.mark.parametrize(
    ("field", "value", "pattern"),
    [
        ("per_second", 0, r"'per_second' and 'per_minute' must be positive"),
        ("per_second", -2, r"'per_second' and 'per_minute' must be positive"),
        ("per_minute", 0, r"'per_second' and 'per_minute' must be positive"),
        ("max_failed_share", 1, r"^parameter 'max_failed_share' must be in \[0, 1\), got 1"),
        ("max_failed_share", -0.1, r"^parameter 'max_failed_share' must be in \[0, 1\)"),
        ("retries", 0, r"^parameter 'retries' must be at least 1"),
    ],
)
def test_numeric_parameters(field: str, value: Any, pattern: str) -> None:
    with pytest.raises(SettingsError, match=pattern):
        s.from_parameters(params(**{field: value}))


def test_tracks_errors_pass_through_from_parameters() -> None:
    with pytest.raises(SettingsError, match=r"^parameter 'tracks', track 'analista': 'products'"):
        s.from_parameters(params(tracks={"analista": {"name": "A", "products": [1, 1]}}))
    with pytest.raises(SettingsError, match=r"^parameter 'tracks' must be a non-empty mapping"):
        s.from_parameters(params(tracks=None))


def test_track_lookup() -> None:
    settings = s.from_parameters(params())
    assert settings.track("analista").name == "Formação Analista"
    with pytest.raises(SettingsError) as info:
        settings.track("engenharia")
    assert str(info.value) == "unknown track 'engenharia' (tracks: analista, cientista_2)"


# --------------------------------------------------------------------------- the API key


def test_api_key_missing_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings("https://x.cademi.com.br/api/v1", "PAINEL_TEST_CADEMI_KEY_XYZ", {})
    monkeypatch.delenv("PAINEL_TEST_CADEMI_KEY_XYZ", raising=False)
    with pytest.raises(SettingsError) as info:
        settings.api_key()
    assert str(info.value) == (
        "the Cademi API key is not set: export it in the environment variable PAINEL_TEST_CADEMI_KEY_XYZ"
    )
    monkeypatch.setenv("PAINEL_TEST_CADEMI_KEY_XYZ", "   ")
    with pytest.raises(SettingsError, match="PAINEL_TEST_CADEMI_KEY_XYZ"):
        settings.api_key()
    monkeypatch.setenv("PAINEL_TEST_CADEMI_KEY_XYZ", "  the-key\n")
    assert settings.api_key() == "the-key"


def test_the_key_is_never_a_setting() -> None:
    settings = s.from_parameters(params(api_key_env="PAINEL_TEST_CADEMI_KEY_XYZ"))
    assert not any("key" in f and f != "api_key_env" for f in settings.__dataclass_fields__)


# --------------------------------------------------------------------------- ISO weeks


def test_parse_week() -> None:
    assert s.parse_week("2026-W07") == ("2026-W07", dt.date(2026, 2, 9))
    assert s.parse_week(" 2026-W01 ") == (
        "2026-W01",
        dt.date(2025, 12, 29),
    )  # week 1 starts in December
    assert s.parse_week("2026-W53") == ("2026-W53", dt.date(2026, 12, 28))  # 2026 has 53 weeks
    assert s.parse_week("2020-W53")[1] == dt.date(2020, 12, 28)
    monday = s.parse_week("2025-W11")[1]
    assert monday.isoweekday() == 1 and s.week_of(monday) == "2025-W11"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-W54", "parameter 'week': 2026 has no week 54"),
        ("2025-W53", "parameter 'week': 2025 has no week 53"),
        ("2026-W00", "parameter 'week': 2026 has no week 0"),
        ("2026-7", "parameter 'week' must be an ISO week like 2026-W07, got '2026-7'"),
        ("2026-W7", "parameter 'week' must be an ISO week like 2026-W07, got '2026-W7'"),
        ("x", "parameter 'week' must be an ISO week like 2026-W07, got 'x'"),
        ("", "parameter 'week' must be an ISO week like 2026-W07, got ''"),
        ("2026-w07", "parameter 'week' must be an ISO week like 2026-W07, got '2026-w07'"),
        ("26-W07", "parameter 'week' must be an ISO week like 2026-W07, got '26-W07'"),
    ],
)
def test_parse_week_errors(text: str, message: str) -> None:
    with pytest.raises(SettingsError) as info:
        s.parse_week(text)
    assert str(info.value) == message


def test_parse_week_names_its_origin() -> None:
    with pytest.raises(SettingsError, match=r"^parameter 'semana' must be an ISO week"):
        s.parse_week("nope", origin="semana")


@pytest.mark.parametrize(
    ("utc", "week"),
    [
        # Sunday 2026-11-22 22:00 in São Paulo (UTC-3) is still week 47 although UTC is already Monday
        (dt.datetime(2026, 11, 23, 1, 0, tzinfo=UTC), "2026-W47"),
        (dt.datetime(2026, 11, 23, 2, 59, 59, tzinfo=UTC), "2026-W47"),
        # Monday 00:00 in São Paulo
        (dt.datetime(2026, 11, 23, 3, 0, tzinfo=UTC), "2026-W48"),
        # new year: Sunday 2027-01-03 is still in 2026-W53 in São Paulo
        (dt.datetime(2027, 1, 4, 2, 30, tzinfo=UTC), "2026-W53"),
        (dt.datetime(2027, 1, 4, 3, 30, tzinfo=UTC), "2027-W01"),
        # 2025-12-29 (Monday) belongs to 2026-W01
        (dt.datetime(2025, 12, 29, 12, 0, tzinfo=UTC), "2026-W01"),
    ],
)
def test_current_week_is_in_sao_paulo(utc: dt.datetime, week: str) -> None:
    assert s.current_week(utc) == week
    # the same moment in any zone gives the same week
    assert s.current_week(utc.astimezone(dt.timezone(dt.timedelta(hours=9)))) == week


def test_current_week_now() -> None:
    week = s.current_week()
    assert re.fullmatch(r"\d{4}-W\d{2}", week)
    assert s.parse_week(week)[0] == week
    assert week == s.week_of(dt.datetime.now(s.TZ).date())


# --------------------------------------------------------------------------- production safety


@pytest.mark.parametrize(("per_second", "per_minute"), [(2.5, 120), (2, 121), (100, 6000)])
def test_rates_above_cademis_limits_are_refused_for_a_real_account(
    per_second: float, per_minute: int
) -> None:
    with pytest.raises(
        SettingsError, match=r"exceed Cademi's documented limits \(2 calls/s, 120/min\)"
    ):
        s.from_parameters(params(per_second=per_second, per_minute=per_minute))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.9", "[::1]"])
def test_a_loopback_simulator_may_be_called_faster(host: str) -> None:
    got = s.from_parameters(
        params(base_url=f"http://{host}:8867/api/v1", per_second=100, per_minute=6000)
    )
    assert got.per_second == 100 and got.per_minute == 6000


def test_the_documented_limits_themselves_are_accepted() -> None:
    got = s.from_parameters(params(per_second=2, per_minute=120))
    assert (got.per_second, got.per_minute) == (2.0, 120)


def test_the_placeholder_base_url_is_refused() -> None:
    with pytest.raises(SettingsError, match="placeholder"):
        s.from_parameters(params(base_url="https://SUBDOMAIN.cademi.com.br/api/v1"))


def test_committed_parameters_are_production_values_and_the_demo_lives_apart(
    tmp_path, monkeypatch
) -> None:
    """parameters/progress.yaml: Cademi's limits, a real-account URL; parameters/demo/ only for a
    data directory `painel demo prepare` marked, where the simulator's 50x limits apply."""
    from painel.config import Paths
    from painel.runner import resolve_parameters

    monkeypatch.delenv("PAINEL_PROFILE", raising=False)
    project = Path(__file__).resolve().parents[2]
    production = Paths(home=tmp_path / "prod", project=project)
    values = resolve_parameters(production, "progress")
    assert (values["per_second"], values["per_minute"]) == (2.0, 120)
    with pytest.raises(SettingsError, match="placeholder"):
        s.from_parameters(values)

    demo = Paths(home=tmp_path / "demo", project=project)
    demo.set_profile("demo")
    values = resolve_parameters(demo, "progress")
    assert values["base_url"].startswith("http://127.0.0.1:")
    assert s.from_parameters(values).per_second == 100

    monkeypatch.setenv("PAINEL_PROFILE", "")  # the environment overrides the file: no profile
    assert resolve_parameters(demo, "progress")["per_second"] == 2.0
