"""The "Monitoramento de Uso" page (admins, the SEE's central office): how the portal is used.

From ``usage_daily`` (:mod:`painel.usage`): people per day (DAU) and interactions per day —
on working days (Minas Gerais holidays out) or on every day —, the peak day with its people,
panels per person per day (distinct person × panel over DAU), interactions per person, the
cumulative count of distinct people, the panels most used, by profile and by SRE, exports and
errors. Every figure is a query on the day's figures; the page holds none of the events.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

import pandas as pd

from .access import Viewer
from .opstate import OpState

ROLES = ("admin", "school_central")
ALL = ""


@functools.cache
def _holidays(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("BR", subdiv="MG", years=[year]).keys())


def is_working(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def _where(periodo: str, perfil: str, sre: str) -> tuple[str, list[Any]]:
    where, args = ["1 = 1"], []
    if periodo:
        where.append("substr(dia, 1, 7) = ?")
        args.append(periodo)
    if perfil:
        where.append("perfil = ?")
        args.append(perfil)
    if sre:
        where.append("sre = ?")
        args.append(sre)
    return " AND ".join(where), args


def daily(opstate: OpState, periodo: str = ALL, perfil: str = ALL, sre: str = ALL) -> pd.DataFrame:
    """Per day: ``usuarios``, ``interacoes``, ``paineis`` (distinct person × panel),
    ``exportacoes``, ``erros``, ``util`` (a working day)."""
    where, args = _where(periodo, perfil, sre)
    with opstate.connect() as con:
        rows = con.execute(
            "SELECT dia, count(DISTINCT username), sum(interactions), "
            "count(DISTINCT CASE WHEN painel != '' THEN username || '|' || painel END), "
            "sum(exports), sum(errors) FROM usage_daily "
            f"WHERE {where} GROUP BY dia ORDER BY dia",
            args,
        ).fetchall()
    df = pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["dia", "usuarios", "interacoes", "paineis", "exportacoes", "erros"],
    )
    df["dia"] = pd.to_datetime(df["dia"]).dt.date
    df["util"] = [is_working(d) for d in df["dia"]]
    return df


def summary(
    days: pd.DataFrame, opstate: OpState, periodo: str, perfil: str, sre: str
) -> dict[str, Any]:
    """The cards' figures over ``days`` (already narrowed to working days or not)."""
    if days.empty:
        return {}
    peak = days.loc[days["interacoes"].idxmax()]
    where, args = _where(periodo, perfil, sre)
    dias = [d.isoformat() for d in days["dia"]]
    with opstate.connect() as con:
        con.execute("CREATE TEMP TABLE _dias (dia TEXT PRIMARY KEY)")
        con.executemany("INSERT INTO _dias VALUES (?)", [(d,) for d in dias])
        unique = con.execute(
            f"SELECT count(DISTINCT username) FROM usage_daily WHERE {where} "
            "AND dia IN (SELECT dia FROM _dias)",
            args,
        ).fetchone()[0]
    users = days["usuarios"].sum()
    return {
        "dias": len(days),
        "usuarios_dia": users / len(days),
        "interacoes_dia": days["interacoes"].sum() / len(days),
        "pico_dia": peak["dia"],
        "pico_interacoes": int(peak["interacoes"]),
        "pico_usuarios": int(peak["usuarios"]),
        "paineis_usuario": days["paineis"].sum() / users if users else 0.0,
        "interacoes_usuario": days["interacoes"].sum() / users if users else 0.0,
        "unicos": int(unique),
        "exportacoes": int(days["exportacoes"].sum()),
        "erros": int(days["erros"].sum()),
    }


def cumulative(
    opstate: OpState, periodo: str = ALL, perfil: str = ALL, sre: str = ALL
) -> pd.DataFrame:
    """Per day: the distinct people seen up to that day."""
    where, args = _where(periodo, perfil, sre)
    with opstate.connect() as con:
        rows = con.execute(
            f"SELECT first, count(*) FROM (SELECT username, min(dia) AS first FROM usage_daily "
            f"WHERE {where} GROUP BY username) GROUP BY first ORDER BY first",
            args,
        ).fetchall()
    df = pd.DataFrame([tuple(r) for r in rows], columns=["dia", "novos"])
    df["acumulado"] = df["novos"].cumsum()
    return df


def grouped(
    opstate: OpState, by: str, periodo: str = ALL, perfil: str = ALL, sre: str = ALL
) -> pd.DataFrame:
    """Per panel, profile or SRE (``by``): people, interactions, exports."""
    column = {"painel": "painel", "perfil": "perfil", "sre": "sre"}[by]
    where, args = _where(periodo, perfil, sre)
    if by == "painel":
        where += " AND painel != ''"
    with opstate.connect() as con:
        rows = con.execute(
            f"SELECT {column}, count(DISTINCT username), sum(interactions), sum(exports) "
            f"FROM usage_daily WHERE {where} GROUP BY {column} ORDER BY 3 DESC, 1",
            args,
        ).fetchall()
    return pd.DataFrame(
        [tuple(r) for r in rows], columns=[by, "usuarios", "interacoes", "exportacoes"]
    )


def build(viewer: Viewer, opstate: OpState | None = None) -> Any:
    import ipywidgets as widgets

    from . import domain
    from .dash import excel as xlsx
    from .dash import fmt, identity, later, ui
    from .dash.chart import Chart
    from .dash.download import Download, file_name
    from .dash.table import Column, Table

    if viewer.role not in ROLES:
        return widgets.HTML(
            ui.message("Só a administração e o órgão central veem o uso.", "warning")
        )
    opstate = opstate or identity.opstate()
    notice = widgets.Output()
    style = {"description_width": "initial"}
    with opstate.connect() as con:
        months = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT substr(dia, 1, 7) FROM usage_daily ORDER BY 1 DESC"
            )
        ]
        perfis = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT perfil FROM usage_daily WHERE perfil != '' ORDER BY 1"
            )
        ]
        sres = [r[0] for r in con.execute("SELECT DISTINCT sre FROM usage_daily WHERE sre != ''")]
    role_names = domain.roles()
    titles = {p.stem: p_title for p, p_title in _panel_titles().items()}
    periodo = widgets.Dropdown(
        options=[("Todo o período", ALL)]
        + [(f"{fmt.MONTHS[int(m[5:7]) - 1]}/{m[:4]}", m) for m in months],
        value=ALL,
        description="Período:",
        style=style,
    )
    dias = widgets.ToggleButtons(
        options=[("Dias úteis", "uteis"), ("Todos os dias", "todos")], value="uteis"
    )
    perfil = widgets.Dropdown(
        # the role's name, without its description's explanation ("Analista da CGE: todos…")
        options=[("Todos os perfis", ALL)]
        + [(role_names.get(p, p).split(":", 1)[0], p) for p in perfis],
        value=ALL,
        description="Perfil:",
        style=style,
    )
    sre = widgets.Dropdown(
        options=[("Todas as SREs", ALL)]
        + [(f"SRE {s}", s) for s in sorted(sres, key=lambda v: int(v) if v.isdigit() else 0)],
        value=ALL,
        description="SRE:",
        style=style,
    )
    cards = [widgets.HTML() for _ in range(6)]
    per_day = Chart(filename="uso_por_dia")
    accumulated = Chart(filename="usuarios_unicos_acumulados")
    top = Chart(filename="paineis_mais_usados")
    by_columns = [
        Column("nome", "Perfil"),
        Column("usuarios", "Pessoas", kind="int"),
        Column("interacoes", "Interações", kind="int"),
        Column("exportacoes", "Exportações", kind="int"),
    ]
    by_profile = Table(by_columns, caption="Uso por perfil", unit="perfis")
    sre_columns = [Column("nome", "SRE"), *by_columns[1:]]
    by_sre = Table(
        sre_columns, caption="Uso por SRE", unit="SREs", sort="interacoes", descending=True
    )
    day_columns = [
        Column("dia", "Dia", kind="date"),
        Column("usuarios", "Pessoas", kind="int"),
        Column("interacoes", "Interações", kind="int"),
        Column("paineis", "Painéis abertos", kind="int"),
        Column("exportacoes", "Exportações", kind="int"),
        Column("erros", "Erros", kind="int"),
    ]
    days_table = Table(day_columns, caption="Uso por dia", unit="dias", sort="dia", descending=True)

    def chosen() -> tuple[str, str, str]:
        return (
            str(ui.choose(periodo.value, periodo.options, fallback=ALL)),
            str(ui.choose(perfil.value, perfil.options, fallback=ALL)),
            str(ui.choose(sre.value, sre.options, fallback=ALL)),
        )

    def describe() -> list[tuple[str, str]]:
        labels = {w: dict((v, k) for k, v in w.options) for w in (periodo, perfil, sre)}
        return [
            ("Painel", "Monitoramento de Uso"),
            ("Período", labels[periodo].get(periodo.value, "")),
            ("Dias", "Dias úteis" if dias.value == "uteis" else "Todos os dias"),
            ("Perfil", labels[perfil].get(perfil.value, "")),
            ("SRE", labels[sre].get(sre.value, "")),
        ]

    def make() -> tuple[str, bytes, int]:
        df = days_table.view()
        data = xlsx.workbook(
            df, day_columns, sheet="Uso por dia", filters=describe(), exported_by=viewer.label()
        )
        return file_name("uso_do_portal"), data, len(df)

    export = Download("Exportar Excel (uso por dia)", make, about=describe)

    @ui.guarded(notice)
    def refresh(_change: Any = None) -> None:
        identity.check_access()
        p, r, s = chosen()
        every = daily(opstate, p, r, s)
        shown = every[every["util"].astype(bool)] if dias.value == "uteis" else every
        per_day.figure = day_lines(shown)
        fig = summary(shown, opstate, p, r, s)
        if not fig:
            for card in cards:
                card.value = ""
            cards[0].value = ui.kpi_html("Uso", "—", "nenhum registro nesta seleção")
        else:
            values = [
                (
                    "Pessoas por dia",
                    fmt.number(fig["usuarios_dia"]),
                    f"média de {fmt.plural(fig['dias'], 'dia', 'dias')}",
                ),
                (
                    "Interações por dia",
                    fmt.number(fig["interacoes_dia"]),
                    "filtros, cliques, ordenações, páginas",
                ),
                (
                    "Dia de pico",
                    fmt.number(fig["pico_interacoes"]),
                    f"interações em {fmt.date(fig['pico_dia'])}, {fmt.plural(fig['pico_usuarios'], 'pessoa', 'pessoas')}",
                ),
                ("Painéis por pessoa", fmt.number(fig["paineis_usuario"], 1), "por dia"),
                ("Interações por pessoa", fmt.number(fig["interacoes_usuario"], 1), "por dia"),
                (
                    "Pessoas diferentes",
                    fmt.number(fig["unicos"]),
                    f"{fmt.plural(fig['exportacoes'], 'exportação', 'exportações')}, {fmt.plural(fig['erros'], 'erro', 'erros')}",
                ),
            ]
            for card, (label, value, note) in zip(cards, values, strict=True):
                card.value = ui.kpi_html(label, value, note)
        acc = cumulative(opstate, p, r, s)
        accumulated.figure = cumulative_line(acc)
        panels = grouped(opstate, "painel", p, r, s)
        panels["nome"] = [titles.get(n, n) for n in panels["painel"]]
        top.figure = panel_bars(panels.head(12))
        profiles = grouped(opstate, "perfil", p, r, s)
        profiles["nome"] = [role_names.get(v, v).split(":", 1)[0] for v in profiles["perfil"]]
        by_profile.set_frame(profiles)
        sres_df = grouped(opstate, "sre", p, r, s)
        sres_df = sres_df[sres_df["sre"] != ""].reset_index(drop=True)
        sres_df["nome"] = [f"SRE {v}" for v in sres_df["sre"]]
        by_sre.set_frame(sres_df)
        days_table.set_frame(shown.sort_values("dia", ascending=False))

    for w in (periodo, dias, perfil, sre):
        w.observe(refresh, names="value")
    later(refresh)
    bar = widgets.HBox(
        [periodo, dias, perfil, sre],
        layout=widgets.Layout(flex_flow="row wrap", gap="8px", align_items="center"),
    )
    return widgets.VBox(
        [
            widgets.HTML(
                "<p>Uma interação é um filtro, um clique que detalha, uma ordenação ou uma página "
                "de tabela; abrir um painel não conta como interação.</p>"
            ),
            bar,
            notice,
            ui.kpi_row(cards),
            per_day,
            accumulated,
            top,
            by_profile,
            by_sre,
            days_table,
            export,
        ]
    )


def _panel_titles() -> dict[Any, str]:
    import json

    from .config import Paths

    out = {}
    for path in sorted(Paths.from_env().dashboards.glob("*.ipynb")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]["painel"]
            out[path] = str(meta.get("title") or path.stem)
        except (OSError, ValueError, KeyError):
            continue
    return out


def day_lines(days: pd.DataFrame) -> Any:
    from .dash import plots

    x: list[Any] = []
    people: list[Any] = []
    interactions: list[Any] = []
    previous = None
    for d, u, n in zip(days["dia"], days["usuarios"], days["interacoes"], strict=True):
        if previous is not None and (d - previous).days > 4:  # a gap: the line breaks
            x.append(None)
            people.append(None)
            interactions.append(None)
        x.append(d.isoformat())
        people.append(int(u))
        interactions.append(int(n))
        previous = d
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Pessoas",
            "x": x,
            "y": people,
            "hovertemplate": "%{x|%d/%m/%Y}: %{y:,.0f} pessoas<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Interações",
            "x": x,
            "y": interactions,
            "yaxis": "y2",
            "hovertemplate": "%{x|%d/%m/%Y}: %{y:,.0f} interações<extra></extra>",
        },
    ]
    layout = {
        "title": "Pessoas e interações por dia",
        "height": 340,
        "margin": {"l": 10, "r": 10, "t": 56, "b": 40},
        "xaxis": {"type": "date", "tickformat": date_ticks(days["dia"])},
        "yaxis": {
            "title": {"text": "Pessoas"},
            "rangemode": "tozero",
            "automargin": True,
            "tickformat": ",.0f",
        },
        "yaxis2": {
            "tickformat": ",.0f",  # 178.700, not plotly's 178,7k
            "title": {"text": "Interações"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "automargin": True,
        },
        "legend": {"orientation": "h", "y": -0.2},
    }
    if days.empty:
        layout["annotations"] = [
            {
                "text": "Sem registros nesta seleção",
                "showarrow": False,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
            }
        ]
    return plots.spec(traces, layout)


def date_ticks(days: Any) -> str:
    """Day and month on a short span; month and year when it spans more than half a year."""
    values = [pd.Timestamp(d) for d in days]
    if values and (max(values) - min(values)).days > 180:
        return "%m/%Y"
    return "%d/%m"


def cumulative_line(acc: pd.DataFrame) -> Any:
    from .dash import plots

    trace = {
        "type": "scatter",
        "mode": "lines",
        "x": [str(d) for d in acc["dia"]],
        "y": [int(v) for v in acc["acumulado"]],
        "line": {"shape": "hv"},
        "hovertemplate": "%{x|%d/%m/%Y}: %{y:,.0f} pessoas<extra></extra>",
    }
    layout = {
        "title": "Pessoas diferentes, acumulado",
        "height": 300,
        "margin": {"l": 10, "r": 10, "t": 56, "b": 40},
        "xaxis": {"type": "date", "tickformat": date_ticks(acc["dia"])},
        "yaxis": {"rangemode": "tozero", "automargin": True, "tickformat": ",.0f"},
        "showlegend": False,
    }
    return plots.spec([trace], layout)


def panel_bars(panels: pd.DataFrame) -> Any:
    """Horizontal bars, the most used panel on top."""
    from .dash import fmt, plots

    data = panels.iloc[::-1]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [int(v) for v in data["interacoes"]],
        "y": [str(v) for v in data["nome"]],
        "text": [
            f"{fmt.number(v)} · {fmt.plural(int(u), 'pessoa', 'pessoas')}"
            for v, u in zip(data["interacoes"], data["usuarios"], strict=True)
        ],
        "textposition": "auto",
        "textangle": 0,
        "cliponaxis": False,
        "marker": {"color": "#1f4e79"},
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    layout = {
        "title": "Painéis mais usados (interações)",
        "height": max(260, 90 + 28 * len(data)),
        "margin": {"l": 10, "r": 40, "t": 56, "b": 40},
        "xaxis": {"title": {"text": "Interações"}},
        "yaxis": {"automargin": True, "type": "category"},
        "showlegend": False,
    }
    return plots.spec([trace], layout, counts=True)
