"""The "Cadastro de turmas" dashboard: coordinators register class tags and start a run now."""

from __future__ import annotations

import html
import json
import logging

import ipywidgets as widgets
import pandas as pd

from ...access import Viewer
from ...config import Paths
from ...dash import ui
from ...freshness import local
from ...params import ParameterError
from .. import admin
from .. import settings as settings_mod
from ..settings import SettingsError
from ..tags import TagError

log = logging.getLogger("painel.progress")
MANAGERS = ("admin", "coordinator")
STATUS = {"running": "em andamento", "succeeded": "concluída", "failed": "falhou"}


def tags_frame(paths: Paths, track_names: dict[str, str]) -> pd.DataFrame:
    rows = [
        {
            "Tag": t.tag_id,
            "Nome na Cademi": t.cademi_name,
            "Trilha": track_names.get(t.track, t.track),
            "Turma": t.class_name,
            "Cadastrada por": t.registered_by,
            "Cadastrada em": local(t.registered_at),
        }
        for t in admin.registry(paths).list()
    ]
    return pd.DataFrame(
        rows,
        columns=["Tag", "Nome na Cademi", "Trilha", "Turma", "Cadastrada por", "Cadastrada em"],
    )


def runs_html(paths: Paths) -> str:
    runs = admin.last_runs(paths, limit=5)
    if not runs:
        return ui.message("Nenhuma coleta registrada ainda.")
    items = []
    for r in runs:
        text = f"{local(r['started_at'])}: {STATUS.get(r['status'], r['status'])}"
        if r["status"] == "running" and r.get("progress"):
            p = json.loads(r["progress"])
            text += f" — {ui.number(p['done'])} de {ui.number(p['total'])} consultas"
            if p.get("eta_s") is not None:
                text += f", faltam cerca de {max(1, round(p['eta_s'] / 60))} min"
        if r["status"] == "failed" and r.get("error"):
            text += f" — {r['error'][:300]}"
        items.append(f"<li>{html.escape(text)}</li>")
    return "<ul class='painel-runs'>" + "".join(items) + "</ul>"


def build(viewer: Viewer) -> widgets.Widget:
    header = widgets.HTML("")  # the notebook's own heading names the page
    if viewer.role not in MANAGERS:
        return widgets.VBox(
            [header, widgets.HTML(ui.message("Somente a coordenação cadastra turmas.", "warning"))]
        )
    paths = Paths.from_env()
    try:
        settings = settings_mod.load(paths)
    except (SettingsError, ParameterError) as exc:  # a job not configured yet: say so, in pt-BR
        log.warning("Cadastro de turmas: the progress job is not configured: %s", exc)
        return widgets.VBox(
            [
                header,
                widgets.HTML(
                    ui.message(
                        "A coleta de progresso ainda não está configurada. Avise a equipe de "
                        "dados: o arquivo parameters/progress.yaml precisa ser ajustado.",
                        "warning",
                    )
                ),
            ]
        )
    track_names = {k: t.name for k, t in settings.tracks.items()}
    style = {"description_width": "initial"}
    tag = widgets.Text(description="Tag da turma na Cademi:", placeholder="ex.: 5007", style=style)
    track_options = [(name, key) for key, name in track_names.items()]
    track = widgets.Dropdown(
        options=track_options, value=track_options[0][1], description="Trilha:", style=style
    )
    number = widgets.Text(description="Número da turma:", placeholder="ex.: 7", style=style)
    submit = widgets.Button(description="Cadastrar", button_style="primary", icon="plus")
    feedback = widgets.HTML()
    table = widgets.Output()
    run_now = widgets.Button(description="Coletar agora", icon="refresh")
    refresh_runs = widgets.Button(description="Atualizar situação", icon="refresh")
    run_feedback = widgets.HTML()
    runs = widgets.HTML()

    def show_tags() -> None:
        ui.show(table, tags_frame(paths, track_names))

    @ui.guarded(table)
    def register(button: object = None) -> None:
        chosen = ui.choose(track.value, track_options, fallback=None)
        try:
            added = admin.register(paths, tag.value, chosen or "", number.value, viewer.username)
        except TagError as exc:
            feedback.value = ui.message(exc.pt, "error")
            return
        feedback.value = ui.message(
            f"Tag {added.tag_id} ({added.cademi_name}) cadastrada como {added.class_name} da trilha "
            f"{track_names[added.track]}. Ela entra na próxima coleta.",
            "info",
        )
        tag.value, number.value = "", ""
        show_tags()

    @ui.guarded(table)
    def start(button: object = None) -> None:
        run_feedback.value = ui.message(admin.start_run_now(paths, viewer.username))
        runs.value = runs_html(paths)

    @ui.guarded(table)
    def update_runs(button: object = None) -> None:
        runs.value = runs_html(paths)

    submit.on_click(register)
    run_now.on_click(start)
    refresh_runs.on_click(update_runs)
    show_tags()
    runs.value = runs_html(paths)
    return widgets.VBox(
        [
            header,
            widgets.HTML(
                "<p>Uma turma cadastrada entra na próxima coleta semanal. Para coletar já, use "
                "<b>Coletar agora</b>.</p>"
            ),
            widgets.HBox(
                [tag, track, number, submit], layout=widgets.Layout(flex_flow="row wrap", gap="8px")
            ),
            feedback,
            widgets.HTML("<h3>Turmas cadastradas</h3>"),
            table,
            widgets.HTML("<h3>Coletas</h3>"),
            widgets.HBox([run_now, refresh_runs]),
            run_feedback,
            runs,
        ]
    )
