// painel.dash.Chart: a plotly chart redrawn in place. A new figure from the kernel is drawn
// with Plotly.react on the same element (no new output, no new plot: only what changed is
// redrawn). plotly.js is the copy the page already has (the plotly extension loads it); a
// click on a bar or point is sent to the kernel, which checks it against what it drew.
// The first plotly.js seen is kept: a second copy loaded later (the plotly extension's, for
// an ordinary output) must not take over the charts drawn by the first.
function current() {
  if (!window.painelPlotly && window.Plotly) window.painelPlotly = window.Plotly;
  return window.painelPlotly;
}

// under painel serve the page runs plotly.js once a chart's model exists (this module is
// loaded then), a moment before the chart is drawn
if (window.painelLoadPlotly) window.painelLoadPlotly();

function plotlyReady(model, done, fail) {
  if (current()) return done(current());
  if (window.painelLoadPlotly) window.painelLoadPlotly();  // painel serve's page brings it
  let tries = 0;
  const timer = setInterval(() => {
    if (current()) { clearInterval(timer); done(current()); return; }
    // outside painel serve (JupyterLab) no page script brings plotly.js: ask the kernel
    if (tries === 20 && !window.painelLoadPlotly && !document.getElementById("painel-plotly")
        && !window.painelPlotlyAsked) {
      window.painelPlotlyAsked = true;
      model.send({ event: "plotly.js" });
    }
    if (++tries > 600) { clearInterval(timer); fail(); }  // 30 s
  }, 50);
}

function loadFromKernel(msg, buffers) {
  if (!msg || msg.event !== "plotly.js" || !buffers || !buffers.length || current()) return;
  const s = document.createElement("script");
  s.id = "painel-plotly";
  s.src = URL.createObjectURL(new Blob([buffers[0]], { type: "text/javascript" }));
  document.head.append(s);
}

// On a phone a legend at the right leaves the plot a sliver: it goes between the title and
// the plot, one row per series, and the chart grows by those rows.
const NARROW = 600;
function narrow(layout, data) {
  const shown = (data || []).filter((t) => t.showlegend !== false && t.name).length;
  if (!layout || layout.showlegend === false || shown < 2 || window.innerWidth >= NARROW) return layout;
  const rows = 20 * shown;
  const margin = layout.margin || {};
  const title = typeof layout.title === "string" ? { text: layout.title } : layout.title || {};
  return {
    ...layout,
    height: (layout.height || 450) + rows,
    margin: { ...margin, t: (margin.t === undefined ? 80 : margin.t) + rows },
    title: { ...title, yref: "container", y: 1, yanchor: "top", pad: { t: 12 } },
    legend: { ...(layout.legend || {}), orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom" },
  };
}

function render({ model, el }) {
  el.classList.add("painel-chart");
  const gd = document.createElement("div");
  const alt = document.createElement("p");
  alt.className = "painel-sr-only";
  el.append(gd, alt);
  let dead = false, hooked = false, width = 0, pending = false;

  function hook() {
    if (hooked) return;
    hooked = true;
    gd.on("plotly_click", (ev) => {
      const p = ev && ev.points && ev.points[0];
      if (p && model.get("clickable")) {
        model.send({ event: "click", x: String(p.x), y: String(p.y) });
      }
    });
  }
  function label() {
    alt.textContent = model.get("alt");
    el.classList.toggle("painel-chart-click", !!model.get("clickable"));
  }
  function draw() {
    if (pending) return;
    pending = true;
    plotlyReady(model, (P) => {
      // drawn once the element is in the page (a detached element has no width to fit)
      const go = () => {
        if (dead) return;
        if (!el.isConnected) return requestAnimationFrame(go);
        pending = false;
        const s = model.get("spec") || {};
        if (!s.data) return;
        P.react(gd, s.data, narrow(s.layout || {}, s.data), s.config || {}).then(hook, () => {
          alt.textContent = "Não foi possível desenhar o gráfico.";
        });
        width = el.clientWidth;
      };
      go();
    }, () => { pending = false; gd.textContent = "Não foi possível desenhar o gráfico. Recarregue a página."; });
  }
  const resized = new ResizeObserver(() => {
    if (!current() || !gd.data || el.clientWidth === width || !el.clientWidth) return;
    width = el.clientWidth;
    current().Plots.resize(gd);
  });
  resized.observe(el);
  model.on("change:spec", draw);
  model.on("change:alt", label);
  model.on("change:clickable", label);
  model.on("msg:custom", loadFromKernel);
  label();
  draw();
  return () => {
    dead = true;
    resized.disconnect();
    model.off("change:spec", draw);
    model.off("change:alt", label);
    model.off("change:clickable", label);
    model.off("msg:custom", loadFromKernel);
    if (current()) current().purge(gd);
  };
}
export default { render };
