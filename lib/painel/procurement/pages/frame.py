"""What every procurement panel shares: the year and organ filters, the date of the data,
KPI cards, tables with Excel export, and the drill-down to one purchase (or contract): its
data, its findings, its items and its page on PNCP.

A panel subclasses :class:`ProcurementPanel`, lays out its widgets in ``body()`` and fills
them in ``refresh()`` from :attr:`filters`. ``open_purchase(numero)`` shows a purchase
below the panel; every read goes through the viewer's scope, so an organ's user cannot
open another organ's purchase even by forging the click.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...access import Viewer
from ...dash import excel as xlsx
from ...dash import fmt, later, plots, ui
from ...dash.download import Download, file_name
from ...dash.identity import open_dataset
from ...dash.table import Column, Table
from ...scope import ScopedDataset
from .. import DATASET, codes, queries
from ..etl.rules import RULES
from ..queries import Filters

ALL = ""
STYLE = {"description_width": "initial"}
SOURCE = "do PNCP"
ITEM_COLUMNS = [
    Column("numero_item", "Item", kind="id"),
    Column("descricao", "Descrição"),
    Column("quantidade", "Quantidade", kind="decimal", decimals=2),
    Column("unidade_medida", "Unidade"),
    Column("valor_unitario_estimado", "Valor unitário estimado", kind="money"),
    Column("valor_unitario_homologado", "Valor unitário homologado", kind="money"),
    Column("valor_total", "Valor total", kind="money"),
    Column("classe", "Classe"),
    Column("fornecedor", "Fornecedor"),
]
COMPRA_COLUMNS = [
    Column("numero_controle_pncp", "Contratação (PNCP)", kind="id"),
    Column("data_publicacao_pncp", "Publicação", kind="date"),
    Column("valor", "Valor", kind="money"),
]
# evidence keys as people read them, and how their values are shown
EVIDENCE: dict[str, tuple[str, str]] = {
    "classe": ("Classe", "text"),
    "inciso": ("Inciso do art. 75", "text"),
    "limite": ("Limite", "money_or_share"),
    "total": ("Total", "money"),
    "n": ("Quantidade", "int"),
    "estimado": ("Valor estimado", "money"),
    "homologado": ("Valor homologado", "money"),
    "ano": ("Ano", "id"),
    "valor_inicial": ("Valor inicial", "money"),
    "acrescido": ("Acréscimos", "money"),
    "termos": ("Termos aditivos", "int"),
    "publicacao": ("Publicação no PNCP", "date"),
    "encerramento": ("Encerramento das propostas", "date"),
    "assinatura": ("Assinatura", "date"),
    "dias_uteis": ("Dias úteis contados", "int"),
    "minimo": ("Mínimo legal (dias úteis)", "int"),
    "prazo": ("Prazo legal (dias úteis)", "int"),
    "material_ou_servico": ("Material ou serviço", "kind"),
    "criterio_julgamento_id": ("Critério de julgamento", "criterio"),
    "vigencia_dias": ("Vigência (dias)", "int"),
    "dias_aditados": ("Prorrogação (dias)", "int"),
    "contrato_anterior": ("Contrato anterior", "id"),
    "assinatura_anterior": ("Assinatura do anterior", "date"),
    "fornecedor": ("Fornecedor (CNPJ/CPF)", "id"),
    "inicio": ("Início da vigência", "date"),
    "fim": ("Fim da vigência", "date"),
    "modalidade_compra": ("Modalidade da compra", "modalidade"),
    "vinculo_ausente": ("Sem vínculo com a compra", "bool"),
    "item": ("Item", "id"),
    "descricao": ("Descrição", "text"),
    "unidade_medida": ("Unidade", "text"),
    "preco_unitario": ("Preço unitário", "money"),
    "preco_base": ("Preço por unidade básica", "money"),
    "referencia": ("Preço de referência (mediana)", "money"),
    "orgaos": ("Órgãos na referência", "int"),
    "base": ("Referência por", "text"),
    "valor_fornecedor": ("Valor do fornecedor", "money"),
    "hhi": ("Concentração (HHI)", "decimal"),
}


class ProcurementPanel:
    """One procurement panel for one viewer."""

    title = ""
    sheet = "Dados"

    def __init__(self, viewer: Viewer, ds: ScopedDataset):
        self.viewer, self.ds = viewer, ds
        self.notice = widgets.Output()
        anos = queries.years(ds)
        self.ano = widgets.Dropdown(
            options=[(str(a), a) for a in anos] + [("Todos", 0)] if anos else [("—", 0)],
            value=anos[0] if anos else 0,
            description="Ano:",
            style=STYLE,
            layout=widgets.Layout(width="150px"),
        )
        orgs = queries.orgaos(ds)
        options = [(str(n), str(c)) for c, n in zip(orgs["orgao_cnpj"], orgs["nome"], strict=True)]
        self.single_organ = len(options) == 1
        self.no_organ = not options
        self.orgao = widgets.Dropdown(
            options=options if self.single_organ else [("Todos os órgãos", ALL), *options],
            value=options[0][1] if self.single_organ else ALL,
            description="Órgão:",
            style=STYLE,
            layout=widgets.Layout(width="min(100%, 520px)"),
        )
        self.stamp = widgets.HTML(self._stamp())
        self.detail = widgets.VBox(layout=widgets.Layout(display="none"))
        self.items, self.items_export = self.table_export(
            ITEM_COLUMNS,
            name="itens",
            sheet="Itens",
            caption="Itens da contratação",
            unit="itens",
            sort="numero_item",
            describe=lambda: [*self.describe(), ("Contratação", self._open or "")],
        )
        self._open: str | None = None

    # ---- state -----------------------------------------------------------------------------
    @property
    def filters(self) -> Filters:
        return Filters(
            ano=int(ui.choose(self.ano.value, self.ano.options, fallback=0) or 0),
            orgao=str(ui.choose(self.orgao.value, self.orgao.options, fallback=ALL) or ""),
        )

    def describe(self) -> list[tuple[str, str]]:
        """The filters as a file's "Filtros" sheet records them."""
        f = self.filters
        organ = dict((v, k) for k, v in self.orgao.options).get(f.orgao, "Todos")
        return [
            ("Painel", self.title),
            ("Dados de", self.data_day()),
            ("Ano", str(f.ano) if f.ano else "Todos"),
            ("Órgão", organ if f.orgao else "Todos"),
        ]

    def data_day(self) -> str:
        extracted = self.ds.manifest.get("source_extracted_at")
        if not extracted:
            return fmt.EMPTY
        day = pd.Timestamp(extracted).date() - pd.Timedelta(days=1)
        return fmt.date(day)

    # ---- pieces ---------------------------------------------------------------------------------
    def _stamp(self) -> str:
        m = self.ds.manifest
        published = fmt.datetime(m.get("published_at"))
        text = f"Dados {SOURCE} até {self.data_day()} (atualizados em {published})."
        return f'<p class="painel-stamp" role="status">{html.escape(text)}</p>'

    def filter_items(self) -> list[widgets.Widget]:
        items: list[widgets.Widget] = [self.ano]
        if not self.single_organ:
            items.append(self.orgao)
        return items

    def filter_bar(self) -> widgets.Widget:
        return widgets.HBox(
            self.filter_items(),
            layout=widgets.Layout(flex_flow="row wrap", gap="8px", align_items="center"),
        )

    def export_button(
        self,
        table: Table,
        columns: Sequence[Column],
        name: str,
        sheet: str,
        describe: Callable[[], list[tuple[str, str]]] | None = None,
    ) -> Download:
        def make() -> tuple[str, bytes, int]:
            df = table.view()
            data = xlsx.workbook(
                df,
                columns,
                sheet=sheet,
                filters=(describe or self.describe)(),
                exported_by=self.viewer.label(),
            )
            return file_name(name, str(self.filters.ano or "todos")), data, len(df)

        return Download("Exportar Excel (linhas da tabela)", make, about=describe or self.describe)

    def table_export(
        self,
        columns: Sequence[Column],
        *,
        name: str,
        sheet: str,
        describe: Callable[[], list[tuple[str, str]]] | None = None,
        **table: Any,
    ) -> tuple[Table, Download]:
        t = Table(columns, **table)
        return t, self.export_button(t, columns, name, sheet, describe)

    def opens_purchases(self, table: Table, key: str = "numero_controle_pncp") -> None:
        """A click on a row of ``table`` opens the purchase the row names."""
        table.on_row_click(ui.guarded(self.notice)(lambda r: self.open_purchase(r.get(key))))

    def watch(self, refresh: Callable[[], None], *more: widgets.Widget) -> None:
        """Every filter change calls ``refresh`` (and closes an open purchase)."""
        guarded = ui.guarded(self.notice)

        def changed(_change: Any) -> None:
            self.close_purchase()
            refresh()

        for w in (self.ano, self.orgao, *more):
            w.observe(guarded(changed), names="value")

    # ---- the purchase ----------------------------------------------------------------------
    def open_purchase(self, numero: Any) -> None:
        """Show purchase (or contract) ``numero`` below the panel, if the viewer sees it."""
        numero = str(numero or "")
        got = queries.purchase(self.ds, numero) if numero else None
        contract = None if got is not None or not numero else queries.contract(self.ds, numero)
        if got is None and contract is None:
            return
        self._open = numero
        parts: list[widgets.Widget] = []
        if contract is not None:
            parts.append(widgets.HTML(contract_html(contract)))
            buy = contract.get("numero_controle_pncp_compra")
            got = queries.purchase(self.ds, str(buy)) if buy else None
        if got is not None:
            parts.append(widgets.HTML(purchase_html(got)))
            found = queries.findings_of(self.ds, str(got["numero_controle_pncp"]))
            if contract is not None:
                found = pd.concat([queries.findings_of(self.ds, numero), found])
            parts.append(widgets.HTML(findings_list_html(found)))
            self.items.set_frame(queries.items(self.ds, str(got["numero_controle_pncp"])))
            parts += [self.items, self.items_export]
        close = widgets.Button(description="Fechar", icon="times")
        close.on_click(ui.guarded(self.notice)(lambda _b: self.close_purchase()))
        self.detail.children = [*parts, close]
        self.detail.layout.display = None

    def close_purchase(self) -> None:
        self._open = None
        self.detail.children = []
        self.detail.layout.display = "none"

    # ---- the page ---------------------------------------------------------------------------
    def body(self) -> list[widgets.Widget]:
        raise NotImplementedError

    def refresh(self) -> None:
        raise NotImplementedError

    def widget(self) -> widgets.Widget:
        return widgets.VBox([self.stamp, self.filter_bar(), self.notice, *self.body(), self.detail])


# ---- HTML pieces ----------------------------------------------------------------------------
def pncp_link(url: Any, text: str = "Ver no PNCP") -> str:
    url = str(url or "")
    if not url.startswith("https://pncp.gov.br/"):
        return ""
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">'
        f"{html.escape(text)} ↗</a>"
    )


def _dl(rows: Sequence[tuple[str, str]]) -> str:
    cells = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows if v != fmt.EMPTY
    )
    return f'<dl class="painel-facts">{cells}</dl>'


def purchase_html(p: dict[str, Any]) -> str:
    situacao = codes.SITUACOES_COMPRA.get(int(p["situacao_compra_id"] or 0)) or fmt.EMPTY
    rows = [
        ("Órgão", str(p.get("orgao") or fmt.EMPTY)),
        ("Unidade", f"{p.get('unidade') or fmt.EMPTY} ({p.get('municipio') or fmt.EMPTY})"),
        ("Modalidade", str(p.get("modalidade") or fmt.EMPTY)),
        ("Fundamento", str(p.get("amparo") or fmt.EMPTY)),
        ("Situação", situacao),
        ("Processo", str(p.get("processo") or fmt.EMPTY)),
        ("Valor estimado", fmt.money(p.get("valor_total_estimado"))),
        ("Valor homologado", fmt.money(p.get("valor_total_homologado"))),
        ("Publicação no PNCP", fmt.datetime(p.get("data_publicacao_pncp"))),
        ("Abertura das propostas", fmt.datetime(p.get("data_abertura_proposta"))),
        ("Encerramento das propostas", fmt.datetime(p.get("data_encerramento_proposta"))),
        ("Classe principal", str(p.get("classe") or fmt.EMPTY)),
        ("Itens", fmt.number(p.get("itens"))),
    ]
    title = f"Contratação {p['numero_controle_pncp']}"
    return (
        f"<h3>{html.escape(title)}</h3><p>{html.escape(str(p.get('objeto_compra') or ''))}</p>"
        f"{_dl(rows)}<p>{pncp_link(p.get('link_pncp'))}</p>"
    )


def contract_html(k: dict[str, Any]) -> str:
    rows = [
        ("Órgão", str(k.get("orgao") or fmt.EMPTY)),
        ("Unidade", str(k.get("unidade") or fmt.EMPTY)),
        ("Fornecedor", str(k.get("fornecedor") or fmt.EMPTY)),
        ("Valor inicial", fmt.money(k.get("valor_inicial"))),
        ("Valor global", fmt.money(k.get("valor_global"))),
        ("Assinatura", fmt.date(k.get("data_assinatura"))),
        (
            "Vigência",
            f"{fmt.date(k.get('data_vigencia_inicio'))} a {fmt.date(k.get('data_vigencia_fim'))}",
        ),
        ("Publicação no PNCP", fmt.datetime(k.get("data_publicacao_pncp"))),
    ]
    title = f"Contrato {k['numero_controle_pncp']}"
    return (
        f"<h3>{html.escape(title)}</h3><p>{html.escape(str(k.get('objeto_contrato') or ''))}</p>"
        f"{_dl(rows)}<p>{pncp_link(k.get('link_pncp'), 'Ver o contrato no PNCP')}</p>"
    )


def findings_list_html(df: pd.DataFrame) -> str:
    if df.empty:
        return "<p>Nenhum alerta para esta contratação.</p>"
    items = "".join(
        f"<li><b>{html.escape(str(r.regra))} – {html.escape(str(r.titulo))}</b>: "
        f"{html.escape(str(r.resumo))} ({html.escape(str(r.fundamento))})</li>"
        for r in df.drop_duplicates(["regra", "chave"]).itertuples()
    )
    return f"<h4>Alertas desta contratação</h4><ul>{items}</ul>"


def evidence_value(kind: str, value: Any) -> str:
    if kind == "money_or_share":  # R9's limit is a share (0.25), the others' an amount
        kind = "share" if isinstance(value, int | float) and value < 1 else "money"
    if kind == "date":
        return fmt.date(value)
    if kind == "bool":
        return "sim" if value else "não"
    if kind == "kind":
        return {"M": "Material", "S": "Serviço"}.get(str(value), str(value))
    if kind == "criterio":
        return codes.CRITERIOS_JULGAMENTO.get(int(value)) or str(value) if value else fmt.EMPTY
    if kind == "modalidade":
        return codes.MODALIDADES.get(int(value)) or str(value) if value else fmt.EMPTY
    if kind == "money":
        return fmt.money(value)
    if kind == "int":
        return fmt.number(value)
    if kind == "decimal":
        return fmt.number(value, 2)
    if kind == "share":
        return fmt.percent(100 * float(value), 1) if isinstance(value, int | float) else fmt.EMPTY
    if kind == "id":
        return str(value)
    return fmt.EMPTY if value is None else str(value)


def evidence(text: Any) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """A finding's evidence (JSON) as ``(label, value)`` rows and the purchases it lists."""
    try:
        data = json.loads(text) if isinstance(text, str) else dict(text or {})
    except (TypeError, ValueError):
        return [], []
    rows: list[tuple[str, str]] = []
    compras: list[dict[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, list):
            if key == "compras":
                compras = [v for v in value if isinstance(v, dict)]
            continue
        if isinstance(value, dict) or value is None:
            continue
        label, kind = EVIDENCE.get(key, (key.replace("_", " ").capitalize(), "text"))
        rows.append((label, evidence_value(kind, value)))
    return rows, compras


def rule_label(code: Any) -> str:
    title = RULES.get(str(code), ("", ""))[0]
    return f"{code} – {title}" if title else str(code)


def hbars(
    labels: Any,
    values: Any,
    text: list[str],
    *,
    title: str,
    axis: str,
    color: str | list[str],
    empty: str = "Sem dados para esta seleção",
    xaxis: dict[str, Any] | None = None,
    shapes: list[dict[str, Any]] | None = None,
) -> plots.Spec:
    """Horizontal bars, the first label on top (a click on a bar names its label); ``text``
    is each bar's pt-BR figure, ``color`` one colour or one per bar."""
    data = pd.DataFrame({"y": list(labels), "x": list(values), "t": text}).iloc[::-1]
    colors = color if isinstance(color, str) else list(reversed(color))
    layout: dict[str, Any] = {
        "title": title,
        "height": max(260, 90 + 28 * len(data)),
        "margin": {"l": 10, "r": 40, "t": 56, "b": 40},
        "xaxis": {"title": {"text": axis}, **(xaxis or {})},
        "yaxis": category_axis(data["y"]),
        "showlegend": False,
    }
    if shapes:
        layout["shapes"] = shapes
    if data.empty:
        layout["annotations"] = [
            {
                "text": empty,
                "showarrow": False,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
            }
        ]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": plots.plain(data["x"]),
        "y": [str(v) for v in data["y"]],
        "text": list(data["t"]),
        "textposition": "auto",
        "cliponaxis": False,  # a figure outside a short bar may run into the margin
        "textangle": 0,
        "marker": {"color": colors},
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    return plots.spec([trace], layout)


def category_axis(labels: Any, limit: int = 24) -> dict[str, Any]:
    """The category axis of horizontal bars: long names shortened on the axis (a phone keeps
    room for the bars); the bar's hover and a click keep the whole name."""
    names = [str(v) for v in labels]
    short = [n if len(n) <= limit else n[: limit - 1].rstrip() + "…" for n in names]
    axis: dict[str, Any] = {"automargin": True, "type": "category"}
    if short != names:
        axis.update(tickmode="array", tickvals=names, ticktext=short)
    return axis


def count_axis(values: Any, title: str) -> dict[str, Any]:
    """A count axis: whole numbers only (a small count would get 0,5 ticks)."""
    axis: dict[str, Any] = {"title": {"text": title}, "rangemode": "tozero"}
    if max([0, *[float(v) for v in values]]) <= 8:
        axis["dtick"] = 1
    return axis


def set_kpis(cards: list[widgets.HTML], values: Sequence[tuple[str, str, str]]) -> None:
    for card, (label, value, note) in zip(cards, values, strict=False):
        card.value = ui.kpi_html(label, value, note)


def show(widget: widgets.Widget, visible: bool) -> None:
    widget.layout.display = None if visible else "none"


def build_panel(cls: type[ProcurementPanel]) -> Callable[[Viewer], widgets.Widget]:
    """``build(viewer)`` for a panel class: the page now, its data right after (dash.later)."""

    def build(viewer: Viewer) -> widgets.Widget:
        ds = open_dataset(viewer, DATASET)
        page = cls(viewer, ds)
        if page.no_organ and not viewer.sees_all(DATASET):
            return widgets.VBox(
                [
                    page.stamp,
                    widgets.HTML(
                        ui.message(
                            "Você não tem acesso aos dados de nenhum órgão. Peça acesso à CGE.",
                            "warning",
                        )
                    ),
                ]
            )
        page.watch(page.refresh)
        later(ui.guarded(page.notice)(page.refresh))
        return page.widget()

    return build
