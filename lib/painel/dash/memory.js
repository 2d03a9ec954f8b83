// painel.dash.PageMemory in the browser: keeps the page's state (signed by its kernel) and
// its scroll position in this tab's sessionStorage, and hands the state to a new kernel when
// the page came back after its kernel was paused or died (the painel template sets the
// "resume" mark before it reloads the page). Nothing here decides what a value may be: the
// kernel checks the signature and sets each value through the widget itself.
const PREFIX = "painel-page:";

function keys() {
  const path = location.pathname;
  return {
    state: PREFIX + "state:" + path,
    scroll: PREFIX + "scroll:" + path,
    resume: PREFIX + "resume:" + path,
  };
}

function store(key, value) {
  try {
    if (value === null) { sessionStorage.removeItem(key); } else { sessionStorage.setItem(key, value); }
  } catch (e) { /* storage full or disabled: the page works, it just will not come back as it was */ }
}

function load(key) {
  try { return sessionStorage.getItem(key); } catch (e) { return null; }
}

function notice(text) {
  const box = document.createElement("div");
  box.className = "painel-resumed";
  box.setAttribute("role", "status");
  box.textContent = text;
  const bar = document.getElementById("painel-bar");
  (bar ? bar : document.body.firstChild).after(box);
  setTimeout(() => box.remove(), 8000);
}

// Where the viewer is: the window's scroll and that of Voilà's content panel (the lab
// template scrolls the page inside #rendered_cells).
function position() {
  const c = document.getElementById("rendered_cells");
  return { w: Math.round(window.scrollY), c: c ? Math.round(c.scrollTop) : 0 };
}

// Back to where the viewer was, once the page is tall enough again (charts and tables
// redraw with the restored values for a moment after the restore).
function scrollBack(saved) {
  let to = null;
  try { to = JSON.parse(saved || "null"); } catch (e) { to = null; }
  if (!to || !(to.w > 0 || to.c > 0)) { return; }
  const until = Date.now() + 8000;
  let moved = false; // the viewer scrolls meanwhile: theirs wins
  const stop = () => { moved = true; };
  ["wheel", "touchmove", "keydown"].forEach((t) => window.addEventListener(t, stop, { once: true, passive: true }));
  const step = () => {
    if (moved) { return; }
    const c = document.getElementById("rendered_cells");
    window.scrollTo(0, to.w);
    if (c) { c.scrollTop = to.c; }
    const now = position();
    const off = Math.abs(now.w - to.w) > 4 || (c && Math.abs(now.c - to.c) > 4);
    if (off && Date.now() < until) { setTimeout(step, 200); }
  };
  setTimeout(step, 300);
}

function render({ model, el }) {
  el.style.display = "none";
  const k = keys();
  const resuming = load(k.resume);
  const saved = load(k.state);
  const scrollTo = load(k.scroll);
  // while a restore is under way, the new kernel's first state (the defaults) must not
  // replace the one it is restoring
  let holding = Boolean(resuming && saved);
  const keep = () => {
    const s = model.get("state");
    if (s && !holding) { store(k.state, s); }
  };
  model.on("change:state", keep);
  keep();

  let timer = null;
  const onScroll = () => {
    if (timer) { return; }
    timer = setTimeout(() => { timer = null; store(k.scroll, JSON.stringify(position())); }, 250);
  };
  // scroll events do not bubble: caught on the way down, from the window or any panel
  document.addEventListener("scroll", onScroll, { capture: true, passive: true });

  if (resuming) {
    store(k.resume, null); // once: an ordinary reload later starts afresh
    const onRestored = () => {
      if (model.get("restored") < 0) { return; }
      model.off("change:restored", onRestored);
      holding = false;
      keep();
      scrollBack(scrollTo);
      notice(model.get("restored") > 0
        ? "O painel foi reaberto com os mesmos filtros."
        : "O painel foi reaberto.");
    };
    model.on("change:restored", onRestored);
    if (saved) {
      model.send({ event: "restore", state: saved });
    } else {
      scrollBack(scrollTo);
    }
  }
  return () => {
    model.off("change:state", keep);
    document.removeEventListener("scroll", onScroll, { capture: true });
  };
}

export default { render };
