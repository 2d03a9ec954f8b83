// painel.dash.Download: one click, one file. The server builds the file when asked and sends
// it over the widget channel; the browser saves it at once (no second "Baixar..." link).
function render({ model, el }) {
  el.classList.add("painel-dl");
  const b = document.createElement("button");
  b.type = "button";
  b.className = "painel-dl-button";
  const status = document.createElement("span");
  status.className = "painel-dl-status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  el.append(b, status);
  function draw() {
    b.textContent = model.get("busy") ? "Gerando arquivo…" : model.get("label");
    b.disabled = model.get("busy");
    b.setAttribute("aria-busy", model.get("busy") ? "true" : "false");
    status.textContent = model.get("status");
  }
  b.onclick = () => model.send({ event: "click" });
  const onMsg = (msg, buffers) => {
    if (!msg || msg.event !== "file" || !buffers || !buffers.length) return;
    const blob = new Blob([buffers[0]], { type: msg.mime || "application/octet-stream" });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = msg.name || "painel.xlsx";
    a.style.display = "none";
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(url); a.remove(); }, 10000);
  };
  model.on("msg:custom", onMsg);
  model.on("change:busy", draw);
  model.on("change:label", draw);
  model.on("change:status", draw);
  draw();
  return () => {
    model.off("msg:custom", onMsg);
    model.off("change:busy", draw);
    model.off("change:label", draw);
    model.off("change:status", draw);
  };
}
export default { render };
