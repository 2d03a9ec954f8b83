"""The school network's report burst (``painel report burst rede_escola``): one report per
SRE and per school, from the day's published ``school`` dataset.

What the seed's SREs split by hand into hundreds of files on every update, made per scope by
``notebooks/reports/rede_escola.ipynb``: the scope's figures (matrículas, turmas, frequência,
distorção, notas, inconsistências, Busca Ativa), a table by unit below it (the SRE's schools,
the school's turmas), the day's inconsistencies by rule and, in a school's report, the
students to look for (Busca Ativa). The notebook only composes; the queries, the HTML and
the spreadsheet are here, tested.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..dash import fmt
from ..reports import ReportScope, Sheet, open_scope, slug, write_workbook
from ..scope import ScopedDataset
from . import DATASET, contract

DIAS_PADRAO = 15  # the job's dias_busca_ativa default (docs/school.md, I14)
BUSCA_LIMITE = 500  # students listed in the page (the spreadsheet has them all)


def scopes(ds: ScopedDataset) -> list[ReportScope]:
    """Each SRE with schools, then each school, by SRE; folders ``sre-<id>-<name>`` and
    ``sre-<id>-<name>/escola-<id>-<name>``."""
    rows = ds.sql(
        "SELECT e.school_id, e.nome, e.sre_id, e.sre_nome FROM escolas e "
        "ORDER BY e.sre_id, e.school_id"
    )
    out: list[ReportScope] = []
    sre_folder: dict[int, str] = {}
    for sre_id, sre_nome in rows[["sre_id", "sre_nome"]].drop_duplicates().itertuples(index=False):
        folder = f"sre-{int(sre_id):02d}-{slug(str(sre_nome))}"
        sre_folder[int(sre_id)] = folder
        out.append(ReportScope("sre", str(int(sre_id)), f"SRE {sre_nome}", folder))
    for school_id, nome, sre_id, _ in rows.itertuples(index=False):
        out.append(
            ReportScope(
                "school",
                str(int(school_id)),
                str(nome),
                f"{sre_folder[int(sre_id)]}/escola-{int(school_id)}-{slug(str(nome))}",
            )
        )
    return out


@dataclass
class Relatorio:
    """One scope's report, read when built."""

    escopo: str  # "sre" | "school"
    unidade: str  # the scope's name
    onde: str  # where it is ("SRE …, município …")
    dia: str  # the dump's date, dd/mm/yyyy
    dias_busca: int
    totais: dict[str, Any]
    por_unidade: pd.DataFrame
    por_regra: pd.DataFrame
    busca: pd.DataFrame

    @property
    def unidade_label(self) -> str:
        return "Turma" if self.escopo == "school" else "Escola"

    # ---- the page -------------------------------------------------------------------------
    def cabecalho(self) -> str:
        return (
            f"<h1>Relatório da rede estadual – {html.escape(self.unidade)}</h1>"
            f"<p class='sub'>{html.escape(self.onde)} · dados de {self.dia}</p>"
        )

    def cartoes(self) -> str:
        t = self.totais
        cards = [
            ("Matrículas ativas", fmt.number(t["matriculas"])),
            ("Turmas", fmt.number(t["turmas"])),
            ("Sem enturmação", fmt.number(t["nao_enturmadas"])),
            ("Infrequentes (< 75%)", fmt.percent(_pct(t["infrequentes"], t["com_frequencia"]))),
            ("Distorção idade-série", fmt.percent(_pct(t["distorcidas"], t["base_tdi"]))),
            ("Abaixo da média", fmt.percent(_pct(t["abaixo_media"], t["com_notas"]))),
            ("Inconsistências do dia", fmt.number(t["inconsistencias"])),
            (f"Sem presença há {self.dias_busca}+ dias", fmt.number(t["busca"])),
        ]
        inner = "".join(
            f"<div class='card'><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>"
            for k, v in cards
        )
        return f"<div class='cards'>{inner}</div>"

    def tabela_unidades(self) -> str:
        df = self.por_unidade
        if df.empty:
            return "<p class='note'>Nenhuma unidade com matrículas ativas.</p>"
        head = (
            f"<tr><th>{self.unidade_label}</th><th class='n'>Matrículas</th>"
            "<th class='n'>Infrequentes</th><th class='n'>Distorção</th>"
            "<th class='n'>Abaixo da média</th><th class='n'>Inconsistências</th>"
            f"<th class='n'>Sem presença {self.dias_busca}+ dias</th></tr>"
        )
        body = "".join(
            f"<tr><td>{html.escape(str(r.unidade))}</td><td class='n'>{fmt.number(r.matriculas)}</td>"
            f"<td class='n'>{fmt.percent(r.infrequentes_pct)}</td>"
            f"<td class='n'>{fmt.percent(r.distorcao_pct)}</td>"
            f"<td class='n'>{fmt.percent(r.abaixo_media_pct)}</td>"
            f"<td class='n'>{fmt.number(r.inconsistencias)}</td>"
            f"<td class='n'>{fmt.number(r.busca)}</td></tr>"
            for r in df.itertuples(index=False)
        )
        return f"<div class='wrap'><table><thead>{head}</thead><tbody>{body}</tbody></table></div>"

    def tabela_regras(self) -> str:
        df = self.por_regra
        if df.empty:
            return "<p class='note'>Nenhuma inconsistência no dia.</p>"
        top = max(int(df["quantidade"].max()), 1)
        body = "".join(
            f"<tr><td>{html.escape(r.regra)}</td><td>{html.escape(r.descricao)}</td>"
            f"<td class='n'>{fmt.number(r.quantidade)}</td><td><div class='bar'>"
            f"<i style='width:{100 * int(r.quantidade) / top:.0f}%'></i></div></td></tr>"
            for r in df.itertuples(index=False)
        )
        return (
            "<div class='wrap'><table><thead><tr><th>Regra</th><th>Descrição</th><th class='n'>Quantidade</th>"
            f"<th></th></tr></thead><tbody>{body}</tbody></table></div>"
        )

    def tabela_busca(self) -> str:
        df = self.busca
        if df.empty:
            return (
                f"<p class='note'>Nenhum estudante sem presença há {self.dias_busca} "
                "dias letivos ou mais.</p>"
            )
        shown = df.head(BUSCA_LIMITE)
        body = "".join(
            f"<tr><td>{html.escape(str(r.nome))}</td><td>{html.escape(str(r.turma))}</td>"
            f"<td>{fmt.date(r.ultima_presenca) if pd.notna(r.ultima_presenca) else 'Nunca'}</td>"
            f"<td class='n'>{fmt.number(r.dias_sem_presenca)}</td></tr>"
            for r in shown.itertuples(index=False)
        )
        more = (
            f"<p class='note'>Mais {fmt.number(len(df) - len(shown))} estudantes na planilha.</p>"
            if len(df) > len(shown)
            else ""
        )
        return (
            "<div class='wrap'><table><thead><tr><th>Estudante</th><th>Turma</th><th>Última presença</th>"
            "<th class='n'>Dias letivos sem presença</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>" + more
        )

    def pagina(self) -> str:
        """The whole report as HTML (the notebook displays it; nbconvert keeps it)."""
        parts = [
            self.cabecalho(),
            self.cartoes(),
            f"<h2>Por {self.unidade_label.lower()}</h2>",
            self.tabela_unidades(),
            "<h2>Inconsistências do dia por regra</h2>",
            self.tabela_regras(),
        ]
        if self.escopo == "school":
            parts += [
                f"<h2>Busca Ativa: sem presença há {self.dias_busca} dias letivos ou mais</h2>",
                self.tabela_busca(),
            ]
        parts.append(
            "<p class='note'>Percentuais: infrequentes sobre matrículas com frequência lançada; "
            "distorção idade-série sobre a base do indicador (INEP); abaixo da média sobre "
            "matrículas com notas lançadas.</p>"
        )
        return "".join(parts)

    # ---- the spreadsheet ------------------------------------------------------------------
    def planilha(self, path: str) -> str:
        t = self.totais
        resumo = pd.DataFrame(
            [
                ("Unidade", self.unidade),
                ("Local", self.onde),
                ("Dados de", self.dia),
                ("Matrículas ativas", t["matriculas"]),
                ("Turmas", t["turmas"]),
                ("Sem enturmação", t["nao_enturmadas"]),
                ("Infrequentes (%)", _round(_pct(t["infrequentes"], t["com_frequencia"]))),
                ("Distorção idade-série (%)", _round(_pct(t["distorcidas"], t["base_tdi"]))),
                ("Abaixo da média (%)", _round(_pct(t["abaixo_media"], t["com_notas"]))),
                ("Inconsistências do dia", t["inconsistencias"]),
                (f"Sem presença há {self.dias_busca}+ dias letivos", t["busca"]),
            ],
            columns=["item", "valor"],
        )
        sheets = [
            Sheet("Resumo", resumo, [("item", "Item", "text"), ("valor", "Valor", "decimal")]),
            Sheet(
                f"Por {self.unidade_label.lower()}",
                self.por_unidade,
                [
                    ("id", "Código", "id"),
                    ("unidade", self.unidade_label, "text"),
                    ("matriculas", "Matrículas ativas", "int"),
                    ("infrequentes_pct", "Infrequentes", "percent"),
                    ("distorcao_pct", "Distorção idade-série", "percent"),
                    ("abaixo_media_pct", "Abaixo da média", "percent"),
                    ("inconsistencias", "Inconsistências", "int"),
                    ("busca", f"Sem presença {self.dias_busca}+ dias", "int"),
                ],
            ),
            Sheet(
                "Inconsistências",
                self.por_regra,
                [
                    ("regra", "Regra", "text"),
                    ("descricao", "Descrição", "text"),
                    ("quantidade", "Quantidade", "int"),
                ],
            ),
        ]
        if self.escopo == "school":
            sheets.append(
                Sheet(
                    "Busca Ativa",
                    self.busca,
                    [
                        ("id_matricula", "Matrícula", "id"),
                        ("nome", "Estudante", "text"),
                        ("turma", "Turma", "text"),
                        ("ultima_presenca", "Última presença", "date"),
                        ("dias_sem_presenca", "Dias letivos sem presença", "int"),
                    ],
                )
            )
        return str(write_workbook(path, sheets))


def _pct(part: Any, whole: Any) -> float | None:
    return None if not whole else 100.0 * float(part or 0) / float(whole)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


_MEASURES = (
    "count(*) AS matriculas, count(*) FILTER (WHERE NOT a.enturmada) AS nao_enturmadas, "
    "count(*) FILTER (WHERE a.infrequente) AS infrequentes, "
    "count(*) FILTER (WHERE a.aulas > 0) AS com_frequencia, "
    "count(*) FILTER (WHERE a.distorcido) AS distorcidas, "
    "count(*) FILTER (WHERE a.base_tdi) AS base_tdi, "
    "count(*) FILTER (WHERE a.abaixo_media) AS abaixo_media, "
    "count(*) FILTER (WHERE a.distribuidos > 0) AS com_notas, "
    "count(*) FILTER (WHERE a.enturmada AND a.dias_sem_presenca >= ?) AS busca"
)
_ACTIVE = "a.ativa AND a.escolarizacao"


def build(escopo: str, escopo_id: str, versao: str = "") -> Relatorio:
    """Read one scope's report (``escopo`` "sre" or "school") through a viewer holding only
    that scope (:func:`painel.reports.open_scope`)."""
    if escopo not in ("sre", "school"):
        raise ValueError(f"escopo must be 'sre' or 'school', got {escopo!r}")
    ds = open_scope(DATASET, escopo, escopo_id, versao)
    try:
        return _build(ds, escopo)
    finally:
        ds.close()


def _build(ds: ScopedDataset, escopo: str) -> Relatorio:
    manifest = ds.manifest
    raw = (manifest.get("parameters") or {}).get("dias_busca_ativa")
    dias = int(raw) if isinstance(raw, int) and raw > 0 else DIAS_PADRAO
    day = str((manifest.get("notes") or {}).get("dump_date") or "")
    dia = f"{day[8:10]}/{day[5:7]}/{day[:4]}" if len(day) == 10 else ""
    escolas = ds.sql("SELECT school_id, nome, sre_nome, municipio FROM escolas ORDER BY nome")
    if escolas.empty:
        raise LookupError("the scope has no school in this version of the data")
    if escopo == "school":
        e = escolas.iloc[0]
        unidade, onde = str(e["nome"]), f"SRE {e['sre_nome']} · {e['municipio']}"
        unit, labels = (
            "id_turma",
            ds.sql("SELECT id_turma AS id, nome AS unidade FROM turmas WHERE escolarizacao"),
        )
    else:
        e = escolas.iloc[0]
        unidade = f"SRE {e['sre_nome']}"
        onde = f"{fmt.number(len(escolas))} escolas estaduais"
        unit, labels = (
            "school_id",
            escolas.rename(columns={"school_id": "id", "nome": "unidade"})[["id", "unidade"]],
        )
    tot = ds.sql(f"SELECT {_MEASURES} FROM alunos a WHERE {_ACTIVE}", [dias]).iloc[0].to_dict()
    tot["turmas"] = int(ds.sql("SELECT count(*) AS n FROM turmas WHERE escolarizacao")["n"].iloc[0])
    inc = ds.sql("SELECT regra, count(*) AS quantidade FROM inconsistencias GROUP BY regra")
    tot["inconsistencias"] = int(inc["quantidade"].sum()) if len(inc) else 0
    tot = {k: (0 if pd.isna(v) else int(v)) for k, v in tot.items()}

    per = ds.sql(
        f"SELECT a.{unit} AS id, {_MEASURES} FROM alunos a WHERE {_ACTIVE} GROUP BY ALL", [dias]
    )
    inc_per = ds.sql(
        f"SELECT {unit} AS id, count(*) AS inconsistencias FROM inconsistencias GROUP BY ALL"
    )
    per = per.merge(inc_per, on="id", how="left").merge(labels, on="id", how="left")
    per["inconsistencias"] = per["inconsistencias"].fillna(0).astype(int)
    per["unidade"] = per["unidade"].fillna("Sem turma" if escopo == "school" else "Sem escola")
    per["infrequentes_pct"] = [
        _round(_pct(a, b)) for a, b in zip(per.infrequentes, per.com_frequencia, strict=True)
    ]
    per["distorcao_pct"] = [
        _round(_pct(a, b)) for a, b in zip(per.distorcidas, per.base_tdi, strict=True)
    ]
    per["abaixo_media_pct"] = [
        _round(_pct(a, b)) for a, b in zip(per.abaixo_media, per.com_notas, strict=True)
    ]
    per = per.sort_values("unidade", key=lambda s: s.map(fmt.fold)).reset_index(drop=True)
    per["id"] = per["id"].astype("Int64").astype(str).replace("<NA>", "")

    inc["descricao"] = [contract.RULE_NAMES.get(r, r) for r in inc["regra"]]
    inc["ordem"] = [int(r[1:]) if r[1:].isdigit() else 99 for r in inc["regra"]]
    inc = inc.sort_values("ordem").drop(columns="ordem").reset_index(drop=True)

    if escopo == "school":
        busca = ds.sql(
            "SELECT a.id_matricula, s.nome, coalesce(t.nome, 'Sem turma') AS turma, "
            "a.ultima_presenca, a.dias_sem_presenca FROM alunos a "
            "JOIN estudantes s ON s.id_matricula = a.id_matricula "
            "LEFT JOIN turmas t ON t.id_turma = a.id_turma "
            f"WHERE {_ACTIVE} AND a.enturmada AND a.dias_sem_presenca >= ? "
            "ORDER BY a.dias_sem_presenca DESC, s.nome",
            [dias],
        )
        busca["id_matricula"] = busca["id_matricula"].astype(str)
    else:
        busca = pd.DataFrame(
            columns=["id_matricula", "nome", "turma", "ultima_presenca", "dias_sem_presenca"]
        )
    return Relatorio(escopo, unidade, onde, dia, dias, tot, per, inc, busca)


def first_school(versao: str = "") -> str:
    """The first school's code in the data (trying the notebook by hand)."""
    from ..access import Viewer
    from ..config import Paths
    from ..store import Store

    ds = ScopedDataset(
        Viewer("relatorio", "admin"), DATASET, Store(Paths.from_env().store), version=versao or None
    )
    try:
        return str(int(ds.sql("SELECT min(school_id) AS s FROM escolas")["s"].iloc[0]))
    finally:
        ds.close()
