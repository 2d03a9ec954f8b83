"""Painel de Alertas (CGE analysts: the workflow) and Meus Alertas (an audited organ).

The findings of rules R1-R9 (table ``achados``) of the year, organ, rule and status chosen,
riskiest first, with each finding's status in the analysts' workflow
(:mod:`painel.procurement.workflow`). A click on a finding opens it: the rule and its legal
basis, the evidence, the purchase or contract with its items and its link on PNCP, the
history of the finding; a CGE analyst moves it there (novo → em análise → confirmado /
descartado → enviado ao órgão), with a reason where one is due.

Meus Alertas is the organ's side: only its own findings (row-level security) and only those
the CGE sent it (``workflow.ORGAO_VE``), read-only.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, plots, ui
from ...dash.identity import opstate
from ...dash.table import Column
from .. import queries, workflow
from ..etl.rules import RULES
from . import frame
from .frame import (
    COMPRA_COLUMNS,
    STYLE,
    ProcurementPanel,
    build_panel,
    evidence,
    rule_label,
    set_kpis,
    show,
)

ALL = ""
COLUMNS = [
    Column("regra_nome", "Regra"),
    Column("situacao", "Situação"),
    Column("orgao", "Órgão"),
    Column("unidade", "Unidade"),
    Column("resumo", "Resumo"),
    Column("risco", "Risco estimado", kind="money"),
    Column("visto_em", "Encontrado em", kind="date"),
]
ORGAO_COLUMNS = [c for c in COLUMNS if c.key not in ("situacao", "orgao")]
RED = "#9b1c1c"


class Alertas(ProcurementPanel):
    title = "Painel de Alertas"
    organ_view = False  # Meus Alertas: only what the CGE sent, read-only
    rules: tuple[str, ...] = tuple(RULES)  # a thematic panel shows some rules only
    name = "alertas"  # of the exported files

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.regra = widgets.Dropdown(
            options=[("Todas as regras", ALL)] + [(rule_label(r), r) for r in self.rules],
            value=ALL,
            description="Regra:",
            style=STYLE,
            layout=widgets.Layout(width="min(100%, 420px)"),
        )
        self.situacao = widgets.Dropdown(
            options=[("Todas", ALL)] + [(v, k) for k, v in workflow.STATUS.items()],
            value=ALL,
            description="Situação:",
            style=STYLE,
        )
        self.cards = [widgets.HTML() for _ in range(4)]
        self.by_rule = ui.ClickChart(self.choose_rule, filename="alertas_por_regra")
        columns = ORGAO_COLUMNS if self.organ_view else COLUMNS
        self.table, self.export = self.table_export(
            columns,
            name=self.name,
            sheet="Alertas",
            caption="Alertas",
            unit="alertas",
            click_hint="clique em um alerta para ver as evidências",
            empty_text="Nenhum alerta nesta seleção.",
        )
        self.table.on_row_click(ui.guarded(self.notice)(self.open_finding))
        self.finding = widgets.VBox(layout=widgets.Layout(display="none"))
        self.compras, self.compras_export = self.table_export(
            COMPRA_COLUMNS,
            name="compras_do_alerta",
            sheet="Compras",
            caption="Compras somadas pela regra",
            unit="compras",
            click_hint="clique em uma compra para abri-la",
        )
        self.opens_purchases(self.compras)
        self._record: dict[str, Any] | None = None
        self._rows = pd.DataFrame()

    # ---- filters -------------------------------------------------------------------------------
    @property
    def chosen_rule(self) -> str:
        return str(ui.choose(self.regra.value, self.regra.options, fallback=ALL))

    @property
    def chosen_status(self) -> str:
        if self.organ_view:
            return ALL
        return str(ui.choose(self.situacao.value, self.situacao.options, fallback=ALL))

    @property
    def filters(self) -> queries.Filters:
        f = super().filters
        regras = () if self.rules == tuple(RULES) else self.rules
        return queries.Filters(ano=f.ano, orgao=f.orgao, regra=self.chosen_rule, regras=regras)

    def choose_rule(self, label: Any) -> None:
        for text, code in self.regra.options:
            if text == label:
                self.regra.value = code

    def describe(self) -> list[tuple[str, str]]:
        out = super().describe()
        out.append(("Regra", rule_label(self.chosen_rule) if self.chosen_rule else "Todas"))
        if not self.organ_view:
            status = self.chosen_status
            out.append(("Situação", workflow.STATUS.get(status, "Todas")))
        return out

    def filter_items(self) -> list[widgets.Widget]:
        items = [*super().filter_items()]
        if len(self.rules) > 1:
            items.append(self.regra)
        return items if self.organ_view else [*items, self.situacao]

    def watch(self, refresh: Any, *more: widgets.Widget) -> None:
        super().watch(refresh, self.regra, self.situacao, *more)

    # ---- data ----------------------------------------------------------------------------------
    @property
    def statuses(self) -> tuple[str, ...]:
        """The workflow statuses listed: the organ view's (sent), the one chosen, or all."""
        if self.organ_view:
            return workflow.ORGAO_VE
        return (self.chosen_status,) if self.chosen_status else ()

    def hold_workflow(self) -> None:
        queries.hold_workflow(self.ds, opstate(), workflow.ORGAO_VE if self.organ_view else ())

    def page_of(
        self, *, terms: list[str], sort: str, descending: bool, offset: int, limit: int | None
    ) -> tuple[pd.DataFrame, int]:
        """The table's rows, a page at a time from the dataset (a year holds tens of
        thousands of findings: the page never holds them all)."""
        self.hold_workflow()
        df, total = queries.findings_page(
            self.ds,
            self.filters,
            self.statuses,
            terms=terms,
            sort=sort,
            descending=descending,
            offset=offset,
            limit=limit,
        )
        return with_labels(df), total

    def counts(self) -> pd.DataFrame:
        """Per rule and status: findings, risk and purchases of the filters."""
        self.hold_workflow()
        return queries.finding_status_counts(self.ds, self.filters, self.statuses)

    def refresh(self) -> None:
        counts = self.counts()
        per_rule = counts.groupby("regra").agg(n=("n", "sum"), risco=("risco", "sum")).reset_index()
        base = pd.DataFrame({"regra": list(self.rules)})
        per_rule = base.merge(per_rule, on="regra", how="left").fillna({"n": 0, "risco": 0.0})
        self.by_rule.figure = rule_bars(per_rule)
        n = int(counts["n"].sum())
        risco = float(counts["risco"].sum())
        status = counts.groupby("status")["n"].sum()
        if self.organ_view:
            compras = queries.finding_purchases(self.ds, self.filters, self.statuses)
            set_kpis(
                self.cards,
                [
                    ("Alertas recebidos", fmt.number(n), "enviados pela CGE"),
                    ("Regras", fmt.number(int((per_rule["n"] > 0).sum())), "com algum alerta"),
                    ("Risco estimado", fmt.money_short(risco), "soma dos alertas"),
                    ("Contratações", fmt.number(compras), ""),
                ],
            )
        else:
            set_kpis(
                self.cards,
                [
                    ("Alertas", fmt.number(n), "nesta seleção"),
                    ("Novos", fmt.number(int(status.get(workflow.NOVO, 0))), "a analisar"),
                    (
                        "Em análise",
                        fmt.number(int(status.get(workflow.EM_ANALISE, 0))),
                        fmt.plural(
                            int(status.get(workflow.CONFIRMADO, 0)), "confirmado", "confirmados"
                        ),
                    ),
                    ("Risco estimado", fmt.money_short(risco), "soma dos alertas"),
                ],
            )
        self.table.set_source(self.page_of, n)
        if self._record is not None:  # the open finding follows the filters or goes
            r = self.find(str(self._record["regra"]), str(self._record["chave"]))
            if r is None:
                self.close_finding()
            else:
                self.open_finding(r)

    def find(self, regra: str, chave: str) -> dict[str, Any] | None:
        """One finding as the list shows it, if it is in this viewer's list now."""
        self.hold_workflow()
        got = queries.finding(self.ds, self.filters, regra, chave, self.statuses)
        return None if got is None else with_labels(pd.DataFrame([got])).iloc[0].to_dict()

    # ---- one finding ---------------------------------------------------------------------------
    def open_finding(self, record: dict[str, Any]) -> None:
        regra, chave = str(record.get("regra")), str(record.get("chave"))
        r = self.find(regra, chave)
        if r is None:  # only what this viewer's list holds (its scope, its filters)
            return
        self._record = r
        facts, compras = evidence(queries.evidence_of(self.ds, regra, chave))
        parts: list[widgets.Widget] = [widgets.HTML(finding_html(r, facts))]
        if compras:
            self.compras.set_frame(
                pd.DataFrame(compras).reindex(columns=[c.key for c in COMPRA_COLUMNS])
            )
            parts += [self.compras, self.compras_export]
        if not self.organ_view:
            parts.append(widgets.HTML(history_html(workflow.history(opstate(), regra, chave))))
            if workflow.may_edit(self.viewer.role):
                parts.append(self.controls(r))
        close = widgets.Button(description="Fechar", icon="times")
        close.on_click(ui.guarded(self.notice)(lambda _b: self.close_finding()))
        parts.append(close)
        self.finding.children = parts
        show(self.finding, True)
        if r.get("numero_controle_pncp"):
            self.open_purchase(r["numero_controle_pncp"])
        else:
            self.close_purchase()

    def close_finding(self) -> None:
        self._record = None
        self.finding.children = []
        show(self.finding, False)
        self.close_purchase()

    def controls(self, r: dict[str, Any]) -> widgets.Widget:
        seen = str(r["status"])
        moves = workflow.MOVES.get(seen, ())
        if not moves:
            return widgets.HTML("<p>Alerta enviado ao órgão: situação final.</p>")
        to = widgets.Dropdown(
            options=[(workflow.STATUS[m], m) for m in moves],
            value=moves[0],
            description="Passar a:",
            style=STYLE,
        )
        reason = widgets.Textarea(
            placeholder="Motivo (obrigatório para descartar, reabrir ou voltar)",
            layout=widgets.Layout(width="min(100%, 520px)", height="70px"),
        )
        apply = widgets.Button(description="Registrar", button_style="primary", icon="check")
        said = widgets.HTML()

        def do(_b: Any) -> None:
            try:
                workflow.change(
                    opstate(),
                    regra=str(r["regra"]),
                    chave=str(r["chave"]),
                    seen=seen,
                    to=str(ui.choose(to.value, to.options, fallback="")),
                    actor=self.viewer.username,
                    role=self.viewer.role,
                    motivo=reason.value,
                    finding={f: r.get(f) for f in workflow.FINDING_FIELDS},
                )
            except workflow.WorkflowError as exc:
                said.value = ui.message(str(exc), "warning")
                self.refresh()
                return
            self.refresh()
            done = f"Alerta passado a {workflow.STATUS[str(to.value)].lower()}."
            self.notice_text(done)
            if self._record is not None:  # the finding is still listed: say it where the eye is
                self.finding.children = (
                    widgets.HTML(ui.message(done, "info")),
                    *self.finding.children,
                )

        apply.on_click(ui.guarded(self.notice)(do))
        return widgets.VBox(
            [
                widgets.HTML("<h4>Mudar a situação</h4>"),
                to,
                reason,
                apply,
                said,
            ]
        )

    def notice_text(self, text: str) -> None:
        ui.show(self.notice, ui.message(text, "info"))

    # ---- the page ------------------------------------------------------------------------------
    def body(self) -> list[widgets.Widget]:
        return [ui.kpi_row(self.cards), self.by_rule, self.table, self.export, self.finding]


def with_labels(df: pd.DataFrame) -> pd.DataFrame:
    """A list's rows with their status and rule as people read them."""
    df = df.reset_index(drop=True)
    df["situacao"] = df["status"].map(workflow.STATUS)
    df["regra_nome"] = df["regra"].map(rule_label)
    return df


def finding_html(r: dict[str, Any], facts: list[tuple[str, str]]) -> str:
    rows = [
        ("Situação", str(r.get("situacao") or "")),
        ("Órgão", str(r.get("orgao") or fmt.EMPTY)),
        ("Unidade", str(r.get("unidade") or fmt.EMPTY)),
        ("Risco estimado", fmt.money(r.get("risco"))),
        *facts,
    ]
    head = f"{r['regra']} – {r.get('titulo') or ''}"
    return (
        f'<div class="painel-finding"><h3>{html.escape(head)}</h3>'
        f"<p>{html.escape(str(r.get('resumo') or ''))}</p>"
        f"<p><small>Base legal: {html.escape(str(r.get('fundamento') or ''))}</small></p>"
        f"{frame._dl(rows)}</div>"
    )


def history_html(events: list[dict[str, Any]]) -> str:
    if not events:
        return ""
    items = []
    for e in events:
        who = "painel (regra)" if e["por"] == workflow.SYSTEM else e.get("quem") or e["por"]
        move = workflow.STATUS.get(e["para"], e["para"])
        if e["de"] and e["de"] != e["para"]:
            move = f"{workflow.STATUS.get(e['de'], e['de'])} → {move}"
        why = f": {e['motivo']}" if e.get("motivo") else ""
        items.append(
            f"<li>{html.escape(fmt.datetime(e['em']))} – {html.escape(who)} – "
            f"{html.escape(move)}{html.escape(why)}</li>"
        )
    return f"<h4>Histórico</h4><ul>{''.join(items)}</ul>"


def rule_bars(counts: pd.DataFrame) -> plots.Spec:
    labels = [rule_label(r) for r in counts["regra"]]
    n = [int(v) for v in counts["n"]]
    text = [
        f"{fmt.number(v)} · {fmt.money_short(r)}" for v, r in zip(n, counts["risco"], strict=True)
    ]
    layout: dict[str, Any] = {
        "title": "Alertas por regra",
        "height": 90 + 28 * len(labels),
        "margin": {"l": 10, "r": 40, "t": 56, "b": 40},
        "xaxis": frame.count_axis(n, "Alertas"),
        "yaxis": {**frame.category_axis(labels), "autorange": "reversed"},
        "showlegend": False,
    }
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": n,
        "y": labels,
        "text": text,
        "textposition": "auto",
        "cliponaxis": False,  # a figure outside a short bar may run into the margin
        "textangle": 0,
        "marker": {"color": RED},
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    return plots.spec([trace], layout, counts=True)


build = build_panel(Alertas)
