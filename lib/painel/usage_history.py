"""A usage history with the seed portal's published figures (school.md §1), for the
Monitoramento de Uso panel's tests and the demo.

From 5 Aug to 14 Oct 2024 (51 working days in Minas Gerais): 8,758 people, on average 2,512 a
day and 70,000 interactions a day (3.57 M in all), two panels and ~28 interactions per person
a day, and the peak of Monday 30 Sep 2024: 204,050 interactions by 4,479 people. Written as
the day's figures per person and panel (``usage_daily``), what :func:`painel.usage.ingest`
makes of the events; every figure above is exact, by construction (no randomness in totals).
"""

from __future__ import annotations

from datetime import date, timedelta

from .opstate import OpState

FIRST, LAST = date(2024, 8, 5), date(2024, 10, 14)
PEAK = date(2024, 9, 30)
PEOPLE = 8_758
AVG_USERS, AVG_INTERACTIONS = 2_512, 70_000
PEAK_USERS, PEAK_INTERACTIONS = 4_479, 204_050
PANELS_PER_DAY = 2
PANELS = (  # the school network's panels, most used first
    "rede_visao_geral",
    "rede_matriculas",
    "rede_infrequencia",
    "rede_notas",
    "rede_turmas",
    "rede_inconsistencias",
    "rede_busca_ativa",
    "rede_lancamentos",
    "rede_ficha_estudante",
    "rede_rendimento",
    "rede_distorcao",
    "rede_perfil",
)
SRES = 47


def working_days() -> list[date]:
    import holidays

    cal = holidays.country_holidays("BR", subdiv="MG", years=[2024])
    out, d = [], FIRST
    while d <= LAST:
        if d.weekday() < 5 and d not in cal:
            out.append(d)
        d += timedelta(days=1)
    return out


def person(i: int) -> tuple[str, str, str]:
    """Person ``i``: username, profile (role), SRE."""
    sre = str(1 + i % SRES)
    k = i % 20
    role = (
        "school_central"
        if k == 0
        else "school_sre"
        if k in (1, 2, 3)
        else "school_secretary"
        if k in (4, 5, 6, 7, 8)
        else "school_pedagogue"
        if k in (9, 10, 11)
        else "school_director"
    )
    return f"servidor{i:05d}@educacao.mg.gov.br", role, ("" if role == "school_central" else sre)


def rows() -> list[tuple[object, ...]]:
    """``usage_daily`` rows: (dia, username, painel, perfil, sre, page_views, interactions,
    exports, errors, logins)."""
    days = working_days()
    others = [d for d in days if d != PEAK]
    total_users = AVG_USERS * len(days) - PEAK_USERS
    total_inter = AVG_INTERACTIONS * len(days) - PEAK_INTERACTIONS
    users = {PEAK: PEAK_USERS}
    inter = {PEAK: PEAK_INTERACTIONS}
    for n, d in enumerate(others):
        users[d] = total_users // len(others) + (1 if n < total_users % len(others) else 0)
        inter[d] = total_inter // len(others) + (1 if n < total_inter % len(others) else 0)
    out: list[tuple[object, ...]] = []
    cursor = 0
    for day_no, d in enumerate(days):
        n_users = users[d]
        slots = n_users * PANELS_PER_DAY
        base, extra = divmod(inter[d], slots)
        slot = 0
        for k in range(n_users):
            name, role, sre = person(cursor % PEOPLE)
            cursor += 1
            first = (k + day_no) % len(PANELS) if k % 3 else 0  # Visão Geral most used
            panels = (PANELS[first], PANELS[(first + 1 + k % 5) % len(PANELS)])
            for j, panel in enumerate(panels):
                count = base + (1 if slot < extra else 0)
                slot += 1
                exports = 1 if (k + j) % 37 == 0 else 0
                errors = 1 if (k + day_no + j) % 997 == 0 else 0
                out.append((d.isoformat(), name, panel, role, sre, 1, count, exports, errors, 0))
            out.append((d.isoformat(), name, "", role, sre, 0, 0, 0, 0, 1))  # the login
    return out


def write(opstate: OpState) -> int:
    """Write the history (replacing any earlier copy of those days); returns the rows."""
    data = rows()
    with opstate.transaction() as con:
        con.execute(
            "DELETE FROM usage_daily WHERE dia BETWEEN ? AND ?",
            [FIRST.isoformat(), LAST.isoformat()],
        )
        con.executemany(
            "INSERT INTO usage_daily (dia, username, painel, perfil, sre, page_views, "
            "interactions, exports, errors, logins) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            data,
        )
    return len(data)
