"""The analysts' findings workflow: each finding's status, kept across days, every change audited.

A finding is identified by its rule and its stable key (``regra``, ``chave``: the ids the
rule names, docs/procurement.md), so tomorrow's run finds the same finding again and its
status carries over. The findings themselves are published data (table ``achados`` of
dataset ``procurement``, read through the viewer's scope); what analysts decide about them is
operational state, written from the Painel de Alertas while runs read it, so it lives in the
operational store (tables ``procurement_achados`` and ``procurement_achados_eventos``):

    novo ─► em análise ─► confirmado ─► enviado ao órgão
      │          │   ▲         │
      └──────────┴─► descartado (with a reason) ─► em análise (reopened, with a reason)

* ``sync`` runs after each publish: a finding seen for the first time is ``novo``; one seen
  again keeps its status and gets today's risk and summary; one the rules no longer find is
  marked inactive (its status and history stay). Each appearance and disappearance is an
  event by ``painel``.
* ``change`` moves one finding, for an analyst: the move must be allowed from the status
  the analyst saw (another analyst may have moved it meanwhile: nothing is changed and the
  message says who did), a reason is required to discard, to reopen and to go back.

A finding the store does not know yet (published, not yet synced) reads as ``novo``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..opstate import OpState, iso, utcnow

NOVO, EM_ANALISE, CONFIRMADO, DESCARTADO, ENVIADO = (
    "novo",
    "em_analise",
    "confirmado",
    "descartado",
    "enviado",
)
STATUS: dict[str, str] = {
    NOVO: "Novo",
    EM_ANALISE: "Em análise",
    CONFIRMADO: "Confirmado",
    DESCARTADO: "Descartado",
    ENVIADO: "Enviado ao órgão",
}
# from -> the statuses it may go to
MOVES: dict[str, tuple[str, ...]] = {
    NOVO: (EM_ANALISE, DESCARTADO),
    EM_ANALISE: (CONFIRMADO, DESCARTADO, NOVO),
    CONFIRMADO: (ENVIADO, EM_ANALISE),
    DESCARTADO: (EM_ANALISE,),
    ENVIADO: (),
}
# the moves that need a reason: discarding, reopening, going back
NEEDS_REASON = {
    (NOVO, DESCARTADO),
    (EM_ANALISE, DESCARTADO),
    (EM_ANALISE, NOVO),
    (CONFIRMADO, EM_ANALISE),
    (DESCARTADO, EM_ANALISE),
}
# the findings an audited organ's users see (Meus Alertas): what the CGE sent them
ORGAO_VE = (ENVIADO,)
EDITORS = ("cge_analista", "admin")  # the roles that move findings
SYSTEM = "painel"
MAX_REASON = 1000


class WorkflowError(Exception):
    """A change that cannot be made; ``str()`` is the pt-BR message for the page."""


@dataclass(frozen=True)
class SyncReport:
    version: str
    novos: int
    vistos: int
    encerrados: int  # no longer found by this version
    reabertos: int  # found again after a version that did not find them

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


FINDING_FIELDS = (
    "regra",
    "chave",
    "orgao_cnpj",
    "unidade_id",
    "numero_controle_pncp",
    "risco",
    "resumo",
)


def sync(opstate: OpState, version: str, findings: Iterable[Sequence[Any]]) -> SyncReport:
    """Carry the statuses over to the findings of the published ``version``.

    ``findings`` are rows of :data:`FINDING_FIELDS` (every finding of the version). In one
    transaction, so a run that dies here leaves the store as it was and the next run's sync
    does it all. Syncing the same version again changes nothing.
    """
    rows = [tuple(r) for r in findings]
    now = iso(utcnow())
    with opstate.transaction() as con:
        con.execute(
            "CREATE TEMP TABLE _achados (regra, chave, orgao_cnpj, unidade_id, "
            "numero_controle_pncp, risco, resumo, PRIMARY KEY (regra, chave))"
        )
        try:
            con.executemany("INSERT OR REPLACE INTO _achados VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            novos = _scalar(
                con,
                "SELECT count(*) FROM _achados n LEFT JOIN procurement_achados a "
                "USING (regra, chave) WHERE a.regra IS NULL",
            )
            reabertos = _scalar(
                con,
                "SELECT count(*) FROM _achados n JOIN procurement_achados a USING (regra, chave) "
                "WHERE NOT a.ativo",
            )
            encerrados = _scalar(
                con,
                "SELECT count(*) FROM procurement_achados a WHERE a.ativo AND NOT EXISTS "
                "(SELECT 1 FROM _achados n WHERE n.regra = a.regra AND n.chave = a.chave)",
            )
            # events first: they compare the state before the change
            con.execute(
                "INSERT INTO procurement_achados_eventos (regra, chave, de, para, motivo, por, "
                "em, versao) SELECT n.regra, n.chave, NULL, 'novo', 'Encontrado pela regra', ?, "
                "?, ? FROM _achados n LEFT JOIN procurement_achados a USING (regra, chave) "
                "WHERE a.regra IS NULL",
                [SYSTEM, now, version],
            )
            con.execute(
                "INSERT INTO procurement_achados_eventos (regra, chave, de, para, motivo, por, "
                "em, versao) SELECT a.regra, a.chave, a.status, a.status, "
                "'Encontrado de novo pela regra', ?, ?, ? FROM procurement_achados a "
                "JOIN _achados n USING (regra, chave) WHERE NOT a.ativo",
                [SYSTEM, now, version],
            )
            con.execute(
                "INSERT INTO procurement_achados_eventos (regra, chave, de, para, motivo, por, "
                "em, versao) SELECT a.regra, a.chave, a.status, a.status, "
                "'Não encontrado nos dados atuais', ?, ?, ? FROM procurement_achados a "
                "WHERE a.ativo AND NOT EXISTS (SELECT 1 FROM _achados n "
                "WHERE n.regra = a.regra AND n.chave = a.chave)",
                [SYSTEM, now, version],
            )
            con.execute(
                "UPDATE procurement_achados SET ativo = 0 WHERE ativo AND NOT EXISTS "
                "(SELECT 1 FROM _achados n WHERE n.regra = procurement_achados.regra "
                "AND n.chave = procurement_achados.chave)"
            )
            con.execute(
                "INSERT INTO procurement_achados (regra, chave, orgao_cnpj, unidade_id, "
                "numero_controle_pncp, risco, resumo, primeira_versao, visto_em, ultima_versao) "
                "SELECT regra, chave, orgao_cnpj, unidade_id, numero_controle_pncp, "
                "coalesce(risco, 0), coalesce(resumo, ''), ?, ?, ? FROM _achados WHERE true "
                "ON CONFLICT (regra, chave) DO UPDATE SET orgao_cnpj = excluded.orgao_cnpj, "
                "unidade_id = excluded.unidade_id, "
                "numero_controle_pncp = excluded.numero_controle_pncp, risco = excluded.risco, "
                "resumo = excluded.resumo, ultima_versao = excluded.ultima_versao, ativo = 1, "
                "primeira_versao = CASE WHEN primeira_versao = '' "
                "THEN excluded.primeira_versao ELSE primeira_versao END",
                [version, now, version],
            )
        finally:
            con.execute("DROP TABLE temp._achados")
    return SyncReport(version, novos, len(rows) - novos, encerrados, reabertos)


def _scalar(con: sqlite3.Connection, sql: str, args: Sequence[Any] = ()) -> int:
    return int(con.execute(sql, list(args)).fetchone()[0])


def statuses(
    opstate: OpState, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The workflow state of each ``(regra, chave)`` the store knows (a page passes the keys
    it read through its viewer's scope, so it learns nothing of other organs)."""
    wanted = list(dict.fromkeys((str(r), str(k)) for r, k in keys))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    if not wanted:
        return out
    with opstate.connect() as con:
        con.execute("CREATE TEMP TABLE _k (regra, chave)")
        con.executemany("INSERT INTO _k VALUES (?, ?)", wanted)
        for r in con.execute(
            "SELECT a.regra, a.chave, a.status, a.motivo, a.alterado_por, a.alterado_em, "
            "a.visto_em, a.ativo FROM _k JOIN procurement_achados a USING (regra, chave)"
        ):
            out[(r["regra"], r["chave"])] = dict(r)
    return out


def status_frame(opstate: OpState, statuses: Sequence[str] = ()) -> Any:
    """Every finding's ``regra, chave, status, visto_em`` (only those in ``statuses`` when
    given; ``visto_em`` as São Paulo local time), as a DataFrame a page hands its scoped
    dataset to join (:func:`painel.procurement.queries.hold_workflow`): one read per change
    (:func:`token`), not one per page or filter."""
    import pandas as pd

    from ..dash.fmt import SAO_PAULO

    sql = "SELECT regra, chave, status, visto_em FROM procurement_achados"
    if statuses:
        sql += f" WHERE status IN ({', '.join('?' for _ in statuses)})"
    with opstate.connect() as con:
        rows = con.execute(sql, list(statuses)).fetchall()
    df = pd.DataFrame([tuple(r) for r in rows], columns=["regra", "chave", "status", "visto_em"])
    for c in ("regra", "chave", "status"):
        df[c] = df[c].astype(str)
    df["visto_em"] = (
        pd.to_datetime(df["visto_em"], utc=True, errors="coerce", format="ISO8601")
        .dt.tz_convert(SAO_PAULO)
        .dt.tz_localize(None)
    )
    return df


def token(opstate: OpState) -> tuple[str, int]:
    """Changes whenever a finding's status or first sighting does (each is an event)."""
    with opstate.connect() as con:
        last = con.execute("SELECT max(id) FROM procurement_achados_eventos").fetchone()[0]
    return str(opstate.path), int(last or 0)


def history(opstate: OpState, regra: str, chave: str) -> list[dict[str, Any]]:
    """Every event of one finding, oldest first (``quem``: the user's display name)."""
    with opstate.connect() as con:
        return [
            dict(r)
            for r in con.execute(
                "SELECT e.de, e.para, e.motivo, e.por, e.em, e.versao, "
                "coalesce(nullif(u.display_name, ''), e.por) AS quem "
                "FROM procurement_achados_eventos e LEFT JOIN users u ON u.username = e.por "
                "WHERE e.regra = ? AND e.chave = ? ORDER BY e.id",
                [regra, chave],
            )
        ]


def may_edit(role: str) -> bool:
    return role in EDITORS


def change(
    opstate: OpState,
    *,
    regra: str,
    chave: str,
    seen: str,
    to: str,
    actor: str,
    role: str,
    motivo: str = "",
    finding: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Move the finding from the status the analyst ``seen`` to ``to``; returns its new state.

    ``finding`` (its :data:`FINDING_FIELDS`, as the page read them through the viewer's
    scope) lets a finding that is published but not yet synced be moved: it is recorded
    first. Raises :class:`WorkflowError` with the pt-BR reason, changing nothing.
    """
    if not may_edit(role):
        raise WorkflowError("Só analistas da CGE mudam a situação de um alerta.")
    if to not in STATUS:
        raise WorkflowError(f"Situação desconhecida: {to!r}.")
    motivo = (motivo or "").strip()
    if len(motivo) > MAX_REASON:
        raise WorkflowError(f"O motivo passa de {MAX_REASON} caracteres.")
    if to not in MOVES.get(seen, ()):
        raise WorkflowError(
            f"Um alerta {STATUS.get(seen, seen).lower()} não pode passar a {STATUS[to].lower()}."
        )
    if (seen, to) in NEEDS_REASON and not motivo:
        raise WorkflowError(f"Diga o motivo para passar o alerta a {STATUS[to].lower()}.")
    now = iso(utcnow())
    with opstate.transaction() as con:
        row = con.execute(
            "SELECT status, alterado_por, alterado_em FROM procurement_achados "
            "WHERE regra = ? AND chave = ?",
            [regra, chave],
        ).fetchone()
        if row is None:
            if finding is None:
                raise WorkflowError("Este alerta não está nos dados atuais.")
            values = [finding.get(f) for f in FINDING_FIELDS]
            con.execute(
                "INSERT INTO procurement_achados (regra, chave, orgao_cnpj, unidade_id, "
                "numero_controle_pncp, risco, resumo, primeira_versao, visto_em, ultima_versao) "
                "VALUES (?, ?, ?, ?, ?, coalesce(?, 0), coalesce(?, ''), '', ?, '')",
                [regra, chave, *values[2:], now],
            )
            current = NOVO
        else:
            current = row["status"]
        if current != seen:
            who = row["alterado_por"] if row is not None else None
            by = f" por {who}" if who else ""
            raise WorkflowError(
                f"Este alerta já foi passado a {STATUS.get(current, current).lower()}{by}. "
                "A lista foi atualizada; confira antes de mudar."
            )
        con.execute(
            "UPDATE procurement_achados SET status = ?, motivo = ?, alterado_por = ?, "
            "alterado_em = ? WHERE regra = ? AND chave = ?",
            [to, motivo or None, actor, now, regra, chave],
        )
        con.execute(
            "INSERT INTO procurement_achados_eventos (regra, chave, de, para, motivo, por, em) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [regra, chave, current, to, motivo or None, actor, now],
        )
        from .. import audit

        audit.record(
            con,
            "finding_status",
            actor=actor,
            target=f"{regra} {chave}",
            detail={"de": current, "para": to, "motivo": motivo or ""},
        )
    return {
        "regra": regra,
        "chave": chave,
        "status": to,
        "motivo": motivo or None,
        "alterado_por": actor,
        "alterado_em": now,
    }
