// painel.dash.Table in the browser: draws one page of rows the server sent, and asks the
// server for another page, another order or a search. Nothing is computed here.
const NUM = new Intl.NumberFormat("pt-BR");

function render({ model, el }) {
  el.classList.add("painel-tbl");
  const search = document.createElement("input");
  search.type = "search";
  search.className = "painel-tbl-search";
  search.placeholder = "Buscar nesta tabela…";
  search.setAttribute("aria-label", "Buscar nesta tabela");
  const status = document.createElement("div");
  status.className = "painel-tbl-status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  const top = document.createElement("div");
  top.className = "painel-tbl-top";
  top.append(search, status);

  const scroller = document.createElement("div");
  scroller.className = "painel-tbl-scroll";
  const table = document.createElement("table");
  const caption = document.createElement("caption");
  const thead = document.createElement("thead");
  const tbody = document.createElement("tbody");
  table.append(caption, thead, tbody);
  scroller.append(table);

  const pager = document.createElement("nav");
  pager.className = "painel-tbl-pager";
  pager.setAttribute("aria-label", "Páginas da tabela");
  const first = button("«", "Primeira página");
  const prev = button("‹ Anterior", "Página anterior");
  const where = document.createElement("span");
  where.className = "painel-tbl-where";
  const next = button("Próxima ›", "Próxima página");
  const last = button("»", "Última página");
  const size = document.createElement("select");
  size.setAttribute("aria-label", "Linhas por página");
  for (const n of [10, 25, 50, 100]) {
    const o = document.createElement("option");
    o.value = String(n);
    o.textContent = `${n} por página`;
    size.append(o);
  }
  pager.append(first, prev, where, next, last, size);
  el.append(top, scroller, pager);

  function button(text, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    return b;
  }
  function pages() {
    return Math.max(1, Math.ceil(model.get("total") / model.get("page_size")));
  }
  function go(page) {
    model.set("page", Math.min(Math.max(page, 0), pages() - 1));
    model.save_changes();
  }
  first.onclick = () => go(0);
  prev.onclick = () => go(model.get("page") - 1);
  next.onclick = () => go(model.get("page") + 1);
  last.onclick = () => go(pages() - 1);
  size.onchange = () => {
    model.set("page_size", Number(size.value));
    model.save_changes();
  };
  let timer = null;
  search.oninput = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      model.set("search", search.value.slice(0, 100));
      model.save_changes();
    }, 250);
  };

  function drawHead() {
    thead.replaceChildren();
    const tr = document.createElement("tr");
    const sort = model.get("sort");
    const desc = model.get("descending");
    for (const col of model.get("columns")) {
      const th = document.createElement("th");
      th.scope = "col";
      if (col.numeric) th.classList.add("num");
      if (col.sortable) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "painel-tbl-sort";
        const active = sort === col.key;
        b.textContent = col.label + (active ? (desc ? " ▼" : " ▲") : "");
        b.title = "Ordenar por " + col.label;
        th.setAttribute("aria-sort", active ? (desc ? "descending" : "ascending") : "none");
        b.onclick = () => {
          if (model.get("sort") === col.key) {
            model.set("descending", !model.get("descending"));
          } else {
            model.set("sort", col.key);
            model.set("descending", false);
          }
          model.save_changes();
        };
        th.append(b);
      } else {
        th.textContent = col.label;
      }
      tr.append(th);
    }
    thead.append(tr);
  }

  function drawBody() {
    tbody.replaceChildren();
    const cols = model.get("columns");
    const rows = model.get("rows");
    const clickable = model.get("clickable");
    const selected = model.get("selected");
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = cols.length;
      td.className = "painel-tbl-empty";
      td.textContent = model.get("empty_text");
      tr.append(td);
      tbody.append(tr);
    }
    rows.forEach((row, i) => {
      const tr = document.createElement("tr");
      if (i === selected) tr.classList.add("selected");
      row.forEach((cell, j) => {
        const td = document.createElement("td");
        if (cols[j] && cols[j].numeric) td.classList.add("num");
        td.textContent = cell;
        tr.append(td);
      });
      if (clickable) {
        tr.tabIndex = 0;
        tr.classList.add("clickable");
        tr.setAttribute("role", "button");
        tr.setAttribute("aria-label", (model.get("click_hint") || "Abrir") + ": " + row[0]);
        const open = () => model.send({ event: "row", index: i });
        tr.onclick = open;
        tr.onkeydown = (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            open();
          }
        };
      }
      tbody.append(tr);
    });
  }

  function drawStatus() {
    const total = model.get("total");
    const all = model.get("unfiltered");
    const size = model.get("page_size");
    const page = model.get("page");
    const unit = model.get("unit");
    const from = total ? page * size + 1 : 0;
    const to = Math.min(total, (page + 1) * size);
    let text = total
      ? `${NUM.format(from)}–${NUM.format(to)} de ${NUM.format(total)} ${unit}`
      : `0 ${unit}`;
    if (model.get("search")) text += ` (busca em ${NUM.format(all)})`;
    status.textContent = text;
    where.textContent = `Página ${NUM.format(page + 1)} de ${NUM.format(pages())}`;
    first.disabled = prev.disabled = page <= 0;
    next.disabled = last.disabled = page >= pages() - 1;
    pager.style.display = total <= size && page === 0 ? "none" : "";
    top.style.display = all <= 10 && !model.get("search") ? "none" : "";
    sizeSelect();
  }
  function sizeSelect() {
    size.value = String(model.get("page_size"));
  }
  function drawCaption() {
    caption.textContent = model.get("caption");
    caption.hidden = !model.get("caption");
    const hint = model.get("click_hint");
    if (model.get("clickable") && hint) caption.textContent += ` — ${hint}`;
  }
  function syncSearch() {
    if (document.activeElement !== search) search.value = model.get("search");
  }

  function all() {
    drawCaption();
    drawHead();
    drawBody();
    drawStatus();
    syncSearch();
  }
  all();
  const handlers = {
    "change:rows": () => { drawBody(); drawStatus(); },
    "change:selected": drawBody,
    "change:sort": drawHead,
    "change:descending": drawHead,
    "change:columns": all,
    "change:total": drawStatus,
    "change:page": drawStatus,
    "change:page_size": drawStatus,
    "change:search": () => { drawStatus(); syncSearch(); },
    "change:caption": drawCaption,
    "change:clickable": all,
  };
  for (const [name, fn] of Object.entries(handlers)) model.on(name, fn);
  return () => {
    clearTimeout(timer);
    for (const [name, fn] of Object.entries(handlers)) model.off(name, fn);
  };
}

export default { render };
