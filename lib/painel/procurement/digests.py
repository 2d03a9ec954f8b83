"""The procurement suite's e-mails: digests built for each recipient through their own scope.

Who gets what (docs/procurement.md, "E-mails"):

- **Analysts** (role ``cge_analista``), daily (:func:`daily_analyst`): the findings the
  workflow saw for the first time since this user's previous daily digest (``visto_em`` after
  that digest was made; the first one: the last 24 hours), by rule, the 10 riskiest of them,
  and how fresh the data is (a warning when it is more than 2 days old). Nothing new and fresh
  data: no mail.
- **Organs** (roles ``orgao``, ``orgao_unidade``), weekly on Mondays (:func:`weekly_organ`): the
  findings the CGE sent them since their previous weekly digest (the first one: the last 7
  days), the classes whose dispensas this year reached 80 % of the limit, the purchases with a
  result and no contract in PNCP whose art. 94 deadline ends within ``dias_art94`` working days
  (or ended in the last 30 days), and their open editais with a proposal period shorter than
  the minimum (R3 findings not discarded by the CGE). Nothing in any section: no mail.
- **Analysts, the same day** (:func:`same_day`): R2 findings (dispensa above the limit) whose
  value is at least twice the limit, first found by the version just published. Organs do not
  get it: they see only what the CGE sends them (``workflow.ORGAO_VE``).
- **Management** (role ``cge_gestor``), monthly on the 1st (:func:`monthly_management`): the
  previous month's purchases, value and share of direct awards, the findings by rule and
  status, the findings confirmed and sent in the month. Always sent.

Every digest reads the published dataset through the recipient's
:class:`~painel.scope.ScopedDataset` (their role and grants read fresh by
:func:`painel.mail.recipients`): an organ's mail holds only its rows, and a grant revoked today
changes tomorrow's mail. Workflow state (operational store) is joined only to the findings
that scope returned. The core admin role gets no digest (admins run the system; support gets
the failure mails).

Each mail is queued under a dedup key (:func:`daily_key` and the others), so a job that runs
again queues nothing twice; :func:`queue_due` is what the ``procurement_mail`` job calls.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from .. import mail
from ..config import TIMEZONE, Paths
from ..dash import fmt
from ..opstate import OpState, iso, parse_iso, utcnow
from ..scope import ScopedDataset
from ..store import Store
from . import DATASET, workflow
from .etl.rules import RULES

MAIL_JOB = "procurement_mail"
KIND_DAILY = "procurement.daily"
KIND_WEEKLY = "procurement.weekly"
KIND_SAME_DAY = "procurement.same_day"
KIND_MONTHLY = "procurement.monthly"

ANALYSTS = ("cge_analista",)
ORGANS = ("orgao", "orgao_unidade")
MANAGERS = ("cge_gestor",)

PREFIX = "[CGE-GO]"
DEFAULT_PAINEL_URL = "http://127.0.0.1:8866"
PNCP = "https://pncp.gov.br/"
TOP = 10  # the riskiest new findings an analyst's daily lists
STALE_AFTER = dt.timedelta(days=2)  # older data is flagged in the daily digest
NEAR_LIMIT = 0.8  # a class whose dispensas reached this share of the limit is listed
GRAVE_FACTOR = 2.0  # R2 at least this many times the limit: a same-day alert
LATE_DAYS = 30  # art. 94 deadlines that ended at most this many days ago are still listed
SAME_DAY_MAX = 50  # findings listed in one same-day alert (the rest are counted)
SAME_DAY_TIMEOUT_S = 5.0  # the publishing job waits at most this per SMTP step
MAX_DIAS_ART94 = 60

PANELS = {
    "alertas": ("Painel de Alertas", "compras_alertas.ipynb"),
    "meus_alertas": ("Meus Alertas", "compras_meus_alertas.ipynb"),
    "saldo": ("Saldo de Dispensa por Classe", "compras_saldo_dispensa.ipynb"),
    "visao_geral": ("Visão Geral", "compras_visao_geral.ipynb"),
}
ROLE_NAMES = {
    "cge_analista": "analista da CGE",
    "cge_gestor": "gestão da CGE",
    "orgao": "órgão",
    "orgao_unidade": "unidade gestora",
}
_URL = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/%\-]*)?$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class MailJobError(Exception):
    """The ``procurement_mail`` run failed; ``str()`` is one line naming the cause."""


# ---- parameters ---------------------------------------------------------------------------
def day(text: str = "") -> dt.date:
    """``AAAA-MM-DD``, or today in São Paulo when empty."""
    text = (text or "").strip()
    if not text:
        return dt.datetime.now(ZoneInfo(TIMEZONE)).date()
    if not _DAY.match(text):
        raise ValueError(f"parameter dia: expected AAAA-MM-DD or empty (today), got {text!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"parameter dia: {text!r} is not a date") from None


def dashboard_url(text: str) -> str:
    """The dashboards' root URL without the trailing slash; empty: mails carry no link to them."""
    text = (text or "").strip().rstrip("/")
    if text and not _URL.match(text):
        raise ValueError(
            f"parameter painel_url: expected http(s)://host[:port][/path] or empty, got {text!r}"
        )
    return text


def validate_parameters(values: dict[str, Any]) -> None:
    """The ``procurement_mail`` notebook's own checks (its metadata names this function)."""
    day(str(values.get("dia", "")))
    dashboard_url(str(values.get("painel_url", "")))
    n = values.get("dias_art94", 5)
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_DIAS_ART94:
        raise ValueError(f"parameter dias_art94: expected 0 to {MAX_DIAS_ART94}, got {n!r}")


# ---- context and keys ---------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """What every digest of one pass shares: where the data is, the day, the links."""

    paths: Paths
    today: dt.date
    now: dt.datetime = field(default_factory=utcnow)
    store: Store | None = None
    painel_url: str = DEFAULT_PAINEL_URL
    dias_art94: int = 5

    @property
    def opstate(self) -> OpState:
        return OpState(self.paths.opstate)

    def open(self, recipient: mail.Recipient) -> ScopedDataset:
        return ScopedDataset(recipient.viewer, DATASET, self.store or Store(self.paths.store))

    def panel(self, name: str) -> tuple[str, str] | None:
        """(title, URL) of a dashboard, None without ``painel_url``."""
        if not self.painel_url:
            return None
        title, notebook = PANELS[name]
        return title, f"{self.painel_url}/voila/render/{notebook}"


def daily_key(today: dt.date, username: str) -> str:
    return f"{KIND_DAILY}:{today.isoformat()}:{username}"


def weekly_key(today: dt.date, username: str) -> str:
    year, week, _ = today.isocalendar()
    return f"{KIND_WEEKLY}:{year}-W{week:02d}:{username}"


def same_day_key(version: str, username: str) -> str:
    return f"{KIND_SAME_DAY}:{version}:{username}"


def monthly_key(month: dt.date, username: str) -> str:
    return f"{KIND_MONTHLY}:{month:%Y-%m}:{username}"


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """(first day of the month before ``today``'s, first day of ``today``'s month)."""
    end = today.replace(day=1)
    return (end - dt.timedelta(days=1)).replace(day=1), end


# ---- the mail's body: text and HTML side by side ------------------------------------------
@dataclass(frozen=True)
class Link:
    label: str
    url: str | None  # None: not a URL a mail may link to; the label alone


class _Doc:
    """A mail's body in plain text and in HTML, written once; every value is escaped here."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.text: list[str] = []
        self.html: list[str] = []

    def link(self, label: str, url: Any) -> Link:
        """A link only to PNCP or to the dashboards; without one, a dash."""
        target = str(url) if isinstance(url, str) else ""
        allowed = target.startswith(PNCP) or (
            bool(self.ctx.painel_url) and target.startswith(self.ctx.painel_url + "/")
        )
        if not allowed or any(c.isspace() or c in "\"'<>" for c in target):
            return Link("—", None)
        return Link(label, target)

    def p(self, text: str, *, strong: bool = False, note: bool = False) -> None:
        self.text += [text, ""]
        style = ' style="color: #616e7c; font-size: 12px"' if note else ""
        body = f"<strong>{_e(text)}</strong>" if strong else _e(text)
        self.html.append(f"<p{style}>{body}</p>")

    def warn(self, text: str) -> None:
        self.text += [f"ATENÇÃO: {text}", ""]
        self.html.append(
            '<p style="background: #fff4e5; border-left: 4px solid #c05621; padding: 8px">'
            f"<strong>Atenção:</strong> {_e(text)}</p>"
        )

    def h(self, text: str) -> None:
        self.text += ["", text, "-" * len(text)]
        self.html.append(f'<h2 style="font-size: 16px; margin: 20px 0 6px">{_e(text)}</h2>')

    def panel(self, name: str, text: str = "Abrir") -> None:
        got = self.ctx.panel(name)
        if got is None:
            return
        title, url = got
        self.text += [f"{text} {title}: {url}", ""]
        self.html.append(f'<p>{_e(text)} <a href="{_e(url)}">{_e(title)}</a></p>')

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str | Link]],
        right: Sequence[int] = (),
    ) -> None:
        """A table: aligned columns in the text part (links on a line of their own under the
        row), a bordered table in the HTML part."""
        cells = [[c.label if isinstance(c, Link) else c for c in row] for row in rows]
        widths = [max(len(x) for x in col) for col in zip(headers, *cells, strict=True)]

        def line(values: Sequence[str]) -> str:
            out = [
                v.rjust(w) if i in right else v.ljust(w)
                for i, (v, w) in enumerate(zip(values, widths, strict=True))
            ]
            return "  ".join(out).rstrip()

        self.text.append(line(headers))
        self.text.append("  ".join("-" * w for w in widths))
        for row, texts in zip(rows, cells, strict=True):
            self.text.append(line(texts))
            urls = [c.url for c in row if isinstance(c, Link) and c.url]
            self.text += [f"    {u}" for u in urls]
        self.text.append("")
        th = "".join(
            f'<th style="{_CELL}; text-align: {"right" if i in right else "left"}; '
            f'background: #f0f4f8">{_e(h)}</th>'
            for i, h in enumerate(headers)
        )
        body = []
        for row in rows:
            tds = []
            for i, c in enumerate(row):
                align = "right" if i in right else "left"
                if isinstance(c, Link) and c.url:
                    inner = f'<a href="{_e(c.url)}">{_e(c.label)}</a>'
                else:
                    inner = _e(c.label if isinstance(c, Link) else c)
                tds.append(f'<td style="{_CELL}; text-align: {align}">{inner}</td>')
            body.append(f"<tr>{''.join(tds)}</tr>")
        self.html.append(
            '<table style="border-collapse: collapse; margin: 4px 0 12px">'
            f"<thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )

    def mail(self, recipient: mail.Recipient, subject: str, kind: str) -> mail.Mail:
        role = ROLE_NAMES.get(recipient.viewer.role, recipient.viewer.role)
        why = (
            f"Você recebe esta mensagem como usuário do painel ({role}); ela mostra apenas "
            "os dados que o seu acesso permite ver."
        )
        text = "\n".join(
            [*self.text, "", why, "", "-- ", "Mensagem automática do painel; não responda.", ""]
        )
        body = "\n".join(self.html) + f'\n<p style="color: #616e7c; font-size: 12px">{_e(why)}</p>'
        return mail.Mail(
            to=recipient.address,
            subject=subject,
            text=_tidy(text),
            html=mail.html_document(subject, body),
            kind=kind,
            username=recipient.viewer.username,
        )


_CELL = "border: 1px solid #d9e2ec; padding: 4px 8px; vertical-align: top"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).lstrip("\n")


def _plural(n: int, one: str, many: str) -> str:
    return f"{fmt.number(n)} {one if n == 1 else many}"


def _greeting(doc: _Doc, recipient: mail.Recipient) -> None:
    doc.p(f"Olá, {recipient.viewer.label()}.")


def _rule(regra: str) -> str:
    title = RULES.get(regra, (regra, ""))[0]
    return f"{regra} – {title}"


# ---- reading ------------------------------------------------------------------------------
_FINDING_SQL = (
    "SELECT a.regra, a.titulo, a.chave, a.orgao_cnpj, o.razao_social AS orgao, a.unidade_id, "
    "a.numero_controle_pncp, a.ano, a.risco, a.resumo, a.link_pncp, "
    "CAST(a.evidencia AS VARCHAR) AS evidencia FROM achados a "
    "LEFT JOIN orgaos o USING (orgao_cnpj) "
)


def _visible(ds: ScopedDataset, keys: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The findings among ``keys`` (regra, chave) that the recipient's scope shows, riskiest
    first (a key of another organ's finding simply returns nothing)."""
    regras = [str(r) for r, _ in keys]
    chaves = [str(c) for _, c in keys]
    return ds.sql(
        _FINDING_SQL + "JOIN (SELECT unnest(?::VARCHAR[]) AS regra, "
        "unnest(?::VARCHAR[]) AS chave) k USING (regra, chave) "
        "ORDER BY a.risco DESC, a.regra, a.chave",
        [regras, chaves],
    )


def _last_digest(ctx: Context, kind: str, username: str, key: str) -> dt.datetime | None:
    """When this user's previous digest of ``kind`` was made (queued), if any."""
    with ctx.opstate.connect() as con:
        row = con.execute(
            "SELECT max(created_at) FROM mail_outbox WHERE kind = ? AND username = ? "
            "AND dedup_key != ?",
            [kind, username, key],
        ).fetchone()
    return parse_iso(row[0]) if row and row[0] else None


def _queued(ctx: Context, key: str) -> bool:
    with ctx.opstate.connect() as con:
        return (
            con.execute("SELECT 1 FROM mail_outbox WHERE dedup_key = ?", [key]).fetchone()
            is not None
        )


def _local(moment: dt.datetime) -> str:
    return fmt.datetime(moment)


def _money(value: Any) -> str:
    return fmt.money(value)


def _pct(value: Any) -> str:
    return fmt.percent(value, 1)


# ---- analysts, daily ----------------------------------------------------------------------
def daily_analyst(ctx: Context, recipient: mail.Recipient) -> mail.Mail | None:
    """New findings since this analyst's previous daily digest, by rule and the 10 riskiest,
    and the data's freshness; None when nothing is new and the data is fresh."""
    username = recipient.viewer.username
    key = daily_key(ctx.today, username)
    since = _last_digest(ctx, KIND_DAILY, username, key) or ctx.now - dt.timedelta(days=1)
    with ctx.opstate.connect() as con:
        keys = [
            (r["regra"], r["chave"])
            for r in con.execute(
                "SELECT regra, chave FROM procurement_achados WHERE ativo AND visto_em > ?",
                [iso(since)],
            )
        ]
    ds = ctx.open(recipient)
    try:
        new = _visible(ds, keys) if keys else pd.DataFrame()
        manifest = ds.manifest
    finally:
        ds.close()
    extracted = manifest.get("source_extracted_at") or manifest.get("published_at")
    reference = _instant(extracted)
    age = ctx.now - reference if reference is not None else None
    stale = age is None or age > STALE_AFTER
    if new.empty and not stale:
        return None

    n = len(new)
    doc = _Doc(ctx)
    _greeting(doc, recipient)
    if n:
        doc.p(
            f"{_plural(n, 'alerta novo', 'alertas novos')} de compras públicas desde "
            f"{_local(since)}, somando {_money(new['risco'].sum())} em risco estimado.",
            strong=True,
        )
    else:
        doc.p(f"Nenhum alerta novo desde {_local(since)}.", strong=True)
    _freshness(doc, manifest, reference, stale)
    if n:
        doc.h("Alertas novos por regra")
        by_rule = (
            new.groupby("regra", sort=True)
            .agg(n=("chave", "size"), risco=("risco", "sum"))
            .reset_index()
        )
        doc.table(
            ["Regra", "Alertas", "Risco estimado"],
            [[_rule(r.regra), fmt.number(r.n), _money(r.risco)] for r in by_rule.itertuples()],
            right=(1, 2),
        )
        top = new.head(TOP)
        doc.h(f"Os {min(TOP, n)} de maior risco" if n > 1 else "O alerta novo")
        doc.table(
            ["#", "Regra", "Órgão", "Resumo", "Risco", "PNCP"],
            [
                [
                    str(i),
                    str(r.regra),
                    str(r.orgao or r.orgao_cnpj),
                    str(r.resumo),
                    _money(r.risco),
                    doc.link("ver no PNCP", r.link_pncp),
                ]
                for i, r in enumerate(top.itertuples(), start=1)
            ],
            right=(0, 4),
        )
        if n > TOP:
            doc.p(f"E mais {_plural(n - TOP, 'alerta', 'alertas')} no painel.", note=True)
    doc.panel("alertas", "Analise os alertas no")
    subject = f"{PREFIX} Alertas de compras – {fmt.date(ctx.today)}: " + (
        f"{fmt.number(n)} {'novo' if n == 1 else 'novos'}" if n else "dados desatualizados"
    )
    return doc.mail(recipient, subject, KIND_DAILY)


def _instant(value: Any) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _freshness(
    doc: _Doc, manifest: dict[str, Any], reference: dt.datetime | None, stale: bool
) -> None:
    published = manifest.get("published_at")
    extracted = manifest.get("source_extracted_at")
    line = f"Dados do PNCP até {fmt.datetime(extracted)}" if extracted else "Dados"
    if published:
        line += f", publicados no painel em {fmt.datetime(published)}"
    doc.p(line + ".")
    if stale:
        when = (
            f"os dados são de {fmt.datetime(reference)}, há mais de 2 dias"
            if reference is not None
            else "não se sabe de quando são os dados"
        )
        doc.warn(
            f"{when}. A coleta diária do PNCP pode estar falhando; confira as execuções do "
            "job procurement."
        )


# ---- organs, weekly -----------------------------------------------------------------------
def weekly_organ(ctx: Context, recipient: mail.Recipient) -> mail.Mail | None:
    """An organ's week: the findings the CGE sent it, classes near the dispensa limit,
    contracts to publish (art. 94), open editais with too short a proposal period; None when
    every section is empty."""
    from .queries import Filters, dispensa_balance

    username = recipient.viewer.username
    key = weekly_key(ctx.today, username)
    since = _last_digest(ctx, KIND_WEEKLY, username, key) or ctx.now - dt.timedelta(days=7)
    with ctx.opstate.connect() as con:
        sent_keys = [
            (r["regra"], r["chave"])
            for r in con.execute(
                "SELECT DISTINCT e.regra, e.chave FROM procurement_achados_eventos e "
                "JOIN procurement_achados a USING (regra, chave) "
                "WHERE e.para = ? AND coalesce(e.de, '') != e.para AND e.em > ? AND a.status = ?",
                [workflow.ENVIADO, iso(since), workflow.ENVIADO],
            )
        ]
        discarded = {
            (r["regra"], r["chave"])
            for r in con.execute(
                "SELECT regra, chave FROM procurement_achados WHERE regra = 'R3' AND status = ?",
                [workflow.DESCARTADO],
            )
        }
    ds = ctx.open(recipient)
    try:
        sent = _visible(ds, sent_keys) if sent_keys else pd.DataFrame()
        balance = dispensa_balance(ds, Filters(ano=ctx.today.year))
        near = balance[balance["gasto"] >= NEAR_LIMIT * balance["limite"]]
        art94 = _art94(ds, ctx)
        editais = _open_editais(ds, ctx.today)
        editais = editais[
            [
                (r, c) not in discarded
                for r, c in zip(editais["regra"], editais["chave"], strict=True)
            ]
        ]
        names = _scope_names(ds, recipient)
    finally:
        ds.close()
    if sent.empty and near.empty and art94.empty and editais.empty:
        return None

    doc = _Doc(ctx)
    _greeting(doc, recipient)
    doc.p(f"Resumo semanal de compras públicas de {names}, em {fmt.date(ctx.today)}.")
    if not sent.empty:
        doc.h(f"Alertas enviados pela CGE ({fmt.number(len(sent))})")
        doc.p(
            "São indícios a verificar, não conclusões: confira cada um e responda à CGE "
            "pelo painel ou pelo canal de sempre."
        )
        doc.table(
            ["Regra", "Compra ou contrato", "Resumo", "Valor", "PNCP"],
            [
                [
                    _rule(str(r.regra)),
                    str(r.numero_controle_pncp or "—"),
                    str(r.resumo),
                    _money(r.risco),
                    doc.link("ver no PNCP", r.link_pncp),
                ]
                for r in sent.itertuples()
            ],
            right=(3,),
        )
        doc.panel("meus_alertas", "Veja os detalhes em")
    if not near.empty:
        doc.h(f"Classes perto do limite de dispensa em {ctx.today.year}")
        doc.p(
            f"Dispensas por valor (art. 75, I e II) que somam {fmt.number(NEAR_LIMIT * 100)} % "
            "ou mais do limite anual da classe: novas compras da mesma classe podem "
            "configurar fracionamento (art. 75, § 1º)."
        )
        doc.table(
            ["Classe", "Inciso", "Dispensas", "Gasto", "Limite", "Uso", "Saldo"],
            [
                [
                    str(r.classe),
                    str(r.inciso),
                    fmt.number(r.dispensas),
                    _money(r.gasto),
                    _money(r.limite),
                    _pct(100 * r.gasto / r.limite),
                    _money(r.limite - r.gasto) if r.gasto < r.limite else "limite atingido",
                ]
                for r in near.itertuples()
            ],
            right=(2, 3, 4, 5, 6),
        )
        doc.panel("saldo", "Acompanhe no")
    if not art94.empty:
        doc.h("Contratos a publicar no PNCP (art. 94)")
        doc.p(
            "Compras com resultado e sem contrato no PNCP. O contrato deve ser publicado em "
            "até 20 dias úteis da assinatura (10 nas contratações diretas); o prazo abaixo "
            "conta do resultado, a data mais cedo em que o contrato pode ter sido assinado. "
            "Atas de registro de preços e dispensas por valor (que podem dispensar o "
            "contrato, art. 95) ficam de fora."
        )
        doc.table(
            ["Compra", "Objeto", "Resultado", "Prazo", "Situação", "PNCP"],
            [
                [
                    str(r.numero_controle_pncp),
                    str(r.objeto_compra),
                    fmt.date(r.resultado),
                    fmt.date(r.prazo_final),
                    _days_left(r.prazo_final, int(r.restam), ctx.today),
                    doc.link("ver no PNCP", r.link_pncp),
                ]
                for r in art94.itertuples()
            ],
        )
    if not editais.empty:
        doc.h("Editais abertos com prazo de propostas abaixo do mínimo (art. 55)")
        doc.p(
            "Ainda dá para corrigir: republicar o edital reabre o prazo de propostas "
            "(art. 55, § 1º)."
        )
        doc.table(
            ["Compra", "Publicação", "Encerramento", "Prazo", "PNCP"],
            [
                [
                    str(r.numero_controle_pncp),
                    fmt.date(r.data_publicacao_pncp),
                    pd.Timestamp(r.data_encerramento_proposta).strftime("%d/%m/%Y %H:%M"),
                    str(r.resumo),
                    doc.link("ver no PNCP", r.link_pncp),
                ]
                for r in editais.itertuples()
            ],
        )
    parts = []
    if not sent.empty:
        parts.append(_plural(len(sent), "alerta enviado", "alertas enviados"))
    if not art94.empty:
        parts.append(_plural(len(art94), "contrato a publicar", "contratos a publicar"))
    if not near.empty:
        parts.append(_plural(len(near), "classe perto do limite", "classes perto do limite"))
    if not editais.empty:
        parts.append(_plural(len(editais), "edital com prazo curto", "editais com prazo curto"))
    subject = f"{PREFIX} Resumo semanal de compras – {fmt.date(ctx.today)}: {', '.join(parts)}"
    return doc.mail(recipient, subject, KIND_WEEKLY)


_SP = ZoneInfo(TIMEZONE)


def _days_left(deadline: Any, left: int, today: dt.date) -> str:
    end = pd.Timestamp(deadline).date()
    if end < today:
        return f"vencido em {fmt.date(end)}, se já assinado"
    if end == today:
        return "vence hoje"
    return f"{'falta' if left == 1 else 'faltam'} {_plural(left, 'dia útil', 'dias úteis')}"


def _scope_names(ds: ScopedDataset, recipient: mail.Recipient) -> str:
    """The organs and units the recipient's grants name (public names)."""
    viewer = recipient.viewer
    orgaos = viewer.ids(DATASET, "orgao")
    unidades = viewer.ids(DATASET, "unidade")
    names: list[str] = []
    if orgaos:
        df = ds.sql(
            "SELECT razao_social FROM orgaos WHERE list_contains(?::VARCHAR[], orgao_cnpj) "
            "ORDER BY razao_social",
            [orgaos],
        )
        names += [str(v) for v in df["razao_social"]]
    if unidades:
        df = ds.sql(
            "SELECT u.nome_unidade || ' (' || o.razao_social || ')' AS nome FROM unidades u "
            "JOIN orgaos o USING (orgao_cnpj) WHERE list_contains(?::VARCHAR[], u.unidade_id) "
            "ORDER BY nome",
            [unidades],
        )
        names += [str(v) for v in df["nome"]]
    return "; ".join(names) or "seu acesso"


def _art94(ds: ScopedDataset, ctx: Context) -> pd.DataFrame:
    """Purchases with a result and no contract in PNCP whose art. 94 deadline, counted from
    the (last) result, ends within ``dias_art94`` working days of today or ended in the last
    :data:`LATE_DAYS` days. Not SRP (an ata, not a contract), not a dispensa by value (art. 95
    lets a simpler instrument replace the contract), not revoked or annulled."""
    from .etl.rules import RuleParams

    rp = RuleParams()
    return ds.sql(
        "WITH r AS (SELECT numero_controle_pncp, max(CAST(data_resultado AS DATE)) AS resultado "
        "  FROM resultados WHERE situacao_compra_item_resultado_id = 1 GROUP BY ALL), "
        "x AS (SELECT c.numero_controle_pncp, c.objeto_compra, c.link_pncp, r.resultado, "
        "  d.n + CASE WHEN c.modalidade_id IN (8, 9) THEN ? ELSE ? END AS n_prazo "
        "  FROM contratacoes c JOIN r USING (numero_controle_pncp) "
        "  JOIN dias_uteis d ON d.dia = r.resultado "
        "  WHERE c.situacao_compra_id = 1 AND NOT coalesce(c.srp, false) "
        "  AND NOT (c.modalidade_id = 8 AND c.amparo_legal_codigo IN (18, 19)) "
        "  AND NOT EXISTS (SELECT 1 FROM contratos k "
        "    WHERE k.numero_controle_pncp_compra = c.numero_controle_pncp)), "
        "p AS (SELECT x.*, (SELECT min(u.dia) FROM dias_uteis u WHERE u.util "
        "  AND u.n = x.n_prazo) AS prazo_final FROM x) "
        "SELECT p.numero_controle_pncp, p.objeto_compra, p.link_pncp, p.resultado, "
        "p.prazo_final, f.n - t.n AS restam FROM p JOIN dias_uteis f ON f.dia = p.prazo_final "
        "JOIN dias_uteis t ON t.dia = ?::DATE "
        "WHERE f.n - t.n <= ? AND p.prazo_final >= ?::DATE - ?::INTEGER "
        "ORDER BY p.prazo_final, p.numero_controle_pncp",
        [
            rp.r5_dias_uteis_direta,
            rp.r5_dias_uteis_licitacao,
            ctx.today,
            ctx.dias_art94,
            ctx.today,
            LATE_DAYS,
        ],
    )


def _open_editais(ds: ScopedDataset, today: dt.date) -> pd.DataFrame:
    """R3 findings (proposal period under the minimum) whose period ends today or later."""
    return ds.sql(
        "SELECT a.regra, a.chave, a.numero_controle_pncp, a.resumo, a.link_pncp, "
        "c.data_publicacao_pncp, c.data_encerramento_proposta FROM achados a "
        "JOIN contratacoes c USING (numero_controle_pncp) "
        "WHERE a.regra = 'R3' AND CAST(c.data_encerramento_proposta AS DATE) >= ?::DATE "
        "ORDER BY c.data_encerramento_proposta, a.numero_controle_pncp",
        [today],
    )


# ---- analysts, the same day ---------------------------------------------------------------
def grave_r2(ds: ScopedDataset) -> pd.DataFrame:
    """R2 findings (dispensa above the limit) worth at least :data:`GRAVE_FACTOR` times the
    limit, by the evidence's ``estimado``, ``homologado`` and ``limite``."""
    return ds.sql(
        _FINDING_SQL + "WHERE a.regra = 'R2' AND greatest("
        "coalesce(CAST(a.evidencia->>'$.estimado' AS DOUBLE), 0), "
        "coalesce(CAST(a.evidencia->>'$.homologado' AS DOUBLE), 0)) "
        ">= ? * CAST(a.evidencia->>'$.limite' AS DOUBLE) "
        "ORDER BY a.risco DESC, a.chave",
        [GRAVE_FACTOR],
    )


def same_day(ctx: Context, recipient: mail.Recipient, version: str) -> mail.Mail | None:
    """The R2 findings at least twice the limit that ``version`` found first and this analyst
    sees; None when there are none."""
    with ctx.opstate.connect() as con:
        first = {
            r["chave"]
            for r in con.execute(
                "SELECT chave FROM procurement_achados WHERE regra = 'R2' AND primeira_versao = ?",
                [version],
            )
        }
    if not first:
        return None
    ds = ctx.open(recipient)
    try:
        grave = grave_r2(ds)
    finally:
        ds.close()
    grave = grave[grave["chave"].isin(first)]
    if grave.empty:
        return None
    n = len(grave)
    doc = _Doc(ctx)
    _greeting(doc, recipient)
    doc.p(
        f"{_plural(n, 'dispensa publicada', 'dispensas publicadas')} no PNCP com valor de "
        f"{fmt.number(GRAVE_FACTOR)} vezes o limite ou mais (Lei 14.133/2021, art. 75, I e II), "
        f"{'encontrada' if n == 1 else 'encontradas'} na carga de hoje.",
        strong=True,
    )
    rows: list[list[str | Link]] = []
    for r in grave.head(SAME_DAY_MAX).itertuples():
        ev = json.loads(r.evidencia or "{}")
        value = max(float(ev.get("estimado") or 0), float(ev.get("homologado") or 0))
        limit = float(ev.get("limite") or 0)
        rows.append(
            [
                str(r.orgao or r.orgao_cnpj),
                str(r.numero_controle_pncp),
                _money(value),
                f"{_money(limit)} (inciso {ev.get('inciso', '—')})",
                fmt.number(value / limit, 1) + "×" if limit else "—",
                doc.link("ver no PNCP", r.link_pncp),
            ]
        )
    doc.table(["Órgão", "Compra", "Valor", "Limite", "Vezes", "PNCP"], rows, right=(2, 4))
    if n > SAME_DAY_MAX:
        doc.p(f"E mais {_plural(n - SAME_DAY_MAX, 'dispensa', 'dispensas')} no painel.", note=True)
    doc.panel("alertas", "Analise no")
    subject = (
        f"{PREFIX} Alerta imediato – {fmt.date(ctx.today)}: "
        f"{_plural(n, 'dispensa', 'dispensas')} acima do dobro do limite"
    )
    return doc.mail(recipient, subject, KIND_SAME_DAY)


# ---- management, monthly ------------------------------------------------------------------
def monthly_management(ctx: Context, recipient: mail.Recipient) -> mail.Mail:
    """Last month's KPIs: purchases, value, direct awards; findings by rule and status; the
    findings confirmed and sent in the month. Always a mail."""
    first, end = previous_month(ctx.today)
    start_utc = iso(dt.datetime.combine(first, dt.time(), _SP))
    end_utc = iso(dt.datetime.combine(end, dt.time(), _SP))
    ds = ctx.open(recipient)
    try:
        kpi = ds.sql(
            "SELECT count(*) AS compras, coalesce(sum(valor), 0) AS valor, "
            "count(*) FILTER (WHERE modalidade_id IN (8, 9)) AS diretas, "
            "coalesce(sum(valor) FILTER (WHERE modalidade_id IN (8, 9)), 0) AS valor_diretas, "
            "count(DISTINCT orgao_cnpj) AS orgaos FROM contratacoes "
            "WHERE data_publicacao_pncp >= ?::TIMESTAMP AND data_publicacao_pncp < ?::TIMESTAMP",
            [dt.datetime.combine(first, dt.time()), dt.datetime.combine(end, dt.time())],
        ).iloc[0]
        findings = ds.sql("SELECT regra, chave, risco FROM achados")
    finally:
        ds.close()
    with ctx.opstate.connect() as con:
        state = pd.DataFrame(
            [
                dict(r)
                for r in con.execute(
                    "SELECT regra, chave, status, visto_em FROM procurement_achados"
                )
            ],
            columns=["regra", "chave", "status", "visto_em"],
        )
        moved = pd.DataFrame(
            [
                dict(r)
                for r in con.execute(
                    "SELECT DISTINCT regra, chave, para FROM procurement_achados_eventos "
                    "WHERE para IN (?, ?) AND coalesce(de, '') != para AND em >= ? AND em < ?",
                    [workflow.CONFIRMADO, workflow.ENVIADO, start_utc, end_utc],
                )
            ],
            columns=["regra", "chave", "para"],
        )
    seen = findings.merge(state, on=["regra", "chave"], how="left")
    seen["status"] = seen["status"].fillna(workflow.NOVO)
    seen["novo_no_mes"] = (
        seen["visto_em"].notna() & (seen["visto_em"] >= start_utc) & (seen["visto_em"] < end_utc)
    )
    moved = moved.merge(findings[["regra", "chave"]], on=["regra", "chave"])

    compras, diretas = int(kpi["compras"]), int(kpi["diretas"])
    month = f"{fmt.MONTHS[first.month - 1]} de {first.year}"
    doc = _Doc(ctx)
    _greeting(doc, recipient)
    doc.p(f"Resumo das compras públicas de {month}.", strong=True)
    doc.h("Compras publicadas no PNCP")
    doc.table(
        ["Indicador", "Valor"],
        [
            ["Contratações publicadas", fmt.number(compras)],
            ["Valor (homologado ou estimado)", _money(kpi["valor"])],
            ["Órgãos com compras", fmt.number(kpi["orgaos"])],
            [
                "Contratações diretas (dispensa e inexigibilidade)",
                f"{fmt.number(diretas)} ({_pct(100 * diretas / compras if compras else 0)})",
            ],
            [
                "Valor das contratações diretas",
                f"{_money(kpi['valor_diretas'])} "
                f"({_pct(100 * kpi['valor_diretas'] / kpi['valor'] if kpi['valor'] else 0)})",
            ],
        ],
        right=(1,),
    )
    doc.h("Alertas por regra")
    rows = []
    for regra in RULES:
        of = seen[seen["regra"] == regra]
        rows.append(
            [
                _rule(regra),
                fmt.number(int(of["novo_no_mes"].sum())),
                fmt.number(len(of)),
                _money(of["risco"].sum()),
            ]
        )
    rows.append(
        [
            "Total",
            fmt.number(int(seen["novo_no_mes"].sum())),
            fmt.number(len(seen)),
            _money(seen["risco"].sum()),
        ]
    )
    doc.table(["Regra", f"Novos em {month}", "Nos dados atuais", "Risco estimado"], rows, (1, 2, 3))
    doc.h("Situação dos alertas nos dados atuais")
    counts = seen["status"].value_counts()
    doc.table(
        ["Situação", "Alertas"],
        [[label, fmt.number(int(counts.get(s, 0)))] for s, label in workflow.STATUS.items()],
        right=(1,),
    )
    confirmed = int((moved["para"] == workflow.CONFIRMADO).sum())
    sent = int((moved["para"] == workflow.ENVIADO).sum())
    doc.p(
        f"Em {month}, a CGE confirmou {_plural(confirmed, 'alerta', 'alertas')} e enviou "
        f"{_plural(sent, 'alerta', 'alertas')} aos órgãos."
    )
    doc.panel("visao_geral", "Veja mais na")
    subject = f"{PREFIX} Resumo mensal de compras – {month}"
    return doc.mail(recipient, subject, KIND_MONTHLY)


# ---- queueing -----------------------------------------------------------------------------
def _queue_one(
    ctx: Context,
    key: str,
    recipient: mail.Recipient,
    build: Callable[[], mail.Mail | None],
    what: str,
) -> str:
    user = recipient.viewer.username
    if _queued(ctx, key):
        return f"{key}: already queued"
    got = build()
    if got is None:
        return f"{what} for {user}: nothing to say, no mail"
    if mail.queue(ctx.opstate, got, key, now=ctx.now):
        return f"{key}: queued for {got.to} ({got.subject})"
    return f"{key}: already queued"


def queue_due(
    paths: Paths,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
    store: Store | None = None,
    painel_url: str = DEFAULT_PAINEL_URL,
    dias_art94: int = 5,
) -> list[str]:
    """Queue every digest due on ``today`` for every recipient by role: the analysts' daily,
    the organs' weekly (Mondays), management's monthly (the 1st, for the previous month), and
    the same-day alert of the current version (when the publishing job could not queue it).
    Returns one line per recipient and digest: queued, already queued, or nothing to say."""
    ctx = Context(
        paths=paths,
        today=today,
        now=now or utcnow(),
        store=store,
        painel_url=dashboard_url(painel_url),
        dias_art94=dias_art94,
    )
    opstate = ctx.opstate
    version = (ctx.store or Store(paths.store)).current_version(DATASET)
    if version is None:
        return [f"dataset {DATASET} has no published version: no digest"]
    lines: list[str] = []
    analysts = mail.recipients(opstate, ANALYSTS)
    for r in analysts:
        lines.append(
            _queue_one(
                ctx,
                daily_key(today, r.viewer.username),
                r,
                functools.partial(daily_analyst, ctx, r),
                "daily digest",
            )
        )
    if today.weekday() == 0:
        for r in mail.recipients(opstate, ORGANS):
            lines.append(
                _queue_one(
                    ctx,
                    weekly_key(today, r.viewer.username),
                    r,
                    functools.partial(weekly_organ, ctx, r),
                    "weekly digest",
                )
            )
    else:
        lines.append(f"weekly digests: only on Mondays ({fmt.date(today)} is not one)")
    if today.day == 1:
        month, _ = previous_month(today)
        for r in mail.recipients(opstate, MANAGERS):
            lines.append(
                _queue_one(
                    ctx,
                    monthly_key(month, r.viewer.username),
                    r,
                    functools.partial(monthly_management, ctx, r),
                    "monthly digest",
                )
            )
    else:
        lines.append("monthly digests: only on the 1st")
    lines += _queue_same_day(ctx, version, analysts)
    return lines


def _queue_same_day(ctx: Context, version: str, analysts: Sequence[mail.Recipient]) -> list[str]:
    return [
        _queue_one(
            ctx,
            same_day_key(version, r.viewer.username),
            r,
            functools.partial(same_day, ctx, r, version),
            "same-day alert",
        )
        for r in analysts
    ]


def queue_same_day(
    paths: Paths,
    version: str | None = None,
    *,
    store: Store | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    painel_url: str = DEFAULT_PAINEL_URL,
) -> list[str]:
    """Queue the same-day alert of ``version`` (default: the current one) for every analyst
    who sees one of its new grave R2 findings; returns the dedup keys queued."""
    ctx = Context(
        paths=paths,
        today=today or day(),
        now=now or utcnow(),
        store=store,
        painel_url=dashboard_url(painel_url),
    )
    version = version or (ctx.store or Store(paths.store)).current_version(DATASET)
    if version is None:
        return []
    keys = []
    for r in mail.recipients(ctx.opstate, ANALYSTS):
        key = same_day_key(version, r.viewer.username)
        if _queued(ctx, key):
            continue
        got = same_day(ctx, r, version)
        if got is not None and mail.queue(ctx.opstate, got, key, now=ctx.now):
            keys.append(key)
    return keys


def alert_same_day(paths: Paths, version: str, *, store: Store | None = None) -> list[str]:
    """After a publish: queue the same-day alerts of ``version`` and try to send them at once
    (at most :data:`SAME_DAY_TIMEOUT_S` per SMTP step); a mail not sent stays queued for
    ``painel mail send``, the scheduler or the next ``procurement_mail`` run. The links go to
    the ``painel_url`` of job ``procurement_mail``'s parameters. Returns lines for the log."""
    keys = queue_same_day(paths, version, store=store, painel_url=_job_painel_url(paths))
    if not keys:
        return []
    settings = mail.load_settings(paths)
    quick = replace(settings, timeout_s=min(settings.timeout_s, SAME_DAY_TIMEOUT_S))
    report = mail.deliver(OpState(paths.opstate), quick, keys=keys)
    line = f"same-day alerts: {len(keys)} queued; {report.summary()}"
    if not report.ok:
        line += "; what was not sent stays queued ('painel mail send' retries it)"
    return [line]


def _job_painel_url(paths: Paths) -> str:
    """``painel_url`` as job ``procurement_mail`` would run with it (its notebook's default,
    ``parameters/procurement_mail.yaml``, the profile's); the default when unreadable."""
    from ..runner import resolve_parameters

    try:
        return str(resolve_parameters(paths, MAIL_JOB).get("painel_url", DEFAULT_PAINEL_URL))
    except Exception:  # noqa: BLE001 - a link's address never stops an alert
        return DEFAULT_PAINEL_URL


def deliver_due(paths: Paths) -> mail.DeliveryReport:
    """Send every due mail; raises :class:`MailJobError` (one line) when the SMTP server cannot
    be reached: the mail stays queued for the next run, ``painel mail send`` or the scheduler."""
    opstate = OpState(paths.opstate)
    report = mail.deliver(opstate, mail.load_settings(paths))
    if report.unreachable:
        waiting = len(mail.outbox(opstate, pending=True, limit=1_000_000))
        raise MailJobError(
            f"{report.unreachable}; {waiting} mail(s) stay queued for the next run or "
            "'painel mail send'"
        )
    return report


__all__ = [
    "Context",
    "MailJobError",
    "alert_same_day",
    "daily_analyst",
    "daily_key",
    "day",
    "deliver_due",
    "grave_r2",
    "monthly_key",
    "monthly_management",
    "dashboard_url",
    "queue_due",
    "queue_same_day",
    "same_day",
    "same_day_key",
    "validate_parameters",
    "weekly_key",
    "weekly_organ",
]
