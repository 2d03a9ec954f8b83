"""The "Cadastro de turmas" dashboard: coordinators register class tags, correct or deactivate
them, and start a collection now and follow it without reloading."""

from __future__ import annotations

import html
import logging
import time
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ...access import Viewer
from ...config import Paths
from ...dash import fmt, later, runs, ui
from ...dash.table import Column, Table
from ...dash.ticker import Ticker
from ...params import ParameterError
from ...store import Store
from .. import DATASET, admin
from .. import settings as settings_mod
from ..settings import SettingsError
from ..tags import TagError

log = logging.getLogger("painel.progress")
MANAGERS = ("admin", "coordinator")
TAG_COLUMNS = [
    Column("Turma", "Turma"),
    Column("Trilha", "Trilha"),
    Column("Tag", "Tag na Cademi", kind="text"),
    Column("Nome na Cademi", "Nome na Cademi"),
    Column("Cadastrada por", "Cadastrada por"),
    Column("Cadastrada em", "Cadastrada em", kind="datetime"),
    Column("Corrigida", "Última correção"),
]


def tags_frame(paths: Paths, track_names: dict[str, str]) -> pd.DataFrame:
    rows = [
        {
            "tag_id": t.tag_id,
            "track": t.track,
            "class_number": t.class_number,
            "Turma": t.class_name,
            "Trilha": track_names.get(t.track, t.track),
            "Tag": str(t.tag_id),
            "Nome na Cademi": t.cademi_name,
            "Cadastrada por": t.registered_by,
            "Cadastrada em": t.registered_at,
            "Corrigida": (
                f"{fmt.datetime(t.changed_at)} por {t.changed_by}" if t.changed_at else fmt.EMPTY
            ),
        }
        for t in admin.registry(paths).list()
    ]
    columns = ["tag_id", "track", "class_number"] + [c.key for c in TAG_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def runs_html(paths: Paths) -> str:
    recent = admin.last_runs(paths, limit=5)
    if not recent:
        return ui.message("Nenhuma coleta registrada ainda.")
    items = "".join(f"<li>{html.escape(runs.line(r))}</li>" for r in recent)
    return f"<ul class='painel-runs' aria-label='Últimas coletas'>{items}</ul>"


def collected(paths: Paths, run: dict[str, Any]) -> str:
    """What a finished run published: "Sem. 48 · 23/11–29/11: 265 alunos de 6 turmas"."""
    try:
        published = [p for p in Store(paths.store).published_by(run["run_id"]) if p]
        version = next((p.split("@", 1)[1] for p in published if p.startswith(DATASET + "@")), None)
        if version is None:
            return ""
        c = Store(paths.store).manifest(DATASET, version).get("notes", {}).get("collection", {})
        return (
            f"{fmt.week(str(c['week']))}: {fmt.plural(int(c['students']), 'aluno', 'alunos')} de "
            f"{fmt.plural(int(c['classes']), 'turma', 'turmas')}"
        )
    except Exception:
        log.exception("could not summarise run %s", run.get("run_id"))
        return ""


class RunStatus:
    """ "Coletar agora" and the status line under it, which follows the newest run by itself."""

    def __init__(self, paths: Paths, viewer: Viewer):
        self.paths, self.viewer = paths, viewer
        self.button = widgets.Button(
            description="Coletar agora", icon="refresh", tooltip="Iniciar uma coleta agora"
        )
        self.status = widgets.HTML()
        self.list = widgets.HTML()
        self.ticker = Ticker(seconds=2)
        self.ticker.on_tick(self.update)
        self.following: str | None = None  # run_id of a run seen running

    def start(self, button: object = None) -> None:
        if admin.run_busy(self.paths):
            self.status.value = ui.message(
                "Uma coleta já está em andamento: acompanhe abaixo. Uma turma cadastrada agora "
                "entra na próxima coleta.",
                "warning",
            )
            self.ticker.active = True
            return
        recent = admin.last_runs(self.paths, limit=1)
        self.before = recent[0]["run_id"] if recent else None
        self.requested = time.monotonic()
        admin.start_run_now(self.paths, self.viewer.username)
        self.status.value = ui.message(
            "Coleta iniciada. O andamento aparece aqui a cada 2 segundos."
        )
        self.ticker.active = True
        self.update()

    before: str | None = None
    requested: float | None = None  # when this page started a run that has not shown up yet

    def update(self) -> None:
        recent = admin.last_runs(self.paths, limit=5)
        self.list.value = runs_html(self.paths)
        newest = recent[0] if recent else None
        if newest is not None and self.requested is not None and newest["run_id"] != self.before:
            self.following, self.requested = newest["run_id"], None  # ours has registered
        if newest is not None and newest["status"] == "running":
            self.following = newest["run_id"]
            progress = runs.progress_text(newest)
            self.status.value = ui.message(
                f"Coleta em andamento desde {fmt.datetime(newest['started_at'])}"
                + (f": {progress}." if progress else ": preparando…")
            )
            self.ticker.active = True
            return
        if self.following and newest is not None and newest["run_id"] == self.following:
            if newest["status"] == "succeeded":
                summary = collected(self.paths, newest)
                self.status.value = ui.message(
                    f"Coleta concluída às {fmt.datetime(newest.get('finished_at'))} em "
                    f"{runs.duration(newest.get('duration_s'))}"
                    + (f" — {summary}." if summary else ".")
                )
            else:
                self.status.value = ui.message(
                    f"A coleta iniciada em {fmt.datetime(newest['started_at'])} falhou e nada "
                    "mudou nos painéis. A equipe de dados vê o motivo em Atualização dos dados.",
                    "error",
                )
            self.following = None
        elif self.requested is not None:
            if time.monotonic() - self.requested < 60:
                return  # the run's process is starting: keep asking
            self.requested = None
            self.status.value = ui.message(
                "A coleta pedida não começou. Tente de novo ou avise a equipe de dados.", "error"
            )
        self.ticker.active = False


class TagEditor:
    """Correct or deactivate the registration chosen in the table (recorded: who and when)."""

    def __init__(self, paths: Paths, viewer: Viewer, track_options: list[tuple[str, str]]):
        self.paths, self.viewer, self.track_options = paths, viewer, track_options
        style = {"description_width": "initial"}
        self.title = widgets.HTML()
        self.track = widgets.Dropdown(
            options=track_options, description="Trilha correta:", style=style
        )
        self.number = widgets.Text(description="Número correto da turma:", style=style)
        self.save = widgets.Button(description="Salvar correção", button_style="primary")
        self.deactivate = widgets.Button(description="Desativar tag", button_style="danger")
        self.confirm = widgets.Button(description="Confirmar desativação", button_style="danger")
        self.cancel = widgets.Button(description="Cancelar")
        self.feedback = widgets.HTML()
        self.confirm.layout.display = "none"
        self.tag_id: int | None = None
        self.box = widgets.VBox(
            [
                self.title,
                widgets.HBox(
                    [self.track, self.number],
                    layout=widgets.Layout(flex_flow="row wrap", gap="8px"),
                ),
                widgets.HBox(
                    [self.save, self.deactivate, self.confirm, self.cancel],
                    layout=widgets.Layout(flex_flow="row wrap", gap="8px"),
                ),
                self.feedback,
            ],
            layout=widgets.Layout(
                display="none", border="1px solid #d0d7de", padding="8px 12px", margin="8px 0"
            ),
        )
        self.cancel.on_click(lambda _b: self.close())

    def open(self, record: dict[str, Any]) -> None:
        self.tag_id = int(record["tag_id"])
        self.title.value = (
            f"<b>Corrigir ou desativar a tag {self.tag_id}</b> "
            f"({html.escape(str(record['Nome na Cademi']))}, hoje {record['Turma']} da trilha "
            f"{html.escape(str(record['Trilha']))})"
        )
        self.track.value = ui.choose(
            record["track"], self.track_options, fallback=self.track_options[0][1]
        )
        self.number.value = str(record["class_number"])
        self.feedback.value = ""
        self.confirm.layout.display = "none"
        self.box.layout.display = "flex"

    def close(self) -> None:
        self.tag_id = None
        self.box.layout.display = "none"

    def ask_to_deactivate(self) -> None:
        self.confirm.layout.display = "inline-flex"
        self.feedback.value = ui.message(
            f"A tag {self.tag_id} deixará de ser coletada; o histórico publicado continua. "
            "Confirme para desativar.",
            "warning",
        )


def build(viewer: Viewer) -> widgets.Widget:
    if viewer.role not in MANAGERS:
        return widgets.HTML(ui.message("Somente a coordenação cadastra turmas.", "warning"))
    paths = Paths.from_env()
    try:
        settings = settings_mod.load(paths)
    except (SettingsError, ParameterError) as exc:  # a job not configured yet: say so, in pt-BR
        log.warning("Cadastro de turmas: the progress job is not configured: %s", exc)
        return widgets.HTML(
            ui.message(
                "A coleta de progresso ainda não está configurada. Avise a equipe de "
                "dados: o arquivo parameters/progress.yaml precisa ser ajustado.",
                "warning",
            )
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
    table = Table(
        TAG_COLUMNS,
        caption="Turmas cadastradas",
        sort="Trilha",
        unit="turmas",
        click_hint="clique em uma turma para corrigir ou desativar",
        empty_text="Nenhuma turma cadastrada.",
    )
    editor = TagEditor(paths, viewer, track_options)
    run = RunStatus(paths, viewer)
    errors = widgets.Output()

    def show_tags() -> None:
        table.frame = tags_frame(paths, track_names)

    @ui.guarded(errors)
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

    @ui.guarded(errors)
    def save(button: object = None) -> None:
        if editor.tag_id is None:
            return
        chosen = ui.choose(editor.track.value, track_options, fallback=None)
        try:
            changed = admin.change(
                paths, editor.tag_id, chosen or "", editor.number.value, viewer.username
            )
        except TagError as exc:
            editor.feedback.value = ui.message(exc.pt, "error")
            return
        show_tags()
        editor.close()
        feedback.value = ui.message(
            f"Tag {changed.tag_id} corrigida: agora é a {changed.class_name} da trilha "
            f"{track_names[changed.track]}."
        )

    @ui.guarded(errors)
    def deactivate(button: object = None) -> None:
        if editor.tag_id is None:
            return
        try:
            removed = admin.deactivate(paths, editor.tag_id, viewer.username)
        except TagError as exc:
            editor.feedback.value = ui.message(exc.pt, "error")
            return
        show_tags()
        editor.close()
        feedback.value = ui.message(
            f"Tag {removed.tag_id} ({removed.class_name}) desativada: não será mais coletada; "
            "o histórico publicado continua nos painéis."
        )

    submit.on_click(register)
    table.on_row_click(ui.guarded(errors)(editor.open))
    editor.save.on_click(save)
    editor.deactivate.on_click(lambda _b: editor.ask_to_deactivate())
    editor.confirm.on_click(deactivate)
    run.button.on_click(ui.guarded(errors)(run.start))

    @ui.guarded(errors)
    def fill() -> None:
        show_tags()
        run.update()

    later(fill)  # after the page is sent
    return widgets.VBox(
        [
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
            editor.box,
            widgets.HTML("<h3>Coletas</h3>"),
            run.button,
            run.status,
            run.list,
            run.ticker,
            errors,
        ]
    )
