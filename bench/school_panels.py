"""The school panels at scale 1 as their visitors meet them, in Debian's chromium (issue 10).

On the version :mod:`bench.school`'s refresh published (the state: 3,500 schools, 1.5 M
students), served by ``painel serve`` with preheated kernels:

1. **render**: a panel's page requested with a preheated kernel until its HTML has arrived
   (the panel built in the kernel: its queries, widgets and first charts; as the foundation's
   "preheated render"), p50 of 3 per panel; as the central office (state-wide: the heaviest
   summaries) on the panels it is offered, and as an SRE on every panel. Target: p50 ≤ 0.5 s
   per panel. Also, once per panel, the time to **usable** in chromium from the navigation's
   start (the filters drawn, the first chart or table shown, the loading screen gone; timed
   by the page itself), which includes the browser loading the widget and plotly scripts
   (issue 13's click → usable).
2. **filter → chart**: the Etapa filter (else Bimestre, else Turno) changed in the page
   between its first two options, as the central office, p95 per panel of the time to the
   first chart redrawn (the first DOM change inside a plotly chart; target ≤ 150 ms) and of
   the time until the page settles (its last DOM change, then 400 ms quiet: every chart,
   card and table). Timed inside the page (``performance.now``, a MutationObserver), so
   Playwright's round trips are not counted. ``to_spec`` (p50): when the first chart's new
   figure reached the page, the kernel's and the server's share (the rest is plotly
   drawing). 20 changes per panel; they start once the pool has replaced the page's kernel
   (its new kernel's start-up would compete for the two cores, as it does for a few seconds
   after each page open); the visitor reads the page 0.4 s between changes.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from bench.panels import ARGS, CHROMIUM, _login, _pct
from painel_testing import painel, start_server

REPO = Path(__file__).resolve().parents[1]
USABLE = ".js-plotly-plot .main-svg, .painel-tbl tbody tr"
# the page notes when it is usable (the loading screen gone and a chart, table or card drawn)
READY = """(() => {
  if (!location.pathname.includes('/voila/render/')) return;
  // the first chart update from the kernel after a filter change (window.benchT0): what the
  // kernel and the server took, apart from the browser's drawing
  const Socket = window.WebSocket, text = new TextDecoder();
  window.WebSocket = class extends Socket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        if (window.benchT0 === undefined || window.benchSpec !== null) return;
        const s = typeof e.data === 'string' ? e.data : text.decode(e.data);
        if (s.includes('"spec"')) window.benchSpec = performance.now();
      });
    }
  };
  const now = () => performance.now();
  const seen = new MutationObserver(() => {
    if (document.readyState !== 'loading' && !document.getElementById('loading')
        && document.querySelector(__USABLE__)) {
      seen.disconnect();
      window.benchUsable = now();
    }
  });
  seen.observe(document, { subtree: true, childList: true });
})();""".replace("__USABLE__", json.dumps(USABLE))
CHANGE_TEMPLATE = """async (index) => {
  const box = __NAMES__.map((name) => [...document.querySelectorAll(
    '.widget-dropdown')].find((d) => (d.querySelector('label') || {}).textContent === name
    && d.offsetParent !== null)).find((d) => d);
  if (!box) return null;
  const sel = box.querySelector('select');
  return await new Promise((resolve, reject) => {
    const t0 = performance.now();
    window.benchT0 = t0;
    window.benchSpec = null;
    let last = null, chart = null, quiet = null;
    const seen = new MutationObserver((records) => {
      last = performance.now();
      if (chart === null && records.some((r) => r.target.closest
          && r.target.closest('.js-plotly-plot'))) chart = last;
      clearTimeout(quiet);
      quiet = setTimeout(() => {
        seen.disconnect();
        const spec = window.benchSpec === null ? null : window.benchSpec - t0;
        resolve([chart === null ? last - t0 : chart - t0, last - t0, spec]);
      }, 400);
    });
    seen.observe(document.querySelector('#rendered_cells') || document.body,
                 { subtree: true, childList: true, characterData: true, attributes: true });
    setTimeout(() => { seen.disconnect(); reject(new Error('no change in 20 s')); }, 20000);
    sel.selectedIndex = index;
    sel.dispatchEvent(new Event('change', { bubbles: true }));
  });
}"""
FILTERS = ["Etapa:", "Bimestre:", "Turno:"]  # the school filter changed: the first one shown
CHANGE = CHANGE_TEMPLATE.replace("__NAMES__", json.dumps(FILTERS))


def panels(pattern: str = "rede_*.ipynb") -> dict[str, tuple[str, list[str]]]:
    """notebook -> (title, roles) of the panels matching ``pattern``, in their order."""
    out = []
    for path in sorted((REPO / "notebooks" / "dashboards").glob(pattern)):
        meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]["painel"]
        out.append((meta.get("order", 0), path.name, meta["title"], meta["roles"]))
    return {name: (title, roles) for _, name, title, roles in sorted(out)}


def _users(home: Path) -> dict[str, tuple[str, str]]:
    """A central and an SRE login on the bench's store: role -> (user, password)."""
    import duckdb

    from painel.store import Store

    con = duckdb.connect(str(Store(home / "store").current_path("school")), read_only=True)
    sre = con.execute(
        "SELECT sre_id FROM escolas GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()[0][0]
    con.close()
    users = {
        "school_central": ("central.bench", "school:*"),
        "school_sre": ("sre.bench", f"school:sre:{sre}"),
    }
    out = {}
    for role, (user, grant) in users.items():
        password = f"{user}-pass-bench"
        r = painel(
            home,
            "users",
            "add",
            user,
            "--role",
            role,
            "--grant",
            grant,
            "--password-stdin",
            stdin=password + "\n",
            check=False,
        )
        assert r.returncode == 0 or "already exists" in r.stderr, r.stderr  # a second run
        out[role] = (user, password)
    return out


def run(
    home: Path, opens: int = 3, changes: int = 20, roles: tuple[str, ...] = ("central", "sre")
) -> dict[str, Any]:
    return measure(
        home,
        _users(home),
        panels(),
        changer="school_central",
        prefix="rede_",
        opens=opens,
        changes=changes,
        roles=roles,
    )


def measure(
    home: Path,
    users: dict[str, tuple[str, str]],
    offered_panels: dict[str, tuple[str, list[str]]],
    *,
    changer: str,
    prefix: str,
    change: str = CHANGE,
    opens: int = 3,
    changes: int = 20,
    roles: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The render, usable and filter-change figures of ``offered_panels`` for each role of
    ``users`` (role -> (user, password); ``roles``: the short names to measure, all when
    empty); filters are changed (``change``, a page function) as role ``changer``."""
    from playwright.sync_api import sync_playwright

    from painel_testing import login

    server = start_server(home, deadline=600)
    out: dict[str, Any] = {}

    def settled() -> None:
        server.wait_pools_ready(120)
        time.sleep(6)  # the refilled kernel has run its first cells ("ready" comes before)

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            for role, (user, password) in users.items():
                who = role.removeprefix("school_")
                if roles and who not in roles:
                    continue
                session = login(server, user, password)
                context = browser.new_context(viewport={"width": 1366, "height": 900})
                page = context.new_page()
                page.set_default_timeout(120_000)
                page.add_init_script(READY)
                _login(page, server.base, user, password)
                for notebook, (_title, offered) in offered_panels.items():
                    if role not in offered:
                        continue
                    name = notebook.removesuffix(".ipynb").removeprefix(prefix)
                    url = f"{server.base}/voila/render/{notebook}"
                    times = []
                    for _ in range(opens):
                        settled()
                        t0 = time.perf_counter()
                        r = session.get(url, timeout=120)
                        times.append(time.perf_counter() - t0)
                        assert r.status_code == 200 and "kernelId" in r.text, r.status_code
                    out[f"{who}.{name}_render_s_p50"] = statistics.median(times)
                    settled()
                    page.goto(url)
                    page.wait_for_function("() => window.benchUsable !== undefined")
                    out[f"{who}.{name}_usable_s"] = page.evaluate("() => window.benchUsable") / 1000
                    if role != changer:
                        continue
                    chart, settled_, spec = [], [], []
                    settled()  # the pool's new kernel (replacing this page's) has started
                    for i in range(changes):  # the first option ("Todas") and the second
                        try:
                            ms = page.evaluate(change, (i + 1) % 2)
                        except Exception as exc:  # noqa: BLE001 - the page never changed
                            print(f"  {who} {name}: no change within 20 s ({exc})", flush=True)
                            out[f"{who}.{name}_filter_timeouts"] = 1
                            chart.append(20.0)
                            settled_.append(20.0)
                            break  # the panel is too slow to measure further
                        if ms is None:
                            break  # a panel without these filters
                        chart.append(ms[0] / 1000)
                        settled_.append(ms[1] / 1000)
                        if ms[2] is not None:
                            spec.append(ms[2] / 1000)
                        time.sleep(0.4)
                    if chart:
                        out[f"{who}.{name}_filter_s_p50"] = statistics.median(chart)
                        out[f"{who}.{name}_filter_s_p95"] = _pct(chart, 0.95)
                        out[f"{who}.{name}_settled_s_p95"] = _pct(settled_, 0.95)
                    if spec:  # the kernel's and server's share of the first chart
                        out[f"{who}.{name}_to_spec_s_p50"] = statistics.median(spec)
                    print(f"  {who} {name}: {out[f'{who}.{name}_render_s_p50']:.2f} s", flush=True)
                context.close()
            browser.close()
    finally:
        server.stop()
    for kind, q in (
        ("render", "_render_s_p50"),
        ("usable", "_usable_s"),
        ("filter", "_filter_s_p95"),
    ):
        values = [v for k, v in out.items() if k.endswith(q)]
        out[f"{kind}_worst"] = max(values)
        out[f"{kind}_median"] = statistics.median(values)
    return out
