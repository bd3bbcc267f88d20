"""Scenario: a week offline. A tablet holds 2,000 saved colis with their photos (~200 kB each,
~400 MB in IndexedDB): the save, the queue screen, the storage estimate, and the backlog's sync
over linkem's `typical` link.

The backlog is filled through the app's own save path (`outbox.addColis`, what the form's
« Enregistrer » calls) from page.evaluate, each colis with its own generated JPEG; then the
page is reloaded (the tablet restarted) and real UI saves are timed from the tap to the
confirmation (as bench/save.py) and the queue screen's opening from the tap on its tab to the
first rows painted, at backlogs of 0, 1,000 and 2,000. The same is measured on the code before
this round's queue changes (BEFORE, served by a second gunicorn from `git archive`), in the
same run. The profile of the current code lives on a tmpfs of TMPFS_MB (root only): Chromium
derives its quota from the disk holding the profile.

    python -m bench.week                 # the loopback part, then the sync run (≈ 50 min)
    python -m bench.week loopback|sync   # one part (its JSON in var/bench), then the section
    python -m bench.week report          # the section from the JSON files of both parts
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import report
from .env import ROOT, VAR, child_env, stop
from .stats import percentile, spread, table

BEFORE = "0d4e9d3"  # main before round 2's queue work: the "before" of the queue-open figure
FIRST_SAVE_P95 = 29.2  # ms, round 1's worst save p95 (bench/RESULTS.md §1)
SAVE_TARGET, OPEN_TARGET = 50.0, 200.0
LEVELS = (0, 1000, 2000)
PORT_NEW, PORT_OLD = 8140, 8141
DB_LOOP, DB_LINK = "colis_week_bench", "colis_week_link"
TMPFS_MB = 700
RESULT_LOOP, RESULT_SYNC = VAR / "week-loopback.json", VAR / "week-sync.json"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--enable-precise-memory-info"]

# Fill the outbox through the app's save path: each colis with its own ~200 kB JPEG (shapes,
# smoothed noise and its number, encoded by the browser), numbered from the leases as a save.
FILL_JS = """async ({ n, start, lot, client, clientLabel, lotLabel }) => {
  const outbox = await import('/app/js/outbox.js');
  const w = 1600, hgt = 1200;
  let bytes = 0;
  const t0 = performance.now();
  for (let i = start; i < start + n; i++) {
    let seed = i * 7919 + 17;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const c = new OffscreenCanvas(w, hgt);
    const g = c.getContext('2d');
    g.fillStyle = `hsl(${rnd() * 360},40%,60%)`; g.fillRect(0, 0, w, hgt);
    for (let k = 0; k < 60; k++) {
      g.fillStyle = `hsl(${rnd() * 360},${30 + rnd() * 50}%,${30 + rnd() * 50}%)`;
      g.beginPath(); g.arc(rnd() * w, rnd() * hgt, 20 + rnd() * 200, 0, 7); g.fill();
    }
    const small = new OffscreenCanvas(w / 8, hgt / 8);
    const sg = small.getContext('2d');
    const img = sg.createImageData(w / 8, hgt / 8);
    for (let p = 0; p < img.data.length; p++) img.data[p] = p % 4 === 3 ? 60 : rnd() * 255;
    sg.putImageData(img, 0, 0);
    g.drawImage(small, 0, 0, w, hgt);
    g.fillStyle = '#000'; g.font = '64px sans-serif'; g.fillText(`colis ${i}`, 40, 100);
    const photo = await c.convertToBlob({ type: 'image/jpeg', quality: 0.78 });
    bytes += photo.size;
    const data = { type_transport: 'cargo', client, poids: String(1 + (i % 40)), longueur: '40',
      largeur: '30', hauteur: '20', mode_paiement: 'non_paye', description: `Semaine ${i}`, lot };
    await outbox.addColis(data, { photo, labels: { client: clientLabel, lot: lotLabel } });
  }
  return { ms: performance.now() - t0, bytes };
}"""

# From the tap on the queue's tab to the first rows painted: the click is caught on the
# document (capture), the rows by a MutationObserver, the paint by a frame then a task.
OPEN_JS = """() => {
  window.__open = new Promise((resolve) => {
    let t0 = null;
    document.addEventListener('click', (e) => {
      if (e.target.closest && e.target.closest('#tab-queue')) t0 = performance.now();
    }, { capture: true, once: true });
    const main = document.getElementById('main');
    const done = () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
    const obs = new MutationObserver(() => {
      if (t0 !== null && main.querySelector('#queue-items .item')) { obs.disconnect(); done(); }
    });
    obs.observe(main, { childList: true, subtree: true });
  });
}"""

# The IndexedDB read behind a redraw during sync: before, the whole outbox (items and photo
# rows) after every progress event; now, the rows a write touched and the counts by index.
READS_JS = """async () => {
  const outbox = await import('/app/js/outbox.js');
  const time = async (fn) => { const t0 = performance.now(); await fn(); return performance.now() - t0; };
  const full = [], incremental = [];
  const some = (await outbox.all()).slice(-1)[0];
  for (let i = 0; i < 5; i++) {
    full.push(await time(() => Promise.all([outbox.all(), outbox.photoStates()])));
    if (outbox.itemsByKey && some) {
      incremental.push(await time(() => Promise.all([outbox.itemsByKey([some.op_id]),
        outbox.photoStatesOf([some.photo_id].filter(Boolean)), outbox.countNow()])));
    }
  }
  return { full, incremental };
}"""

MEMORY_JS = """async () => ({ heap: performance.memory ? performance.memory.usedJSHeapSize : null,
  nodes: document.getElementsByTagName('*').length,
  rows: document.querySelectorAll('#queue-items .item').length,
  estimate: await navigator.storage.estimate(),
  warning: Boolean(document.getElementById('storage-warning')),
  items: await new Promise((resolve) => { const open = indexedDB.open('colis-sync');
    open.onsuccess = () => { const r = open.result.transaction('items').objectStore('items').count();
      r.onsuccess = () => resolve(r.result); }; }) })"""


def _emit(**event) -> None:
    print(json.dumps(event), flush=True)


# --- the page -------------------------------------------------------------------------------

def _until(page, expression: str, timeout: float = 300) -> None:
    """Poll `expression` (the app's CSP forbids the string predicates of wait_for_function)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"async () => Boolean(await ({expression}))"):
        if time.monotonic() > deadline:
            raise TimeoutError(expression)
        page.wait_for_timeout(100)


def _login(page, base: str, username: str, device: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/app/")
    page.fill("#login-username", username)
    page.fill("#login-password", "password")
    page.fill("#login-device", device)
    page.click("#login-submit")
    expect(page.locator("#colis-form")).to_be_visible()
    _until(page, "document.body.dataset.refReady === '1'")
    page.evaluate("navigator.serviceWorker.ready")
    _until(page, "navigator.serviceWorker.controller !== null")
    # The first sync cycle has ended.
    _until(page, "import('/app/js/sync.js').then((m) => !m.status.running)")


def _fill(page, n: int, start: int, spec: dict, chunk: int = 100) -> dict:
    """`n` colis through outbox.addColis, in chunks (one page.evaluate each)."""
    ms, size = 0.0, 0
    for at in range(start, start + n, chunk):
        k = min(chunk, start + n - at)
        out = page.evaluate(FILL_JS, {"n": k, "start": at, "lot": spec["lot"],
                                      "client": spec["client"], "clientLabel": "Client0 Test",
                                      "lotLabel": spec.get("lot_label", "")})
        ms += out["ms"]
        size += out["bytes"]
    return {"ms": ms, "bytes": size, "n": n}


def _save_one(page, spec: dict, n: int) -> dict:
    from playwright.sync_api import expect

    from .slowlink import TAP_JS

    page.select_option("#f-lot", f"id:{spec['lot']}")
    page.fill("#f-client-search", "Client0")
    page.locator(".client-pick").first.click()
    for name, value in (("poids", "12.5"), ("longueur", "40"), ("largeur", "30"), ("hauteur", "20")):
        page.fill(f"#f-{name}", value)
    page.fill("#f-description", f"Pièces détachées {n}")
    page.set_input_files("#f-photo", spec["photo"])
    expect(page.locator("#f-photo-info")).to_have_attribute("data-state", "ready")
    page.evaluate(TAP_JS)
    page.click("#save")
    tap_ms = page.evaluate("window.__tap")
    m = page.evaluate("globalThis.colisMetrics.saves.at(-1)")
    return {"tap_ms": tap_ms, "app_ms": m["ms"]}


def _open_queue(page) -> float:
    page.click("#tab-form")
    page.wait_for_selector("#colis-form")
    page.wait_for_timeout(300)
    page.evaluate(OPEN_JS)
    page.click("#tab-queue")
    return page.evaluate("window.__open")


def _scroll_check(page) -> dict:
    """Scroll the queue to its end: the rows drawn stay few and the last item is reached."""
    last = None
    for _ in range(400):
        page.mouse.wheel(0, 4000)
        page.wait_for_timeout(30)
        at_end = page.evaluate("innerHeight + scrollY >= document.body.scrollHeight - 2")
        if at_end:
            page.wait_for_timeout(200)
            last = page.evaluate("document.querySelectorAll('#queue-items .item').length")
            break
    page.evaluate("scrollTo(0, 0)")
    return {"rows_at_end": last}


def drive(spec: dict) -> None:
    """One code version in one Chromium profile: at each backlog level, fill, restart the page,
    k UI saves, r queue openings, memory and storage figures."""
    from playwright.sync_api import sync_playwright

    base = spec["base"]
    with sync_playwright() as p:
        args = [*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={base}"]
        ctx = p.chromium.launch_persistent_context(
            spec["profile"], executable_path=CHROMIUM, args=args, headless=True, locale="fr-FR",
            viewport={"width": 1024, "height": 900})
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.set_default_timeout(300_000)
        _login(page, base, spec["username"], spec["device"])
        ctx.set_offline(True)
        have = 0
        for level in spec["levels"]:
            fill = _fill(page, level - have, have, spec) if level > have else {"ms": 0, "bytes": 0, "n": 0}
            page.reload()  # the tablet restarted with its backlog
            page.wait_for_selector("#colis-form")
            _until(page, "document.body.dataset.refReady === '1'")
            page.wait_for_timeout(1000)
            _save_one(page, spec, -1)  # warm-up: the compression worker, the form's first paint
            saves = [_save_one(page, spec, i) for i in range(spec["k"])]
            opens = [_open_queue(page) for _ in range(spec["r"])]
            page.wait_for_timeout(500)
            memory = page.evaluate(MEMORY_JS)
            memory["reads"] = page.evaluate(READS_JS)
            scroll = _scroll_check(page) if spec.get("scroll") else {}
            page.click("#tab-form")
            have = level + 1 + spec["k"]
            _emit(event="level", level=level, fill=fill, saves=saves, opens=opens, memory=memory,
                  **scroll)
        ctx.close()
    _emit(event="done")


# --- the loopback part ----------------------------------------------------------------------

def _before_tree() -> Path:
    """The code at BEFORE, unpacked beside var/bench (gunicorn serves its pwa/)."""
    tree = VAR / f"before-{BEFORE}"
    if not (tree / "manage.py").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", BEFORE], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def _driver(spec: dict, netns: str | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "bench.week", "drive", json.dumps(spec)]
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            stderr=open(VAR / "week-driver.log", "ab"),  # noqa: SIM115
                            start_new_session=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _read(proc: subprocess.Popen, timeout: float) -> list[dict]:
    from .slowlink import events

    out = []
    while True:
        try:
            out.append(events(proc, "level", timeout))
        except RuntimeError as exc:
            if "ended before" in str(exc):
                return out
            raise


def loopback(quick: bool = False) -> dict:
    """Both code versions on 127.0.0.1, one after the other (the machine has 2 cores)."""
    from . import photos
    from .env import Stack

    photos.camera_jpeg()
    levels = (0, 200, 400) if quick else LEVELS
    k, r = (5, 5) if quick else (20, 10)
    results = {}
    mnt = Path(tempfile.mkdtemp(prefix="week-tmpfs-", dir=VAR))
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", str(mnt)]).returncode == 0
    try:
        with Stack(db=DB_LOOP, agents=2) as stack:
            old_env = {**child_env(DB_LOOP, stack.redis_url), "PYTHONPATH": str(_before_tree())}
            bases = {"after": stack.web(port=PORT_NEW, workers=1, threads=4)}
            proc, bases["before"] = _start_before(old_env, PORT_OLD)
            stack.procs.append(proc)
            for i, (name, base) in enumerate(bases.items()):
                profile = str(mnt / f"profile-{name}") if mounted else tempfile.mkdtemp(
                    prefix="week-chromium-", dir=VAR)
                spec = {"base": base, "profile": profile, "username": f"agent{i}",
                        "device": f"Tablette semaine {name}", "lot": stack.seed.lot_ids[i],
                        "client": stack.seed.client_ids[0], "photo": str(VAR / "camera-12mp.jpg"),
                        "levels": list(levels), "k": k, "r": r, "scroll": name == "after"}
                proc = _driver(spec)
                try:
                    results[name] = _read(proc, 1800)
                    proc.wait(120)
                finally:
                    stop(proc)
                shutil.rmtree(profile, ignore_errors=True)
    finally:
        if mounted:
            subprocess.run(["umount", str(mnt)])
        shutil.rmtree(mnt, ignore_errors=True)
    out = {"results": results, "tmpfs_mb": TMPFS_MB if mounted else None, "quick": quick,
           "levels": list(levels), "k": k, "r": r}
    RESULT_LOOP.write_text(json.dumps(out))
    return out


def _start_before(env: dict, port: int) -> tuple[subprocess.Popen, str]:
    """gunicorn on the BEFORE tree (env.start_web runs from this tree's root)."""
    from .env import wait_http

    tree = _before_tree()
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "server.wsgi", "--bind", f"127.0.0.1:{port}",
           "--workers", "1", "--threads", "4", "--timeout", "60", "--graceful-timeout", "5"]
    log = open(VAR / f"gunicorn-{port}.log", "ab")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_http(base, proc)
    return proc, base


# --- the sync run -----------------------------------------------------------------------------

def drive_sync(spec: dict) -> None:
    """Inside pf_cli: log in over the link, fill the backlog offline, go online; report the
    loop's status every 5 s until the parent writes a line, then the device's items."""
    import select

    from playwright.sync_api import sync_playwright

    from .slowlink import DEVICE_JS, STATUS_JS

    base = spec["base"]
    with sync_playwright() as p, tempfile.TemporaryDirectory(
            prefix="week-chromium-", dir=VAR, ignore_cleanup_errors=True) as profile:
        args = [*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={base}"]
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=args, headless=True, locale="fr-FR",
            viewport={"width": 1024, "height": 900})
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.set_default_timeout(600_000)
        t0 = time.time()
        _login(page, base, spec["username"], spec["device"])
        _emit(event="ready", login_s=time.time() - t0)
        ctx.set_offline(True)
        fill = _fill(page, spec["n"], 0, spec)
        page.reload()
        page.wait_for_selector("#colis-form")
        _emit(event="filled", **fill)
        ctx.set_offline(False)
        _emit(event="online", t=time.time())
        trace = []
        while not select.select([sys.stdin], [], [], 5.0)[0]:
            st = page.evaluate(STATUS_JS)
            trace.append({"t": time.time(), **st})
            _emit(event="status", **st)
        sys.stdin.readline()
        device = page.evaluate(DEVICE_JS)
        _emit(event="device", trace=trace, items=[i for i in device["items"] if i["op"] == "create"],
              photos_uploaded=sum(ph["uploaded"] for ph in device["photos"]),
              photos=len(device["photos"]))
        ctx.close()


def sync_run(quick: bool = False, budget: float | None = None, n: int | None = None,
             link_profile: str | None = "typical", until: float | None = None) -> dict:
    """The backlog over `typical`, under /tmp/linkem.lock (linkem exists once on the machine).
    `link_profile` None: over the loopback instead, no linkem (a check of the harness);
    `until`: an epoch time the run stops at, complete or not (its figures are then partial)."""
    import contextlib
    import fcntl

    from . import slowlink
    from .drills import audit
    from .slowlink import PROFILES, Link, World, completed, events

    n = n or (200 if quick else 2000)
    budget = budget or (900 if quick else 3000)
    result = RESULT_SYNC if link_profile else VAR / "week-sync-loopback.json"
    slowlink.DB = DB_LINK  # World's database: this scenario's own
    lock = open("/tmp/linkem.lock", "w")  # noqa: SIM115
    t_wait = time.monotonic()
    if link_profile:
        fcntl.flock(lock, fcntl.LOCK_EX)
    out = {"n": n, "quick": quick, "budget": budget, "lock_wait_s": time.monotonic() - t_wait,
           "done": 0, "profile": link_profile, "started": time.strftime("%H:%M UTC", time.gmtime())}
    try:
        with contextlib.ExitStack() as contexts:
            if link_profile:
                link = contexts.enter_context(Link())
                world = contexts.enter_context(World(agents=2))
                base, seeded = world.base, world.seed
                link.set(link_profile)
            else:  # gunicorn and a worker on 127.0.0.1 (pf_srv's port is the slow-link run's)
                from .env import Stack

                link, stack = None, contexts.enter_context(Stack(db=f"{DB_LINK}_loop", agents=2))
                base, seeded = stack.web(port=PORT_OLD + 1, workers=2, threads=4), stack.seed
                stack.worker()
            user = seeded.user_ids[0]
            spec = {"mode": "sync", "base": base, "username": "agent0", "device": "Tablette semaine",
                    "lot": seeded.lot_ids[0], "client": seeded.client_ids[0], "n": n}
            cmd = [sys.executable, "-m", "bench.week", "drive", json.dumps(spec)]
            if link:
                cmd = ["ip", "netns", "exec", "pf_cli", *cmd]
            proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=open(VAR / "week-driver.log", "ab"), text=True,  # noqa: SIM115
                                    start_new_session=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            counters = link.counters if link else (lambda: {"tx": 0})
            try:
                out["login_s"] = events(proc, "ready", 600)["login_s"]
                filled = events(proc, "filled", 3600)
                out["payload"], out["fill_ms"] = filled["bytes"], filled["ms"]
                if link:
                    link.set(link_profile)  # a fresh linkem run: its counters cover the transfer only
                before = counters()
                t0 = events(proc, "online", 60)["t"]
                deadline = min(time.time() + budget, until or float("inf"))
                progress = []
                while time.time() < deadline:
                    done = completed(user)
                    progress.append((round(time.time() - t0), done))
                    out.update(done=done, wall=time.time() - t0, progress=progress[::6],
                               tx=counters()["tx"] - before["tx"])
                    result.write_text(json.dumps(out))
                    if done >= n:
                        break
                    time.sleep(10 if link else 2)
                proc.stdin.write("done\n")
                proc.stdin.flush()
                device = events(proc, "device", 300)
                proc.wait(120)
            finally:
                stop(proc)
            if link:
                link.set(None)
            op_ids = {i["op_id"] for i in device["items"]}
            out["audit"] = audit(op_ids, user)
            out["device"] = {"items": len(device["items"]), "photos": device["photos"],
                             "photos_uploaded": device["photos_uploaded"],
                             "states": _tally(i["state"] for i in device["items"]),
                             "failures_max": max((t["failures"] for t in device["trace"]), default=0)}
            out["floor"] = out["payload"] * 8 / (PROFILES["typical"][0] * 1000)
    finally:
        if link_profile:
            fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    result.write_text(json.dumps(out))
    return out


def _tally(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


# --- the scenario and its section -------------------------------------------------------------

def run(quick: bool = False) -> str:
    loopback(quick)
    sync_run(quick)
    return write()


def write() -> str:
    loop = json.loads(RESULT_LOOP.read_text()) if RESULT_LOOP.exists() else None
    sync = json.loads(RESULT_SYNC.read_text()) if RESULT_SYNC.exists() else None
    md = _section(loop, sync)
    report.write_section("week", md)
    return md


FIRST_TYPICAL = 1.35  # round 1's wall ÷ floor on `typical` (50 colis, bench/RESULTS.md §2)


def _p95(values: list[float]) -> float:
    return percentile(values, 95)


def _loop_rows(loop: dict) -> tuple[list, list, dict]:
    res = loop["results"]
    after, before = res.get("after", []), res.get("before", [])
    by_level = {name: {r["level"]: r for r in rows} for name, rows in (("after", after), ("before", before))}
    rows, memory = [], []
    for level in loop["levels"]:
        a, b = by_level["after"].get(level), by_level["before"].get(level)
        for name, r in (("after", a), ("before", b)):
            if r is None:
                continue
            tap = [s["tap_ms"] for s in r["saves"]]
            app = [s["app_ms"] for s in r["saves"]]
            opens = r["opens"]
            ratio_open = ""
            if name == "after" and b is not None:
                ratio_open = f"×{_p95(b['opens']) / _p95(opens):,.1f}"
            rows.append([f"{level:,}", "this round" if name == "after" else f"before (`{BEFORE}`)",
                         spread(tap, 1), f"{_p95(tap):.1f}",
                         f"×{_p95(tap) / FIRST_SAVE_P95:.2f}", spread(app, 1),
                         spread(opens, 0), f"{_p95(opens):.0f}", ratio_open or "—"])
            m = r["memory"]
            est = m.get("estimate") or {}
            memory.append([f"{level:,}", "this round" if name == "after" else "before",
                           f"{m['items']:,}", f"{m['rows']:,}", f"{m['nodes']:,}",
                           f"{(m['heap'] or 0) / 2**20:.0f}",
                           f"{est.get('usage', 0) / 1e6:.0f} / {est.get('quota', 0) / 2**30:.1f} GiB "
                           f"({100 * est.get('usage', 0) / max(1, est.get('quota', 1)):.0f} %)",
                           "yes" if m.get("warning") else "no",
                           f"{r['fill']['ms'] / max(1, r['fill']['n']):.0f}" if r["fill"]["n"] else "—",
                           f"{r['rows_at_end']}" if r.get("rows_at_end") is not None else "—",
                           spread(m["reads"]["full"], 0) if m.get("reads") else "—",
                           spread(m["reads"]["incremental"], 1)
                           if m.get("reads", {}).get("incremental") else "—"])
    verdict = {}
    top = max(loop["levels"])
    a, b = by_level["after"].get(top), by_level["before"].get(top)
    if a:
        worst_save = max(_p95([s["tap_ms"] for s in r["saves"]]) for r in by_level["after"].values())
        verdict = {"save": worst_save, "open": _p95(a["opens"]),
                   "before_open": _p95(b["opens"]) if b else None, "top": top}
    return rows, memory, verdict


def _section(loop: dict | None, sync: dict | None) -> str:
    parts = ["## A week offline: 2,000 colis with photos on the tablet\n"]
    if loop:
        rows, memory, v = _loop_rows(loop)
        quick = ("**Quick variant** (`--quick`): smaller backlogs, fewer runs.\n\n"
                 if loop["quick"] else "")
        tmpfs = (f"on a {loop['tmpfs_mb']} MB tmpfs (Chromium derives its quota from the disk holding "
                 "the profile)" if loop.get("tmpfs_mb") else "on the machine's disk (not root: no tmpfs)")
        parts.append(f"""{quick}Headless Chromium (Debian's, Playwright), one fresh profile per code version,
logged in, then **offline** throughout. The backlog is filled through the app's own save path
(`outbox.addColis` from `page.evaluate`, what « Enregistrer » calls), each colis with its own
generated 1600×1200 JPEG (~200 kB), then the page is reloaded (the tablet restarted) and at
each backlog: {loop['k']} real UI saves after a warm-up, each with the 12 MP camera photo compressed
by the app, timed **tap → confirmation** as in §1 (*app's measure*: the IndexedDB write); then
{loop['r']} openings of the queue screen timed from the tap on its tab (a click listener in the
capture phase) to **the first rows painted** (a MutationObserver sees the rows, then one frame
and one task). *Before* is the same protocol on the code before this round's queue changes
(`{BEFORE}`, served by a second gunicorn from `git archive`), in the same run: it draws every
row on each redraw and re-reads the whole outbox (items and photo rows) after every sync
progress. Both profiles live {tmpfs}.
Save target < {SAVE_TARGET:.0f} ms p95, first round's worst p95 {FIRST_SAVE_P95} ms (§1); queue-open target
< {OPEN_TARGET:.0f} ms. Times in ms.

{table(["backlog", "code", "tap → confirmation ms", "p95", "p95 ÷ first round", "app's measure ms",
        "queue open ms", "open p95", "open p95: before ÷ this round"], rows)}

Memory and storage after the queue opened (*rows*: rows in the DOM; *nodes*: elements in the
page; *heap*: `performance.memory.usedJSHeapSize`; *storage*: `navigator.storage.estimate()`
usage / quota; *warning*: the top bar's near-quota banner; *fill*: ms per colis through
`addColis` with its photo encoded; *rows at end*: rows in the DOM once scrolled to the
bottom of the list; the IndexedDB read behind a redraw during sync, 5 times: *whole outbox*,
what the page read after every progress event before (`outbox.all()` + `photoStates()`),
*changed rows*, what it reads now (the item and photo a write touched + the counts from the
`state` index)):

{table(["backlog", "code", "items", "rows", "nodes", "heap MB", "storage", "warning",
        "fill ms/colis", "rows at end", "whole-outbox read ms", "changed-rows read ms"], memory)}
""")
        if v:
            before = (f"; before: {v['before_open']:.0f} ms, ×{v['before_open'] / v['open']:,.1f}"
                      if v.get("before_open") else "")
            parts.append(
                f"Save < {SAVE_TARGET:.0f} ms p95 at every backlog: "
                f"**{'met' if v['save'] < SAVE_TARGET else 'missed'}** "
                f"(worst p95 {v['save']:.1f} ms, ×{v['save'] / FIRST_SAVE_P95:.2f} the first round's "
                f"{FIRST_SAVE_P95} ms). Queue open < {OPEN_TARGET:.0f} ms at {v['top']:,}: "
                f"**{'met' if v['open'] < OPEN_TARGET else 'missed'}** (p95 {v['open']:.0f} ms{before}).\n")
    if sync:
        n, done = sync["n"], sync.get("done", 0)
        floor = sync.get("floor") or sync.get("payload", 0) * 8 / 1.5e6
        wall = sync.get("wall", 0)
        whole = done >= n
        a = sync.get("audit") or {}
        dev = sync.get("device") or {}
        ratio = wall / floor if floor else float("nan")
        row = [f"{done:,}/{n:,}", f"{'' if whole else '≥ '}{wall:.0f}", f"{floor:.0f}",
               f"{'' if whole else '≥ '}{ratio:.2f}× (×{ratio / FIRST_TYPICAL:.2f} the first round's "
               f"{FIRST_TYPICAL}×)", f"{sync.get('tx', 0) / 1e6:.0f}",
               f"{sync.get('payload', 0) / 1e6:.0f}",
               f"{a.get('lost', '—')} / {a.get('duplicated', '—')}",
               f"{dev.get('photos_uploaded', '—')}/{dev.get('photos', '—')}",
               ", ".join(f"{k} {v}" for k, v in sorted((dev.get("states") or {}).items())) or "—",
               f"{dev.get('failures_max', '—')}"]
        progress = ", ".join(f"{t // 60} min: {d:,}" for t, d in sync.get("progress", [])[::5])
        parts.append(f"""
**The backlog's sync on `typical`** (1.5 Mbit/s up, 150 ms RTT, 0.5 % loss; linkem and the
server world of §2, `bench/slowlink.py`, under `/tmp/linkem.lock`): the agent logs in over the
link, {n:,} colis are saved offline through `outbox.addColis` with their own ~200 kB JPEGs, the page
is reloaded, then the tablet goes online with the production sync timers. The clock stops when
the server holds every colis `completed` with its photo `ready`; *floor*: the photos' bytes ÷
the uplink rate; *lost / duplicated*: bench/drills.py's audit of the device's op_ids against the
server's tasks and colis; *device states*: the items' states on the tablet when the server held
them all (it learns the last ones from the changes feed after its uploads). One run (n=1: it
takes {wall / 60:.0f} minutes; started {sync.get("started", "?")}, on a machine shared with other runs).
{"" if whole else "**Not complete**: the run was stopped at its time bound; its figures are bounds. "}

{table(["completed", "wall s", "floor s", "wall ÷ floor", "MB sent", "photo MB", "lost / duplicated",
        "photos uploaded (device)", "device states at the end", "loop failures in a row (max)"], [row])}

Completed colis over time: {progress or "—"}.
""")
    return "\n".join(parts)


if __name__ == "__main__":
    import calendar
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what == "drive":
        arg = json.loads(sys.argv[2])
        try:
            (drive_sync if arg.get("mode") == "sync" else drive)(arg)
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            _emit(event="error", error=repr(exc)[:500])
            raise
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
        quick = "--quick" in sys.argv
        if what == "loopback":
            loopback(quick)
        elif what == "sync":
            n = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--n=")), None)
            budget = next((float(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--budget=")), None)
            until = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--until=")), None)
            if until:  # HH:MM UTC today
                hh, mm = map(int, until.split(":"))
                now = time.gmtime()
                until = calendar.timegm((now.tm_year, now.tm_mon, now.tm_mday, hh, mm, 0, 0, 0, 0))
            sync_run(quick, budget=budget, n=n,
                     link_profile=None if "--loopback" in sys.argv else "typical", until=until)
        elif what == "all":
            run(quick)
        print(write())
