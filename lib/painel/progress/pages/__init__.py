"""The progress dashboards' logic; each notebook imports its page and renders it.

- :mod:`.progresso`: the tutors' and coordinators' progress dashboard (``progresso.ipynb``);
- :mod:`.cadastro`: class-tag registration and "run now" (``cadastro_turmas.ipynb``).
"""
