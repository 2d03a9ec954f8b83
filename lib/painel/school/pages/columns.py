"""Table columns that more than one school panel shows (the same key, header and kind)."""

from __future__ import annotations

from ...dash.table import Column

# a unit one level down (the first column of every table of units)
UNIDADE = Column("label", "Unidade")
MATRICULAS_ATIVAS = Column("matriculas", "Matrículas ativas", kind="int")
ALUNOS_POR_TURMA = Column("atu", "Alunos por turma", kind="decimal")
PCT_INFREQUENTES = Column("pct_infrequentes", "Infrequentes (%)", kind="percent")
TDI = Column("tdi", "Distorção idade-série (%)", kind="percent")

# a student, a matrícula
ESTUDANTE = Column("nome", "Estudante")
MATRICULA = Column("id_matricula", "Matrícula")
DT_NASCIMENTO = Column("dt_nascimento", "Data de nascimento", kind="date")
DT_MATRICULA = Column("dt_matricula", "Data da matrícula", kind="date")
FREQUENCIA = Column("freq_pct", "Frequência (%)", kind="percent")

# a turma, a component
TURMA = Column("turma", "Turma")
COMPONENTE = Column("componente", "Componente")
BIMESTRE = Column("bimestre_nome", "Bimestre")
APROVEITAMENTO = Column("aproveitamento", "Aproveitamento (%)", kind="percent")
NOTAS_LANCADAS = Column("lancadas", "Notas lançadas", kind="int")
PCT_NOTAS_ABAIXO = Column("pct_notas_abaixo", "Notas abaixo da média (%)", kind="percent")
