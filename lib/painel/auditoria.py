"""The "Auditoria" page (admins): the audit log (:mod:`painel.audit`) searched in the browser.

Filters: the period, the action and the person; the table's search finds words in what was
done to, from where and the details. The log is read a page at a time (it grows by every
login and export of the state), newest first; the export writes the rows of the search
(and is itself an entry of the log).
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any

import pandas as pd

from . import audit
from .access import Viewer
from .opstate import OpState, parse_iso, utcnow

PERIODS = [
    ("Últimas 24 horas", 1),
    ("Últimos 7 dias", 7),
    ("Últimos 30 dias", 30),
    ("Últimos 90 dias", 90),
    ("Último ano", 365),
    ("Tudo", 0),
]
ALL = ""
DETAIL_NAMES = {
    "linhas": "linhas",
    "escopo": "escopo",
    "filtros": "filtros",
    "papel": "papel",
    "acessos": "acessos",
    "motivo": "motivo",
    "de": "de",
    "para": "para",
    "formato": "",
}


def describe_detail(detail: dict[str, Any]) -> str:
    """An entry's detail for people: "linhas: 2.522; escopo: school:sre:12"."""
    from .dash import fmt

    parts = []
    for key, value in sorted(detail.items()):
        if key == "formato":
            continue
        if isinstance(value, dict) and set(value) == {"de", "para"}:
            shown = f"{_value(value['de'])} → {_value(value['para'])}"
        elif isinstance(value, dict):
            shown = ", ".join(f"{k}: {_value(v)}" for k, v in value.items())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            shown = fmt.number(value)
        else:
            shown = _value(value)
        if shown:
            parts.append(f"{DETAIL_NAMES.get(key, key)}: {shown}")
    return "; ".join(parts)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "sim" if value else "não"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "nenhum"
    if value is None or value == "":
        return "—"
    return str(value) if not isinstance(value, dict) else json.dumps(value, ensure_ascii=False)


def frame(entries: list[audit.Entry]) -> pd.DataFrame:
    rows = [
        {
            "id": e.id,
            "quando": parse_iso(e.at).astimezone(UTC).replace(tzinfo=None),  # shown in Brasília
            "quem": e.actor,
            "acao": e.label,
            "alvo": e.target,
            "origem": e.client,
            "detalhe": describe_detail(e.detail),
        }
        for e in entries
    ]
    return pd.DataFrame(rows, columns=["id", "quando", "quem", "acao", "alvo", "origem", "detalhe"])


def build(viewer: Viewer, opstate: OpState | None = None) -> Any:
    import ipywidgets as widgets

    from .dash import excel as xlsx
    from .dash import fmt, identity, later, ui
    from .dash.download import Download, file_name
    from .dash.table import Column, Table

    if viewer.role != "admin":
        return widgets.HTML(ui.message("Só a administração consulta a auditoria.", "warning"))
    opstate = opstate or identity.opstate()
    notice = widgets.Output()
    style = {"description_width": "initial"}
    period = widgets.Dropdown(options=PERIODS, value=7, description="Período:", style=style)
    action = widgets.Dropdown(
        options=[("Todas", ALL), *[(label, key) for key, label in audit.ACTIONS.items()]],
        value=ALL,
        description="Ação:",
        style=style,
    )
    person = widgets.Text(
        placeholder="usuário (exato)",
        description="Pessoa:",
        style=style,
        continuous_update=False,
        layout=widgets.Layout(width="260px"),
    )
    cards = [widgets.HTML() for _ in range(4)]
    columns = [
        Column("quando", "Quando", kind="datetime", sortable=False),
        Column("quem", "Quem", sortable=False),
        Column("acao", "Ação", sortable=False),
        Column("alvo", "Sobre", sortable=False),
        Column("origem", "De onde", sortable=False),
        Column("detalhe", "Detalhes", sortable=False),
    ]
    table = Table(
        columns,
        caption="Registro de auditoria (mais recentes primeiro)",
        unit="registros",
        empty_text="Nenhum registro nesta seleção.",
    )

    def chosen() -> dict[str, Any]:
        days = ui.choose(period.value, PERIODS, fallback=7)
        since = utcnow() - timedelta(days=int(days)) if days else None
        return {
            "since": since,
            "action": str(ui.choose(action.value, action.options, fallback=ALL)),
            "actor": str(person.value or "").strip()[:100],
        }

    def source(
        *, terms: list[str], sort: str, descending: bool, offset: int, limit: int | None
    ) -> tuple[pd.DataFrame, int]:
        identity.check_access()  # the log is read per page: a revoked admin reads no more
        entries, total = audit.search(
            opstate, text=" ".join(terms), limit=limit, offset=offset, **chosen()
        )
        return frame(entries), total

    def describe() -> list[tuple[str, str]]:
        c = chosen()
        return [
            ("Painel", "Auditoria"),
            ("Período", dict((v, k) for k, v in PERIODS).get(period.value, "")),
            ("Ação", audit.ACTIONS.get(c["action"], "Todas")),
            ("Pessoa", c["actor"] or "Todas"),
            ("Busca", table.search or "—"),
        ]

    def make() -> tuple[str, bytes, int]:
        df = table.view()
        data = xlsx.workbook(
            df, columns, sheet="Auditoria", filters=describe(), exported_by=viewer.label()
        )
        return file_name("auditoria"), data, len(df)

    export = Download("Exportar Excel (registros da busca)", make, about=describe)

    @ui.guarded(notice)
    def refresh(_change: Any = None) -> None:
        identity.check_access()
        c = chosen()
        n = audit.counts(opstate, since=c["since"])
        for card, (label, value, note) in zip(
            cards,
            [
                ("Registros", fmt.number(sum(n.values())), "no período"),
                ("Entradas", fmt.number(n.get("login", 0)), "logins com sucesso"),
                (
                    "Entradas recusadas",
                    fmt.number(n.get("login_failed", 0)),
                    "senha errada, bloqueio…",
                ),
                ("Exportações", fmt.number(n.get("export", 0)), "arquivos baixados"),
            ],
            strict=True,
        ):
            card.value = ui.kpi_html(label, value, note)
        _entries, total = audit.search(opstate, limit=0, **c)
        table.set_source(source, total)

    for w in (period, action, person):
        w.observe(refresh, names="value")
    later(refresh)
    bar = widgets.HBox(
        [period, action, person],
        layout=widgets.Layout(flex_flow="row wrap", gap="8px", align_items="center"),
    )
    return widgets.VBox(
        [
            widgets.HTML(
                "<p>Quem entrou, exportou, mudou usuários e acessos, registrou turmas, "
                "moveu alertas, executou cargas, reverteu versões e enviou relatórios. O registro não pode "
                f"ser alterado; guarda cada entrada por {fmt.number(audit.retention_days(opstate))} dias.</p>"
            ),
            bar,
            notice,
            ui.kpi_row(cards),
            table,
            export,
        ]
    )
