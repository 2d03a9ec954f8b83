"""The "Usuários" page (admins): find, add and change accounts in the browser.

The same rules as ``painel users``: a role must exist, a grant must read ``*``, ``DATASET:*``
or ``DATASET:KIND:ID``, an e-mail must be an address; every change goes through
:class:`painel.auth.Users` as the admin who made it, so each is an audit entry by that admin.
An account added here without a password signs in only by single sign-on (or once a password
is set). The page checks the admin's own access before every change: an admin demoted while
the page is open changes nothing more.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from .access import AuthError, Grant, Viewer, roles
from .opstate import OpState

SPLIT = (",", ";", "\n", " ")


def parse_grants(text: str) -> list[str]:
    """Grants typed one per line (or separated by commas, semicolons or spaces); a bad one
    raises :class:`ValueError` with a pt-BR message naming it."""
    words = str(text or "")
    for sep in SPLIT[:-1]:
        words = words.replace(sep, " ")
    out = []
    for word in words.split():
        try:
            out.append(str(Grant.parse(word)))
        except AuthError:
            raise ValueError(
                f"Acesso inválido: «{word}». Use *, CONJUNTO:* ou CONJUNTO:TIPO:ID "
                "(por exemplo school:sre:12)."
            ) from None
    return sorted(set(out))


def users_frame(users: Any) -> pd.DataFrame:
    role_names = roles()
    rows = [
        {
            "username": u["username"],
            "nome": u["display_name"],
            "papel": role_names.get(str(u["role"]), str(u["role"])),
            "papel_id": u["role"],
            "email": u["email"],
            "acessos": ", ".join(u["grants"]),
            "situacao": "Desativado" if u["disabled"] else "Ativo",
        }
        for u in users.list()
    ]
    return pd.DataFrame(
        rows, columns=["username", "nome", "papel", "papel_id", "email", "acessos", "situacao"]
    )


def build(viewer: Viewer, opstate: OpState | None = None) -> Any:
    import ipywidgets as widgets

    from .dash import identity, later, ui
    from .dash.table import Column, Table

    if viewer.role != "admin":
        return widgets.HTML(ui.message("Só a administração gerencia usuários.", "warning"))
    # password hashing only here, for an admin who opens this page (not in every kernel)
    from .auth import Users, validate_password, validate_username

    opstate = opstate or identity.opstate()
    users = Users(opstate, actor=viewer.username)
    notice = widgets.Output()
    style = {"description_width": "initial"}
    role_options = sorted(((f"{d} ({k})", k) for k, d in roles().items()), key=lambda o: o[0])
    table = Table(
        [
            Column("username", "Usuário", kind="id"),
            Column("nome", "Nome"),
            Column("papel", "Papel"),
            Column("email", "E-mail"),
            Column("acessos", "Acessos"),
            Column("situacao", "Situação"),
        ],
        caption="Usuários",
        unit="usuários",
        sort="username",
        click_hint="clique em um usuário para alterá-lo",
        empty_text="Nenhum usuário.",
    )
    said = widgets.HTML()

    # ---- one user's form (an existing one, or a new one) -------------------------------------
    title = widgets.HTML()
    username = widgets.Text(
        description="Usuário:", style=style, placeholder="nome.sobrenome ou e-mail"
    )
    nome = widgets.Text(
        description="Nome:", style=style, layout=widgets.Layout(width="min(100%, 420px)")
    )
    papel = widgets.Dropdown(options=role_options, description="Papel:", style=style)
    email = widgets.Text(
        description="E-mail:", style=style, layout=widgets.Layout(width="min(100%, 420px)")
    )
    acessos = widgets.Textarea(
        description="Acessos:",
        placeholder="um por linha: *, school:*, school:sre:12, procurement:orgao:01909911000107",
        style=style,
        layout=widgets.Layout(width="min(100%, 520px)", height="90px"),
    )
    senha = widgets.Password(
        description="Senha:", style=style, placeholder="vazia: entra pelo login institucional"
    )
    ativo = widgets.Checkbox(description="Ativo", value=True, indent=False)
    save = widgets.Button(description="Salvar", button_style="primary", icon="check")
    cancel = widgets.Button(description="Voltar à lista", icon="arrow-left")
    form = widgets.VBox(
        [
            title,
            username,
            nome,
            papel,
            email,
            acessos,
            senha,
            ativo,
            widgets.HBox([save, cancel]),
            said,
        ],
        layout=widgets.Layout(display="none", border="1px solid #d0d7de", padding="8px 12px"),
    )
    editing: dict[str, Any] = {"username": None}
    add = widgets.Button(description="Novo usuário", icon="plus")

    def reload() -> None:
        table.set_frame(users_frame(users))

    def show_list(visible: bool) -> None:
        """The list, or one user's form in its place (on a phone the form would open far
        below the row clicked)."""
        table.layout.display = None if visible else "none"
        add.layout.display = None if visible else "none"
        form.layout.display = "none" if visible else None

    def open_form(record: dict[str, Any] | None) -> None:
        said.value = ""
        show_list(False)
        if record is None:
            editing["username"] = None
            title.value = "<h4>Novo usuário</h4>"
            username.disabled = False
            username.value = nome.value = email.value = acessos.value = senha.value = ""
            papel.value = role_options[0][1]
            ativo.value = True
            return
        name = str(record["username"])
        current = users.get(name)
        if current is None:
            show_list(True)
            return
        editing["username"] = name
        title.value = f"<h4>Alterar {html.escape(name)}</h4>"
        username.value, username.disabled = name, True
        nome.value = str(current["display_name"])
        papel.value = (
            current["role"]
            if current["role"] in dict((v, k) for k, v in role_options)
            else role_options[0][1]
        )
        email.value = str(current["email"])
        acessos.value = "\n".join(current["grants"])  # type: ignore[arg-type]
        senha.value = ""
        ativo.value = not current["disabled"]

    def do_save(_b: Any) -> None:
        identity.check_access()  # a demoted admin changes nothing more
        try:
            grants = parse_grants(acessos.value)
            role = str(ui.choose(papel.value, role_options, fallback=""))
            if not role:
                raise ValueError("Escolha um papel.")
            address = email.value.strip()
            if address:
                from .mail import AddressError, validate_address

                try:
                    validate_address(address)
                except AddressError:
                    raise ValueError(f"E-mail inválido: «{address}».") from None
            if senha.value:
                try:
                    validate_password(senha.value)
                except AuthError:
                    raise ValueError("A senha precisa de pelo menos 12 caracteres.") from None
            name = editing["username"]
            if name is None:
                name = username.value.strip().lower()
                try:
                    validate_username(name)
                except AuthError:
                    raise ValueError(
                        "Usuário inválido: de 2 a 64 letras minúsculas, dígitos, '.', '_', '@' ou '-'."
                    ) from None
                if users.get(name) is not None:
                    raise ValueError(f"Já existe o usuário «{name}».")
                users.add(name, senha.value or None, role, grants, nome.value.strip(), address)
                if not ativo.value:
                    users.set_disabled(name, True)
                done = f"Usuário {name} criado."
            else:
                current = users.get(name)
                if current is None:
                    raise ValueError(f"O usuário «{name}» não existe mais.")
                if nome.value.strip() != current["display_name"]:
                    users.set_display_name(name, nome.value)
                if role != current["role"]:
                    users.set_role(name, role)
                have = {str(g) for g in current["grants"]}  # type: ignore[attr-defined]
                if set(grants) - have:
                    users.grant(name, sorted(set(grants) - have))
                if have - set(grants):
                    users.revoke(name, sorted(have - set(grants)))
                if address != current["email"]:
                    users.set_email(name, address)
                if senha.value:
                    users.set_password(name, senha.value)
                if bool(current["disabled"]) == ativo.value:
                    if name == viewer.username and not ativo.value:
                        raise ValueError("Você não pode desativar a própria conta.")
                    users.set_disabled(name, not ativo.value)
                done = f"Usuário {name} alterado."
        except ValueError as exc:
            said.value = ui.message(str(exc), "warning")
            return
        senha.value = ""
        reload()
        said.value = ui.message(done, "info")
        editing["username"] = name
        username.disabled = True
        title.value = f"<h4>Alterar {html.escape(name)}</h4>"

    guard = ui.guarded(notice)
    table.on_row_click(guard(open_form))
    add.on_click(guard(lambda _b: open_form(None)))
    save.on_click(guard(do_save))
    cancel.on_click(guard(lambda _b: show_list(True)))
    later(guard(reload))
    return widgets.VBox(
        [
            widgets.HTML(
                "<p>Papéis decidem os painéis; acessos decidem as linhas "
                "(<code>*</code>, <code>CONJUNTO:*</code> ou <code>CONJUNTO:TIPO:ID</code>). "
                "Cada mudança fica na auditoria. Para milhares de usuários de uma vez: "
                "<code>painel users import ARQUIVO.csv</code>.</p>"
            ),
            notice,
            add,
            table,
            form,
        ]
    )
