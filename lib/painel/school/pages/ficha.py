"""Ficha do Estudante: one student's report card. Pick a school, a turma and a student (or
find the student by name), then read the header, the KPI cards, the boletim componente ×
bimestre (grade over points, absences over classes) and the aproveitamento by bimestre.

Only for the staff of an SRE or a school (and admins): a central user reads no names."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...dash import fmt, plots, ui
from ...dash.chart import Chart
from ...dash.table import Column, Table
from .. import contract, queries
from .frame import STYLE, SchoolPanel, build_panel, may_list_students, set_kpis

SEM_TURMA = -1  # the turma option of matrículas with no turma
NINGUEM = 0  # the student option "choose one"
MAX_ENCONTRADOS = 50
RESTRITO = (
    "A Ficha do Estudante é restrita às equipes das SREs e das escolas. "
    "Use os painéis da rede para ver os totais."
)
# the boletim's rows come in the curriculum's order (contract.COMPONENTES)
ORDEM = {c: i for i, c in enumerate(contract.COMPONENTES)}


def boletim_columns(bimestres: list[int]) -> list[Column]:
    cols = [Column("componente", "Componente")]
    for b in bimestres:
        cols.append(Column(f"nota_{b}", f"{b}º bimestre – nota", sortable=False))
        cols.append(Column(f"faltas_{b}", f"{b}º bimestre – faltas", sortable=False))
    cols.append(Column("aproveitamento", "Aproveitamento (%)", kind="percent"))
    cols.append(Column("frequencia", "Frequência (%)", kind="percent"))
    return cols


def nota_text(nota: Any, pontos: Any, recuperacao: Any = None) -> str | None:
    """ "12,0 / 25,0", with the recovery grade when there is one; None when not posted."""
    if fmt._missing(nota):
        return None
    text = f"{fmt.number(nota, 1)} / {fmt.number(pontos, 1)}"
    if not fmt._missing(recuperacao):
        text += f" (recuperação {fmt.number(recuperacao, 1)})"
    return text


def faltas_text(faltas: Any, aulas: Any) -> str | None:
    """ "8 / 40" (absences over classes given); None when not posted."""
    if fmt._missing(aulas):
        return None
    return f"{fmt.number(faltas)} / {fmt.number(aulas)}"


def clipped(nota: pd.Series, pontos: pd.Series) -> pd.Series:
    """Grades clipped to [0, points distributed] (docs/school.md: impossible values)."""
    low = nota.clip(lower=0)
    return low.where(low < pontos, pontos)


def boletim_frame(rows: pd.DataFrame, bimestres: list[int]) -> pd.DataFrame:
    """One row per component: grade and absences of each bimestre, the year's aproveitamento
    (grades clipped) and frequência (absences clipped to the classes given)."""
    out: list[dict[str, Any]] = []
    if rows.empty:
        return pd.DataFrame(columns=[c.key for c in boletim_columns(bimestres)])
    rows = rows.assign(ordem=rows["componente"].map(ORDEM).fillna(len(ORDEM)))
    for (_, code), g in rows.groupby(["ordem", "componente"], sort=True):
        nome = g["nome"].iloc[0]
        rec: dict[str, Any] = {"componente": nome if isinstance(nome, str) and nome else code}
        for b in bimestres:
            row = g[g["bimestre"] == b]
            r = row.iloc[0] if len(row) else None
            rec[f"nota_{b}"] = (
                None
                if r is None
                else nota_text(r["nota"], r["pontos_distribuidos"], r["nota_recuperacao"])
            )
            rec[f"faltas_{b}"] = None if r is None else faltas_text(r["faltas"], r["aulas_dadas"])
        graded = g[g["nota"].notna() & (g["pontos_distribuidos"] > 0)]
        dist = graded["pontos_distribuidos"].sum()
        rec["aproveitamento"] = (
            100 * clipped(graded["nota"], graded["pontos_distribuidos"]).sum() / dist
            if dist
            else None
        )
        att = g[g["aulas_dadas"].notna() & (g["aulas_dadas"] > 0)]
        aulas = att["aulas_dadas"].sum()
        faltas = att["faltas"].where(att["faltas"] < att["aulas_dadas"], att["aulas_dadas"]).sum()
        rec["frequencia"] = 100 * (1 - faltas / aulas) if aulas else None
        out.append(rec)
    return pd.DataFrame(out)


def aproveitamento_bimestres(rows: pd.DataFrame, bimestres: list[int]) -> list[float | None]:
    out: list[float | None] = []
    for b in bimestres:
        g = rows[(rows["bimestre"] == b) & rows["nota"].notna() & (rows["pontos_distribuidos"] > 0)]
        dist = g["pontos_distribuidos"].sum()
        out.append(
            float(100 * clipped(g["nota"], g["pontos_distribuidos"]).sum() / dist) if dist else None
        )
    return out


def sparkline(bimestres: list[int], values: list[float | None]) -> plots.Spec:
    """A small line of the aproveitamento by bimestre (a gap where nothing was posted)."""
    trace = {
        "type": "scatter",
        "mode": "lines+markers+text",
        "x": [f"{b}º bim." for b in bimestres],
        "y": values,
        "text": [fmt.percent(v, 1) if v is not None else "" for v in values],
        "textposition": "top center",
        "line": {"color": "#1f4e79"},
        "hovertemplate": "%{x}: %{text}<extra></extra>",
    }
    layout: dict[str, Any] = {
        "title": "Aproveitamento por bimestre",
        "height": 200,
        "width": 360,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 30},
        "xaxis": {"type": "category"},
        "yaxis": {"range": [0, 110], "ticksuffix": "%", "dtick": 50},
        "showlegend": False,
    }
    return plots.spec([trace], layout)


def aluno_labels(df: pd.DataFrame) -> list[tuple[str, int]]:
    """Dropdown options of students: the name (and the matrícula's status when it is not "em
    andamento"); a repeated label gets the matrícula's date. Sorted as people read names."""
    if df.empty:
        return []
    df = df.assign(_k=df["nome"].map(lambda s: fmt.fold(str(s)))).sort_values(
        ["_k", "dt_matricula"], kind="stable"
    )
    labels = []
    for r in df.itertuples():
        label = str(r.nome)
        situacao = contract.TP_SITUACAO_ALUNO.get(int(r.situacao), "")
        if int(r.situacao) != contract.SITUACAO_ATIVA and situacao:
            label += f" – {situacao}"
        labels.append(label)
    repeated = {label for label in labels if labels.count(label) > 1}
    out: list[tuple[str, int]] = []
    used: dict[str, int] = {}
    for label, r in zip(labels, df.itertuples(), strict=True):
        if label in repeated:
            label = f"{label} – matrícula de {fmt.date(r.dt_matricula)}"
        used[label] = used.get(label, 0) + 1
        if used[label] > 1:
            label = f"{label} ({used[label]})"
        out.append((label, int(r.id_matricula)))
    return out


class Ficha(SchoolPanel):
    title = "Ficha do Estudante"
    lists_students = True
    uses_turno = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed = may_list_students(self.viewer)
        cal = queries.bimestres(self.ds)
        self.bims = [int(b) for b, ok in zip(cal["bimestre"], cal["iniciado"], strict=False) if ok]
        self.columns = boletim_columns(self.bims)
        self.schools = (
            self.ds.sql("SELECT school_id, nome, sre_id, sre_nome FROM escolas")
            if self.allowed
            else pd.DataFrame(columns=["school_id", "nome", "sre_id", "sre_nome"])
        )
        self.schools = self.schools.assign(
            _k=self.schools["nome"].map(lambda s: fmt.fold(str(s)))
        ).sort_values("_k")
        sres = self.schools.drop_duplicates("sre_id").sort_values("sre_nome")
        self._syncing = False
        self.sre = widgets.Dropdown(
            options=[(f"SRE {r.sre_nome}", int(r.sre_id)) for r in sres.itertuples()],
            description="SRE:",
            style=STYLE,
        )
        self.sre.layout.display = None if len(sres) > 1 else "none"
        self.escola = widgets.Dropdown(options=[], description="Escola:", style=STYLE)
        self.turma = widgets.Dropdown(options=[], description="Turma:", style=STYLE)
        self.aluno = widgets.Dropdown(
            options=[("Escolha um estudante", NINGUEM)], description="Estudante:", style=STYLE
        )
        self.busca = widgets.Text(
            description="Buscar por nome:",
            placeholder="nome do estudante (tecle Enter)",
            continuous_update=False,
            style=STYLE,
        )
        self.encontrados = widgets.Dropdown(
            options=[("—", NINGUEM)], description="Encontrados:", style=STYLE
        )
        self.encontrados.layout.display = "none"
        self.busca_note = widgets.HTML()
        self.header = widgets.HTML()
        self.cards = [widgets.HTML() for _ in range(4)]
        self.spark = Chart(filename="aproveitamento_por_bimestre")
        self.table = Table(self.columns, caption="Boletim", unit="componentes")
        self.export = self.export_button(self.table, self.columns, "boletim", "Boletim")
        self.card = widgets.VBox(
            [
                self.header,
                ui.kpi_row(self.cards),
                self.spark,
                self.table,
                self.export,
            ]
        )
        self.card.layout.display = "none"
        self.message = widgets.HTML()
        self.student: dict[str, Any] = {}

    # ---- the page ---------------------------------------------------------------------------
    def widget(self) -> widgets.Widget:
        # the page's title and the user's name are in the page header (the painel template)
        if not self.allowed:
            return widgets.VBox([self.stamp, widgets.HTML(ui.message(RESTRITO, "warning"))])
        return widgets.VBox([self.stamp, self.notice, *self.body()])

    def body(self) -> list[widgets.Widget]:
        row = widgets.Layout(flex_flow="row wrap", gap="8px", align_items="center")
        pick = widgets.HBox([self.sre, self.escola, self.turma, self.aluno], layout=row)
        find = widgets.HBox([self.busca, self.encontrados], layout=row)
        return [pick, find, self.busca_note, self.message, self.card]

    def watch(self, refresh: Any) -> None:
        guarded = ui.guarded(self.notice)
        self.sre.observe(guarded(self._on_sre), names="value")
        self.escola.observe(guarded(self._on_escola), names="value")
        self.turma.observe(guarded(self._on_turma), names="value")
        self.aluno.observe(guarded(self._on_aluno), names="value")
        self.busca.observe(guarded(lambda change: self.search(change["new"])), names="value")
        self.encontrados.observe(guarded(self._on_encontrado), names="value")

    def refresh(self) -> None:
        if not self.allowed:
            return
        if self.escola.options:
            self.show(self.matricula)
        else:
            self.set_escolas()

    def place_label(self) -> str:
        return str(self.student.get("nome") or "")

    def describe(self) -> list[tuple[str, str]]:
        s = self.student
        return [
            ("Painel", self.title),
            ("Estudante", str(s.get("nome") or "")),
            ("Escola", str(s.get("escola") or "")),
            ("Turma", str(s.get("turma") or "Sem turma")),
            ("Dados de", queries.manifest_day(self.ds.manifest)),
        ]

    # ---- the pickers ----------------------------------------------------------------------
    @property
    def matricula(self) -> int:
        return int(ui.choose(self.aluno.value, self.aluno.options, fallback=NINGUEM) or NINGUEM)

    def _on_sre(self, change: Any) -> None:
        if not self._syncing:
            self.set_escolas()

    def _on_escola(self, change: Any) -> None:
        if not self._syncing:
            self.set_turmas()

    def _on_turma(self, change: Any) -> None:
        if not self._syncing:
            self.set_alunos()

    def _on_aluno(self, change: Any) -> None:
        if not self._syncing:
            self.show(self.matricula)

    def _set(self, dropdown: widgets.Dropdown, options: list[tuple[str, int]], value: Any) -> None:
        self._syncing = True
        try:
            dropdown.options = options
            values = [v for _, v in options]
            dropdown.value = value if value in values else (values[0] if values else None)
        finally:
            self._syncing = False

    def set_escolas(
        self, select: int | None = None, turma: int | None = None, aluno: int = 0
    ) -> None:
        sre = ui.choose(self.sre.value, self.sre.options)
        rows = self.schools[self.schools["sre_id"] == sre] if sre is not None else self.schools
        self._set(self.escola, [(str(r.nome), int(r.school_id)) for r in rows.itertuples()], select)
        self.set_turmas(turma, aluno)

    def set_turmas(self, select: int | None = None, aluno: int = 0) -> None:
        school = ui.choose(self.escola.value, self.escola.options)
        options: list[tuple[str, int]] = []
        if school is not None:
            df = self.ds.sql(
                "SELECT id_turma, nome FROM turmas WHERE school_id = ? AND escolarizacao",
                [school],
            )
            df = df.assign(_k=df["nome"].map(lambda s: fmt.fold(str(s)))).sort_values("_k")
            options = [(str(r.nome), int(r.id_turma)) for r in df.itertuples()]
            loose = self.ds.sql(
                "SELECT count(*) AS n FROM alunos WHERE school_id = ? AND id_turma IS NULL "
                "AND escolarizacao",
                [school],
            )
            if int(loose["n"].iloc[0]):
                options.append(("Sem turma", SEM_TURMA))
        self._set(self.turma, options, select)
        self.set_alunos(aluno)

    def set_alunos(self, select: int = NINGUEM) -> None:
        school = ui.choose(self.escola.value, self.escola.options)
        turma = ui.choose(self.turma.value, self.turma.options)
        options: list[tuple[str, int]] = [("Escolha um estudante", NINGUEM)]
        if school is not None and turma is not None:
            in_turma = "a.id_turma IS NULL" if turma == SEM_TURMA else "a.id_turma = ?"
            params = [school] if turma == SEM_TURMA else [school, turma]
            df = self.ds.sql(
                "SELECT a.id_matricula, e.nome, a.situacao, a.dt_matricula FROM alunos a "
                "JOIN estudantes e ON e.id_matricula = a.id_matricula "
                f"WHERE a.school_id = ? AND {in_turma} AND a.escolarizacao",
                params,
            )
            options += aluno_labels(df)
        self._set(self.aluno, options, select)
        self.show(self.matricula)

    # ---- finding a student by name ------------------------------------------------------------
    def search(self, text: Any) -> None:
        terms = fmt.fold(str(text or ""))[:100].split()
        self.encontrados.layout.display = "none"
        self._set(self.encontrados, [("—", NINGUEM)], NINGUEM)
        if not terms:
            self.busca_note.value = ""
            return
        if sum(len(t) for t in terms) < 2:
            self.busca_note.value = ui.message("Digite ao menos 2 letras do nome.", "info")
            return
        where = " AND ".join("contains(strip_accents(lower(e.nome)), ?)" for _ in terms)
        df = self.ds.sql(
            "SELECT a.id_matricula, e.nome, a.school_id, a.id_turma, a.situacao, a.dt_matricula, "
            "s.nome AS escola, t.nome AS turma FROM alunos a "
            "JOIN estudantes e ON e.id_matricula = a.id_matricula "
            "JOIN escolas s ON s.school_id = a.school_id "
            "LEFT JOIN turmas t ON t.id_turma = a.id_turma "
            f"WHERE a.escolarizacao AND {where}",
            terms,
        )
        # the database's accent stripping narrows; fmt.fold decides
        folded = df["nome"].map(lambda s: fmt.fold(str(s)))
        df = df[[all(t in name for t in terms) for name in folded]]
        if df.empty:
            self.busca_note.value = ui.message("Nenhum estudante encontrado com esse nome.", "info")
            return
        many = len(df) > MAX_ENCONTRADOS
        labels = aluno_labels(df)[:MAX_ENCONTRADOS]
        where_of = {int(r.id_matricula): r for r in df.itertuples()}
        options = [("Escolha um estudante", NINGUEM)]
        for label, mid in labels:
            r = where_of[mid]
            turma = r.turma if isinstance(r.turma, str) else "Sem turma"
            options.append((f"{label} — {turma} — {r.escola}", mid))
        self._set(self.encontrados, options, NINGUEM)
        self.encontrados.layout.display = None
        found = fmt.plural(len(df), "estudante encontrado", "estudantes encontrados")
        self.busca_note.value = ui.message(
            found
            + (f"; mostrando os {MAX_ENCONTRADOS} primeiros, refine a busca" if many else "")
            + ".",
            "info",
        )

    def _on_encontrado(self, change: Any) -> None:
        if self._syncing:
            return
        mid = ui.choose(self.encontrados.value, self.encontrados.options, fallback=NINGUEM)
        if mid:
            self.select(int(mid))

    def select(self, matricula: int) -> None:
        """Point the pickers at a matrícula the viewer sees (and show its ficha)."""
        df = self.ds.sql(
            "SELECT a.school_id, a.id_turma, a.sre_id FROM alunos a WHERE a.id_matricula = ? "
            "AND a.escolarizacao",
            [matricula],
        )
        if df.empty:
            return
        r = df.iloc[0]
        turma = SEM_TURMA if pd.isna(r["id_turma"]) else int(r["id_turma"])
        self._syncing = True
        try:
            if int(r["sre_id"]) in [v for _, v in self.sre.options]:
                self.sre.value = int(r["sre_id"])
        finally:
            self._syncing = False
        self.set_escolas(int(r["school_id"]), turma, matricula)

    # ---- the ficha ------------------------------------------------------------------------------
    def show(self, matricula: int) -> None:
        if not matricula:
            self.student = {}
            self.card.layout.display = "none"
            self.table.set_frame(pd.DataFrame(columns=[c.key for c in self.columns]))
            self.message.value = ui.message(
                "Escolha a escola, a turma e o estudante, ou busque o estudante pelo nome.",
                "info",
            )
            return
        info = self.ds.sql(
            "SELECT e.nome, e.dt_nascimento, s.nome AS escola, t.nome AS turma, a.etapa, "
            "a.situacao, a.freq_pct, a.aproveitamento_pct, a.dias_sem_presenca, "
            "a.ultima_presenca, a.n_comp_abaixo, a.enturmada, a.ativa FROM alunos a "
            "JOIN estudantes e ON e.id_matricula = a.id_matricula "
            "JOIN escolas s ON s.school_id = a.school_id "
            "LEFT JOIN turmas t ON t.id_turma = a.id_turma WHERE a.id_matricula = ?",
            [matricula],
        )
        if info.empty:
            self.student = {}
            self.card.layout.display = "none"
            self.message.value = ui.message("Estudante não encontrado.", "warning")
            return
        s = {k: (None if fmt._missing(v) else v) for k, v in info.iloc[0].items()}
        self.student = s
        self.header.value = self.header_html(s)
        dias = s.get("dias_sem_presenca")
        last = s.get("ultima_presenca")
        set_kpis(
            self.cards,
            [
                ("Frequência", fmt.percent(s.get("freq_pct"), 1), "no ano, sobre as aulas dadas"),
                (
                    "Aproveitamento",
                    fmt.percent(s.get("aproveitamento_pct"), 1),
                    "pontos obtidos ÷ pontos distribuídos",
                ),
                (
                    "Dias letivos sem presença",
                    fmt.number(dias) if dias is not None else fmt.EMPTY,
                    "última presença: "
                    + (fmt.date(last) if last is not None else "nunca registrada")
                    if dias is not None
                    else "sem frequência diária acompanhada",
                ),
                (
                    "Componentes abaixo da média",
                    fmt.number(s.get("n_comp_abaixo") or 0),
                    "abaixo de 60% dos pontos",
                ),
            ],
        )
        rows = self.ds.sql(
            "SELECT b.componente, c.nome, b.bimestre, b.pontos_distribuidos, b.nota, "
            "b.nota_recuperacao, b.aulas_dadas, b.faltas FROM boletim b "
            "LEFT JOIN componentes c ON c.co_componente = b.componente "
            "WHERE b.id_matricula = ?",
            [matricula],
        )
        self.table.caption = f"Boletim de {s['nome']}"
        self.table.set_frame(boletim_frame(rows, self.bims))
        self.spark.figure = sparkline(self.bims, aproveitamento_bimestres(rows, self.bims))
        self.spark.layout.display = None if len(rows) else "none"
        self.message.value = (
            ""
            if len(rows)
            else ui.message("Ainda não há notas nem frequência lançadas para este estudante.")
        )
        self.card.layout.display = None

    def header_html(self, s: dict[str, Any]) -> str:
        situacao = contract.TP_SITUACAO_ALUNO.get(int(s["situacao"]), "—")
        items = [
            ("Data de nascimento", fmt.date(s.get("dt_nascimento"))),
            ("Escola", s.get("escola") or fmt.EMPTY),
            ("Turma", s.get("turma") or "Sem turma"),
            ("Etapa", queries.etapa_label(s.get("etapa"))),
            ("Situação", situacao),
        ]
        dl = "".join(
            f"<div><dt style='font-size:12px;color:#57606a'>{html.escape(k)}</dt>"
            f"<dd style='margin:0'>{html.escape(str(v))}</dd></div>"
            for k, v in items
        )
        return (
            f"<h3>{html.escape(str(s['nome']))}</h3>"
            f"<dl style='display:flex;flex-wrap:wrap;gap:8px 24px;margin:0'>{dl}</dl>"
        )


build = build_panel(Ficha)
