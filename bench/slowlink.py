"""Scenario 2, slow link: colis with photos from the PWA in Chromium behind linkem's slow,
lossy link, against the baseline's form POSTs over the same link, and the physical floor.

    python -m bench.run slowlink            # bad, typical (50 and 200 colis), outage
    SLOWLINK_PLAN=typical:10:0 python -m bench.run slowlink --inline   # one run, no baseline

SLOWLINK_PLAN lists `profile:colis[:baseline POSTs]` runs (parse_plan); a run without a
baseline quotes the same profile's measured one, else the first round's (FIRST_ROUND).

The network (../shared/tools/linkem): namespaces pf_cli (10.77.0.1, Chromium and the
baseline's client) and pf_srv (10.77.0.2, gunicorn), joined through pf_rtr where linkem.py
forwards frames with the profile's rate, delay and loss. PostgreSQL and Redis listen on the
root namespace's 127.0.0.1, which pf_srv cannot reach; but Unix sockets are not in any
network namespace: gunicorn inside pf_srv reaches PostgreSQL through its socket in
/var/run/postgresql, and the bench's own Redis listens on a Unix socket only. The RQ worker
and the sweeper run in the root namespace on the same socket and database.

This module also holds what bench/save.py shares: the link, the server world, and the
Chromium driver (`python -m bench.slowlink drive|baseline JSON`, run inside pf_cli).
"""

import ast
import itertools
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from . import report
from .env import ROOT, VAR, child_env, create_database, seed, start_web, start_worker, stop
from .stats import median, ratio, spread, table

LINKEM = Path(os.environ.get("LINKEM_DIR", ROOT.parent / "shared" / "tools" / "linkem"))
SRV, CLI = "10.77.0.2", "10.77.0.1"
PORT = 8000
PG_SOCKET = os.environ.get("BENCH_PG_SOCKET", "postgres://postgres@%2Fvar%2Frun%2Fpostgresql")
# kbit/s up, kbit/s down, one-way delay ms (RTT / 2), loss % each way
PROFILES = {"typical": (1500, 9000, 75, 0.5), "bad": (400, 400, 150, 2.0),
            "outage": (400, 400, 150, 2.0)}
OUTAGE = (60, 60, 300)  # the link dies at 60 s for 60 s, then every 300 s
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
DB = "colis_bench_link"


# --- the link ---------------------------------------------------------------------------------

class Link:
    """The three namespaces and one linkem process at a time (profiles switch by restart)."""

    def __init__(self):
        self.proc = None
        self.stats: list[Path] = []
        self.seed = 1
        self._outage_stop = threading.Event()
        self._outage_thread = None
        self.dead_s = 0.0

    def __enter__(self) -> "Link":
        subprocess.run(["bash", str(LINKEM / "teardown.sh")], capture_output=True, timeout=60)
        out = subprocess.run(["bash", str(LINKEM / "setup.sh")], capture_output=True, text=True,
                             timeout=60)
        if out.returncode:
            raise RuntimeError(f"linkem setup.sh failed: {out.stderr[-500:]}")
        return self

    def set(self, profile: str | None, dead: bool = False) -> None:
        """Run linkem with `profile` (None: stop it); `dead` drops every frame (an outage)."""
        if self.proc is not None:
            stop(self.proc, wait=10)
            self.proc = None
        if profile is None:
            return
        up, down, delay, loss = PROFILES[profile]
        if dead:
            loss = 100.0
        stats = VAR / f"linkem-{os.getpid()}-{len(self.stats)}.txt"
        self.stats.append(stats)
        self.seed += 1
        cmd = ["ip", "netns", "exec", "pf_rtr", sys.executable, str(LINKEM / "linkem.py"),
               "rtr_c", "rtr_s", "--a2b", f"{up}:{delay}:{loss}", "--b2a", f"{down}:{delay}:{loss}",
               "--qlim", "100", "--seed", str(self.seed), "--stats", str(stats)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        time.sleep(0.3)
        if self.proc.poll() is not None:
            raise RuntimeError("linkem.py exited at once")

    def start_outages(self, profile: str) -> None:
        """From now on: dead at OUTAGE[0] s for OUTAGE[1] s, every OUTAGE[2] s."""
        first, length, period = OUTAGE
        self._outage_stop.clear()
        t0 = time.monotonic()

        def loop() -> None:
            k = 0
            while True:
                down_at = t0 + first + k * period
                if self._outage_stop.wait(max(0.0, down_at - time.monotonic())):
                    return
                self.set(profile, dead=True)
                began = time.monotonic()
                stopped = self._outage_stop.wait(length)
                self.dead_s += time.monotonic() - began
                self.set(profile)
                if stopped:
                    return
                k += 1

        self._outage_thread = threading.Thread(target=loop, daemon=True)
        self._outage_thread.start()

    def stop_outages(self) -> None:
        if self._outage_thread is not None:
            self._outage_stop.set()
            self._outage_thread.join(30)
            self._outage_thread = None

    def counters(self) -> dict:
        """Bytes and packets on the client's interface (tx = what the tablet sent)."""
        out = subprocess.run(["ip", "-n", "pf_cli", "-s", "-j", "link", "show", "cli0"],
                             capture_output=True, text=True, timeout=10, check=True)
        s = json.loads(out.stdout)[0]["stats64"]
        return {"tx": s["tx"]["bytes"], "rx": s["rx"]["bytes"], "tx_pkts": s["tx"]["packets"]}

    def frames(self) -> dict:
        """linkem's counters, summed over its runs so far (each run writes them on exit)."""
        total = Counter()
        for path in self.stats:
            if not path.exists():
                continue
            for line in path.read_text().splitlines():
                name, _, values = line.partition("->: ")
                for k, v in ast.literal_eval(values).items():
                    total[f"{'up' if name == 'rtr_c' else 'down'}_{k}"] += v
        return dict(total)

    def __exit__(self, *exc) -> None:
        self.stop_outages()
        self.set(None)
        subprocess.run(["bash", str(LINKEM / "teardown.sh")], capture_output=True, timeout=60)
        for path in self.stats:
            path.unlink(missing_ok=True)


# --- the server world -------------------------------------------------------------------------

class World:
    """Redis on a Unix socket, the bench database, gunicorn in pf_srv (and optionally on the
    root namespace's loopback), one SimpleWorker and the sweeper, Django in this process."""

    def __init__(self, agents: int = 8, loopback: bool = False):
        self.agents, self.loopback = agents, loopback
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "World":
        sock = VAR / f"redis-link-{os.getpid()}.sock"
        self.redis = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "777",
             "--save", "", "--appendonly", "no", "--dir", tempfile.mkdtemp(prefix="colis-redis-")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        self.redis_url = f"unix://{sock}?db=0"
        deadline = time.monotonic() + 15
        while not sock.exists():
            if time.monotonic() > deadline or self.redis.poll() is not None:
                raise RuntimeError("Redis did not start on its socket")
            time.sleep(0.05)
        create_database(DB, self.redis_url)
        os.environ.update(child_env(DB, self.redis_url))
        import django

        django.setup()
        from .env import truncate_all

        truncate_all()
        self.seed = seed(self.agents)
        self.env = child_env(DB, self.redis_url, LOGIN_THROTTLE="1000/min")
        srv_env = {**self.env, "DATABASE_URL": f"{PG_SOCKET}/{DB}"}
        self.access_log = VAR / f"slowlink-access-{os.getpid()}.log"
        self.access_log.unlink(missing_ok=True)
        proc, self.base = start_web(srv_env, workers=2, threads=4, host=SRV, port=PORT,
                                    netns="pf_srv", timeout=300, access_log=str(self.access_log))
        self.procs.append(proc)
        if self.loopback:
            proc, self.loop_base = start_web(self.env, workers=2, threads=4, timeout=300)
            self.procs.append(proc)
        self.procs.append(start_worker(self.env))
        log = open(VAR / "workers.log", "ab")  # noqa: SIM115 - the child keeps it
        self.procs.append(subprocess.Popen(
            [sys.executable, "manage.py", "monitor_sync", "--interval", "5"], cwd=ROOT,
            env=self.env, stdout=log, stderr=log, start_new_session=True))
        return self

    def log_mark(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def requests_since(self, mark: int) -> Counter:
        """(method, endpoint, status) counts in gunicorn's access log since `mark`."""
        counts = Counter()
        with open(self.access_log, "rb") as fh:
            fh.seek(mark)
            for line in fh.read().decode(errors="replace").splitlines():
                try:
                    request, status = line.split('"')[1], line.split('"')[2].split()[0]
                    method, path = request.split()[:2]
                except (IndexError, ValueError):
                    continue
                path = path.split("?")[0]
                endpoint = ("uploads" if "/uploads/" in path else "sync" if path.endswith("/sync/")
                            else "changes" if "/changes" in path
                            else "baseline" if "/baseline/" in path else "other")
                counts[(method, endpoint, status)] += 1
        return counts

    def longest_pause(self, mark: int) -> float:
        """The longest time without any sync or upload request reaching gunicorn since `mark`."""
        import datetime

        stamps = []
        with open(self.access_log, "rb") as fh:
            fh.seek(mark)
            for line in fh.read().decode(errors="replace").splitlines():
                if "/api/v1/" not in line or "[" not in line:
                    continue
                stamp = line.split("[", 1)[1].split("]", 1)[0]
                stamps.append(datetime.datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z"))
        return max(((b - a).total_seconds() for a, b in itertools.pairwise(stamps)), default=0.0)

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            stop(proc)
        from django.db import connections

        connections.close_all()
        stop(self.redis)
        self.access_log.unlink(missing_ok=True)


def completed(user_id: int) -> int:
    """Create tasks of this agent completed on the server with their photo ready."""
    from sync.models import ColisTask

    return ColisTask.objects.filter(initiated_by_id=user_id, operation="create", status="completed",
                                    colis__photo_status="ready").count()


# --- Chromium, driven inside a namespace -------------------------------------------------------

def driver(spec: dict, netns: str | None) -> subprocess.Popen:
    """Start the Playwright driver (this module's `drive`) as a child, inside `netns`."""
    cmd = [sys.executable, "-m", "bench.slowlink", "drive", json.dumps(spec)]
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    return subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=open(VAR / "slowlink-driver.log", "ab"),  # noqa: SIM115
                            text=True, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def events(proc: subprocess.Popen, until: str, timeout: float) -> dict:
    """Read the driver's JSON lines until the event `until`; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the driver ended before '{until}' (see var/bench/slowlink-driver.log)")
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("event") == until:
            return event
        if event.get("event") == "error":
            raise RuntimeError(f"driver: {event.get('error')}")
    raise RuntimeError(f"no '{until}' from the driver within {timeout} s")


TAP_JS = """() => {
  const st = document.getElementById('save-status');
  const before = st.dataset.saved || '0';
  window.__tap = new Promise((resolve) => {
    let t0 = null;
    document.addEventListener('click', (e) => {
      if (e.target.closest && e.target.closest('#save')) t0 = performance.now();
    }, { capture: true, once: true });
    const obs = new MutationObserver(() => {
      if ((st.dataset.saved || '0') !== before) { obs.disconnect(); resolve(performance.now() - t0); }
    });
    obs.observe(st, { attributes: true, attributeFilter: ['data-saved'] });
  });
}"""

DEVICE_JS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('colis-sync');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const tx = open.result.transaction(['items', 'photos'], 'readonly');
    const items = tx.objectStore('items').getAll();
    const photos = tx.objectStore('photos').getAll();
    tx.oncomplete = () => resolve({
      items: items.result.map((i) => ({ op_id: i.op_id, op: i.op, state: i.state,
        attempts: i.attempts || 0 })),
      photos: photos.result.map((p) => ({ size: p.size, uploaded: !!p.uploaded,
        error: p.last_error || null })) });
  };
})"""


# The page's own sync module (same URL, same instance as the app's): its loop status.
STATUS_JS = """() => import('/app/js/sync.js').then((m) => ({ failures: m.status.failures,
  error: m.status.lastError, running: m.status.running,
  wait_s: m.status.nextAt ? Math.max(0, (m.status.nextAt - Date.now()) / 1000) : 0 }))"""


# The API requests the page and the service worker made (Resource Timing, epoch ms):
# [endpoint, start, request start, response start, response end].
TIMINGS_JS = """() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/api/v1/'))
  .map((e) => [e.name.split('/api/v1/')[1].split('?')[0].split('/')[0],
    ...[e.startTime, e.requestStart || e.startTime, e.responseStart || e.responseEnd, e.responseEnd]
      .map((t) => Math.round(performance.timeOrigin + t))])"""
BUFFER_JS = "() => performance.setResourceTimingBufferSize(100000)"


def _emit(**event) -> None:
    print(json.dumps(event), flush=True)


def drive(spec: dict) -> None:
    """The driver: log in, save colis with the 12 MP photo, report. Modes:
    `saves`: per phase (offline/online) k saves, each timed from the tap to the confirmation;
    `batch`: n saves offline, then online; waits for 'done' on stdin, then reports the device."""
    from playwright.sync_api import expect, sync_playwright

    base = spec["base"]
    failed = Counter()
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="colis-chromium-") as profile:
        args = [*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={base}"]
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=args, headless=True, locale="fr-FR",
            viewport={"width": 1024, "height": 900},
            bypass_csp=True)  # wait_for_function(string) evaluates code, which the CSP forbids
        if spec.get("config"):
            config = json.dumps(json.dumps(spec["config"]))
            ctx.add_init_script(f"localStorage.setItem('colis.config', {config});")
        ctx.on("requestfailed", lambda r: failed.update([r.url.split("?")[0].rsplit("/api/v1/", 1)[-1]
                                                        .split("/")[0] or r.url]))
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.set_default_timeout(spec.get("timeout_ms", 180_000))
        t0 = time.time()
        page.goto(f"{base}/app/")
        page.fill("#login-username", spec["username"])
        page.fill("#login-password", "password")
        page.fill("#login-device", spec.get("device", "Tablette bench"))
        page.click("#login-submit")
        expect(page.locator("#colis-form")).to_be_visible()
        page.wait_for_function("document.body.dataset.refReady === '1'")
        page.evaluate("navigator.serviceWorker.ready")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        for context in (page, *ctx.service_workers):
            context.evaluate(BUFFER_JS)
        _emit(event="ready", login_s=time.time() - t0)

        def save_one(n: int) -> dict:
            page.select_option("#f-lot", f"id:{spec['lot']}")
            page.fill("#f-client-search", "Client1")
            page.locator(".client-pick").first.click()
            for name, value in (("poids", "12.5"), ("longueur", "40"), ("largeur", "30"),
                                ("hauteur", "20")):
                page.fill(f"#f-{name}", value)
            page.fill("#f-description", f"Pièces détachées {n}")
            started = time.perf_counter()
            page.set_input_files("#f-photo", spec["photo"])
            expect(page.locator("#f-photo-info")).to_have_attribute("data-state", "ready")
            select_ms = (time.perf_counter() - started) * 1000
            page.evaluate(TAP_JS)
            page.click("#save")
            tap_ms = page.evaluate("window.__tap")
            m = page.evaluate("globalThis.colisMetrics.saves.at(-1)")
            return {"tap_ms": tap_ms, "app_ms": m["ms"], "compress_ms": m["compressMs"],
                    "select_ms": select_ms, "photo_bytes": m["photoBytes"],
                    "original_bytes": m["originalBytes"]}

        if spec["mode"] == "saves":
            out = {}
            for phase, k in spec["phases"]:
                ctx.set_offline(phase == "offline")
                save_one(-1)  # warm-up: the compression worker, the form's first paint
                out[phase] = [save_one(i) for i in range(k)]
            ctx.set_offline(False)
            _emit(event="saves", **out)
        else:
            ctx.set_offline(True)
            saves = [save_one(i) for i in range(spec["n"])]
            _emit(event="saved", saves=saves)
            ctx.set_offline(False)
            _emit(event="online", t=time.time())
            trace = []  # the sync loop's own status, every 2 s, until the parent says done
            while not select.select([sys.stdin], [], [], 2.0)[0]:
                st = page.evaluate(STATUS_JS)
                trace.append({"t": time.time(), **st})
            sys.stdin.readline()
            timings = [t for context in (page, *ctx.service_workers)
                       for t in context.evaluate(TIMINGS_JS)]
            _emit(event="device", failed=dict(failed), trace=trace, timings=timings,
                  **page.evaluate(DEVICE_JS))
        ctx.close()


def baseline_client(spec: dict) -> None:
    """The baseline's tablet: the form POSTed with the raw photo, one after another, for
    `n` POSTs or until `window` s have passed; a failed POST is sent again (counted)."""
    import requests

    raw = Path(spec["photo"]).read_bytes()
    session = requests.Session()
    session.headers["Authorization"] = f"Token {spec['token']}"
    t_start, done, failures = time.monotonic(), [], []
    while True:
        elapsed = time.monotonic() - t_start
        if spec.get("window") and elapsed >= spec["window"] and len(done) >= spec.get("n", 1):
            break
        if not spec.get("window") and len(done) >= spec["n"]:
            break
        t0 = time.monotonic()
        left = max(30.0, spec.get("limit", 1200) - (t0 - t_start))
        try:
            response = session.post(f"{spec['base']}/baseline/colis/", data=spec["form"],
                                    files={"photo": ("IMG_0001.jpg", raw, "image/jpeg")},
                                    timeout=(min(600.0, left),) * 2)
            ok = response.status_code == 200
            if not ok:
                failures.append(f"HTTP {response.status_code}")
        except requests.RequestException as exc:
            ok = False
            failures.append(type(exc).__name__)
            session = requests.Session()
            session.headers["Authorization"] = f"Token {spec['token']}"
        if ok:
            done.append(time.monotonic() - t0)
        if time.monotonic() - t_start > spec.get("limit", 1200):
            break
    _emit(event="baseline", seconds=done, failures=failures, wall=time.monotonic() - t_start)


def baseline_over(world: World, link: Link | None, agent: int, n: int, *, window: float = 0,
                  netns: str | None = "pf_cli", base: str | None = None,
                  limit: float = 1200) -> dict:
    """Run the baseline client inside `netns`; bytes sent from the client's interface."""
    from . import photos

    spec = {"base": base or world.base, "token": world.seed.tokens[agent],
            "form": world.seed.form(agent), "photo": str(VAR / "camera-12mp.jpg"),
            "n": n, "window": window, "limit": limit}
    photos.camera_jpeg()
    cmd = [sys.executable, "-m", "bench.slowlink", "baseline", json.dumps(spec)]
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    before = link.counters() if link else None
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=limit + 90,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    result = next((json.loads(line) for line in out.stdout.splitlines()
                   if line.startswith('{"event": "baseline"')), None)
    if result is None:
        raise RuntimeError(f"baseline client failed: {out.stderr[-800:]}")
    if link:
        after = link.counters()
        result["tx"] = after["tx"] - before["tx"]
    return result


# --- the scenario ------------------------------------------------------------------------------

def _batch(world: World, link: Link, profile: str, agent: int, n: int,
           budget: float = 900) -> dict:
    from . import photos
    from .drills import audit

    photos.camera_jpeg()
    user = world.seed.user_ids[agent]
    spec = {"mode": "batch", "base": world.base, "username": f"agent{agent}",
            "device": f"Tablette {profile}", "lot": world.seed.lot_ids[agent], "n": n,
            "photo": str(VAR / "camera-12mp.jpg")}
    link.set(profile)
    proc = driver(spec, "pf_cli")
    try:
        ready = events(proc, "ready", 300)
        saved = events(proc, "saved", 60 + 20 * n)
        link.set(profile)  # a fresh linkem run: its counters cover the transfer only
        mark, before = world.log_mark(), link.counters()
        frames_before = link.frames()
        online = events(proc, "online", 60)
        t0 = online["t"]
        if profile == "outage":
            link.start_outages(profile)
        deadline = time.time() + budget
        while completed(user) < n and time.time() < deadline:
            time.sleep(0.25)
        wall = time.time() - t0
        done = completed(user)
        link.stop_outages()
        after = link.counters()
        proc.stdin.write("done\n")
        proc.stdin.flush()
        device = events(proc, "device", 120)
        proc.wait(60)
    finally:
        stop(proc)
    link.set(None)  # linkem writes its counters on exit
    frames = {k: v - frames_before.get(k, 0) for k, v in link.frames().items()}
    op_ids = {i["op_id"] for i in device["items"] if i["op"] == "create"}
    requests_ = world.requests_since(mark)
    pause = world.longest_pause(mark)
    payload = sum(s["photo_bytes"] for s in saved["saves"])
    return {"n": n, "done": done, "wall": wall, "t0": t0, "login_s": ready["login_s"],
            "tx": after["tx"] - before["tx"], "rx": after["rx"] - before["rx"],
            "payload": payload, "audit": audit(op_ids, user), "device": device,
            "requests": requests_, "frames": frames, "dead_s": link.dead_s,
            "saves": saved["saves"], "pause": pause}


def _upload_counts(r: dict) -> dict:
    req = r["requests"]
    creates = sum(v for (m, e, s), v in req.items() if m == "POST" and e == "uploads")
    heads = sum(v for (m, e, s), v in req.items() if m == "HEAD" and e == "uploads")
    patches = sum(v for (m, e, s), v in req.items() if m == "PATCH" and e == "uploads")
    bad = sum(v for (m, e, s), v in req.items() if e in ("uploads", "sync") and s[0] != "2")
    syncs = sum(v for (m, e, s), v in req.items() if m == "POST" and e == "sync")
    failed = sum(v for k, v in r["device"]["failed"].items())
    return {"creates": creates, "heads": heads, "patches": patches, "non2xx": bad,
            "syncs": syncs, "browser_failed": failed,
            "restarted": max(0, creates - r["n"]) + heads}


def timeline(r: dict) -> dict:
    """Where the wall time went, from the tablet's Resource Timing of its API requests:
    online → first photo request; seconds with no photo request open in between; the most
    photo requests open at once; the median photo request; last photo answer → all ready."""
    t0, end = r["t0"] * 1000, (r["t0"] + r["wall"]) * 1000
    ups = sorted(t for t in r["device"].get("timings", []) if t[0] == "uploads" and t[1] >= t0)
    if not ups:
        return {}
    idle, open_until, peak, edges = 0.0, ups[0][1], 0, []
    for _, start, _, _, stop_ in ups:
        idle += max(0.0, start - open_until)
        open_until = max(open_until, stop_)
        edges += [(start, 1), (stop_, -1)]
    level = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
        level += step
        peak = max(peak, level)
    return {"first_s": (ups[0][1] - t0) / 1000, "idle_s": idle / 1000, "peak": peak,
            "photo_s": [(u[4] - u[1]) / 1000 for u in ups],
            "tail_s": (end - max(u[4] for u in ups)) / 1000}


# profile, colis, baseline POSTs (0: none, the first round's figure is quoted), baseline
# window (s), seconds kept for the baseline
PLAN = [("bad", 50, 3, 0, 260), ("typical", 50, 3, 0, 100), ("typical", 200, 0, 0, 0),
        ("outage", 50, 1, 300, 420)]
QUICK_PLAN = [("bad", 10, 1, 0, 150), ("typical", 10, 1, 0, 60)]
# The first round's figures (bench/RESULTS.md, 2026-11-26), one run of 50 colis each.
FIRST_ROUND = {"bad": {"ratio": 1.26, "post_s": [74, 74, 75], "base_mb": 177},
               "typical": {"ratio": 1.35, "post_s": [20, 20, 21], "base_mb": 175},
               "outage": {"ratio": 1.64, "post_s": [74, 74, 156], "base_mb": 178}}


def parse_plan(text: str) -> list[tuple]:
    """`SLOWLINK_PLAN`: `profile:colis[:baseline POSTs]`, comma-separated (e.g.
    `typical:10:0,bad:50`); baseline POSTs default to 3 (`outage`: one 300 s window)."""
    plan = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        profile, n, *posts = part.split(":")
        if profile not in PROFILES:
            raise ValueError(f"SLOWLINK_PLAN: unknown profile {profile!r}")
        base_n = int(posts[0]) if posts else (1 if profile == "outage" else 3)
        window = 300 if profile == "outage" and base_n else 0
        keep = 0 if not base_n else (420 if window else 100 + 80 * base_n)
        plan.append((profile, int(n), base_n, window, keep))
    return plan


def run(quick: bool = False) -> str:
    t_start = time.monotonic()
    end = t_start + 2580  # run.py kills the scenario at 2700 s: leave time to stop cleanly
    if os.environ.get("SLOWLINK_PLAN"):
        plan = parse_plan(os.environ["SLOWLINK_PLAN"])
        end = t_start + float(os.environ.get("SLOWLINK_BOUND", 2580))
    else:
        plan = QUICK_PLAN if quick else PLAN
    results, skipped = [], []
    with Link() as link, World(agents=2 * len(plan) + 1) as world:
        for k, (profile, n, base_n, window, keep) in enumerate(plan):
            label = profile if n == 50 or quick else f"{profile}, {n} colis"
            budget = min(900.0, end - time.monotonic() - keep - 60 - 1.5 * n)  # log in, save
            if budget < 120 + n:
                skipped.append(label)
                continue
            ours = _batch(world, link, profile, 2 * k, n, budget=budget)
            base = None
            if base_n:
                link.dead_s = 0.0
                link.set(profile)
                if profile == "outage":
                    link.start_outages(profile)
                base = baseline_over(world, link, 2 * k + 1, base_n, window=window,
                                     limit=max(60.0, end - time.monotonic() - 30))
                link.stop_outages()
                base["dead_s"] = link.dead_s
                base["window"] = window
                link.dead_s = 0.0
                link.set(None)
            results.append((label, profile, ours, base))
            (VAR / f"slowlink-timings-{profile}-{n}.json").write_text(json.dumps(
                {"t0": ours["t0"], "wall": ours["wall"], "timings": ours["device"]["timings"]}))
            _write(results, skipped, quick, time.monotonic() - t_start, final=False)
    return _write(results, skipped, quick, time.monotonic() - t_start, final=True)


def _baseline_for(results: list, profile: str, base: dict | None) -> tuple[dict, str]:
    """This row's baseline: its own, another row's on the same profile, else the first round's."""
    if base is not None:
        return base, ""
    for _, other, _, b in results:
        if other == profile and b is not None:
            return b, " (from the 50-colis row)"
    first = FIRST_ROUND[profile]
    return ({"seconds": first["post_s"], "failures": [], "tx": first["base_mb"] * 1e6 / 50 * 3,
             "window": 0, "dead_s": 0}, " (first round)")


def _write(results: list, skipped: list, quick: bool, elapsed: float, final: bool) -> str:
    rows, detail, times, verdicts = [], [], [], []
    quoted = set()
    for label, profile, ours, own_base in results:
        base, source = _baseline_for(results, profile, own_base)
        if source:
            quoted.add(f"`{label}`{source}")
        up = PROFILES[profile][0] * 1000
        floor = ours["payload"] * 8 / up
        wire_floor = ours["tx"] * 8 / up
        post_s = base["seconds"]
        per_post = median(post_s) if post_s else float("nan")
        if base.get("window"):
            per_post = base["wall"] / max(1, len(post_s))  # a whole outage cycle's rate
        base_wall = per_post * ours["n"]
        base_tx = base.get("tx", 0) / max(1, len(post_s) + len(base["failures"])) * ours["n"]
        up_counts = _upload_counts(ours)
        a = ours["audit"]
        whole = ours["done"] >= ours["n"]
        at_least = "" if whole else "≥ "
        ours_h = ours["done"] * 3600 / ours["wall"] if ours["wall"] else float("nan")
        trace = ours["device"].get("trace", [])
        errors = Counter(str(t["error"])[:60] for t in trace if t.get("error"))
        base_h = 3600 / per_post if per_post == per_post else float("nan")
        first = FIRST_ROUND[profile]["ratio"]
        rows.append([
            label, f"{ours['done']}/{ours['n']}", f"{at_least}{ours['wall']:.0f}",
            f"{ours['tx'] / 1e6:.2f}", f"{floor:.0f}", f"**{at_least}{ours['wall'] / floor:.2f}×**",
            f"{first:.2f}×", f"×{first / (ours['wall'] / floor):.2f}", f"{ours_h:.0f}",
            f"{spread(post_s, 0)}{source}", f"{base_wall:.0f}", f"{base_tx / 1e6:.0f}",
            f"{base_h:.0f}",
            ("≤ " if not whole else "") + ratio([ours["wall"]], [base_wall],
                                                 higher_is_better=False),
            f"{a['lost']} / {a['duplicated']}"])
        detail.append([
            label, f"{up_counts['syncs']}", f"{up_counts['creates']}",
            f"{up_counts['heads']} / {up_counts['patches']}", f"{up_counts['non2xx']}",
            f"{up_counts['browser_failed']}", f"{len(base['failures'])}" if not source else "—",
            f"{ours['frames'].get('up_lost', 0)} / {ours['frames'].get('up_rx', 0)}",
            f"{wire_floor:.0f}", f"{ours['dead_s']:.0f} / {base.get('dead_s', 0):.0f}",
            f"{ours['login_s']:.0f}", f"{ours.get('pause', 0):.0f}",
            f"{max((t['failures'] for t in trace), default=0)}",
            "; ".join(f"{e} ×{c}" for e, c in errors.most_common(2)) or "—",
            f"{a['items']} / {a['tasks']} / {a['colis']}"])
        tl = timeline(ours)
        if tl:
            times.append([label, f"{ours['wall']:.0f}", f"{floor:.0f}", f"{wire_floor:.0f}",
                          f"{tl['first_s']:.1f}", f"{tl['idle_s']:.1f}", f"{tl['tail_s']:.1f}",
                          f"{tl['peak']}", spread(tl["photo_s"], 2)])
        if profile in ("bad", "typical"):
            verdicts.append(
                f"`{label}`: {ours['wall'] / floor:.2f}× the floor (target ≤ 1.15: "
                f"**{'met' if ours['wall'] <= 1.15 * floor else 'missed'}**; first round "
                f"{first:.2f}×)")
    lost = sum(o["audit"]["lost"] + o["audit"]["duplicated"] for _, _, o, _ in results)
    incomplete = [lbl for lbl, _, o, _ in results if o["done"] < o["n"]]
    photo = [s["photo_bytes"] for _, _, o, _ in results for s in o["saves"]]
    original = next((s["original_bytes"] for _, _, o, _ in results for s in o["saves"]), 0)
    base_posts = {lbl: len(b["seconds"]) for lbl, _, _, b in results if b is not None}
    counts = " / ".join(f"{o['n']}" for _, _, o, _ in results) or "the"
    outage_note = ""
    for _, profile, o, _ in results:
        if profile == "outage":
            floor_o = o["payload"] * 8 / (PROFILES["outage"][0] * 1000)
            outage_note = (f" On `outage` the link was dead {o['dead_s']:.0f} s of the PWA's run,"
                           f" which no upload can use: against the floor plus that time the run"
                           f" took {o['wall'] / (floor_o + o['dead_s']):.2f}×.")
    outage_base = any(p == "outage" and b for _, p, _, b in results)
    quick_note = ("**Quick variant** (`--quick`): 10 colis on `bad` and `typical`, one baseline "
                  "POST each, no `outage` run.\n" if quick else "")
    posts = ", ".join(f"{n} POSTs on `{p}`" for p, n in base_posts.items()) or "none in this run"
    quoted_note = (f" Baselines not measured in this run, quoted: {', '.join(sorted(quoted))}."
                   if quoted else "")
    ran = {p for _, p, _, _ in results}
    not_rerun = [f"`{p}` ({f['ratio']:.2f}× the floor)" for p, f in FIRST_ROUND.items()
                 if p not in ran]
    rerun_note = (f"Not run this time (first round's figures stand): {', '.join(not_rerun)}."
                  if not_rerun and not quick else "")
    md = f"""## 2. Slow link: colis with photos through linkem, vs the baseline's form POSTs

{quick_note}Chromium (Debian's, headless, Playwright) runs inside the client namespace `pf_cli`
(10.77.0.1) of `../shared/tools/linkem`; linkem.py forwards between it and `pf_srv`
(10.77.0.2) with the profile's rate, one-way delay and loss in both directions
(`typical` 1.5 Mbit/s up / 9 down, 150 ms RTT, 0.5 %; `bad` 400/400 kbit/s, 300 ms, 2 %;
`outage` = `bad` with the link dead — linkem restarted at 100 % loss — for {OUTAGE[1]} s starting
{OUTAGE[0]} s into the run and every {OUTAGE[2]} s). TCP is the namespace default (BBR: CUBIC
cannot be made the namespace default here), the same for the PWA and the baseline.
**Server:** gunicorn (2 processes × 4 threads) runs *inside* `pf_srv` on 10.77.0.2:8000.
PostgreSQL and Redis listen on the root namespace's 127.0.0.1, which `pf_srv` cannot reach,
so gunicorn uses PostgreSQL's Unix socket (`/var/run/postgresql`: sockets on the filesystem
belong to no network namespace) and the bench's own Redis listens on a Unix socket only; the
SimpleWorker and the sweeper (`monitor_sync`) run in the root namespace on the same database
and Redis. Nothing crosses the machine's real interfaces.

**Protocol.** The agent (a fresh Chromium profile, the service worker registered — the
origin is declared secure with `--unsafely-treat-insecure-origin-as-secure`) logs in over
the link, then saves {counts} colis offline, each with the same
12 MP camera JPEG ({original / 1e6:.1f} MB, compressed on the tablet to
{spread([b / 1e3 for b in photo], 0, ' kB')}), with the app's production sync timers. The clock
starts when the tablet goes online and stops when the server holds every colis `completed` with its photo
`ready` (processed by the worker). *Bytes sent*: the client interface's tx bytes (headers,
ACKs and retransmissions included). *Floor*: the compressed photos' bytes ÷ the uplink rate.
*First round*: the same profile's wall ÷ floor on 2026-11-26 (50 colis, one photo upload in
flight, bench/RESULTS.md of then); *vs first round*: that ratio ÷ this one (> 1 is better).
*Colis/h*: what the link lets one agent register per hour (typing time excluded).
The PWA sends three photos at once (`PHOTOS_IN_FLIGHT` in pwa/js/sync.js), each in one
creation-with-upload POST; with two, `typical` with 30 colis took 1.21× the floor, with three
1.15× (one run each, 2026-12-03): TCP (BBR) paces each flow at its share of the link, so a
flow waiting for its answer leaves part of the link idle unless enough others keep sending.
**Baseline:** another agent POSTs the form with the raw photo from the same namespace
(Python `requests`, one POST after another, a failed POST sent again), timed from the
request to the response: {posts}{
" (on `outage` as many as fit in 300 s, one whole outage cycle)" if outage_base else ""};
n of them would take n × the median (on `outage`: n × the wall time per completed POST).{quoted_note}
A 50-POST baseline run on `bad` would take ≈ 1 hour, beyond the scenario's 45-minute bound:
hence the extrapolation. Each PWA row is **one run** (n=1: two runs per
profile do not fit in the bound either); its spread is in the per-colis columns.

{table(["run", "completed", "wall s", "MB sent", "floor s", "wall ÷ floor", "first round",
        "vs first round", "colis/h", "baseline POST s", "baseline n POSTs s", "baseline MB",
        "baseline colis/h", "speed-up vs baseline", "lost / duplicated"], rows)}

Where the time goes (the tablet's Resource Timing of its photo requests, page and service
worker): the floor on the wire bytes; online → the first photo request; seconds between the
first and the last photo request with none open (the tablet between two photos); the last
photo's answer → every colis ready on the server (the worker's last photo and the bench's
0.25 s poll); the most photo requests open at once; one photo request, start → answer.

{table(["run", "wall s", "floor s", "wire floor s", "online → first photo s",
        "no photo request open s", "last answer → all ready s", "photos in flight (max)",
        "photo request s"], times)}

Uploads and failures (PWA run unless said): sync POSTs; tus creates (one per photo when
nothing restarts); resumes (HEAD) / PATCH chunks; non-2xx answers on sync and uploads;
requests the browser saw fail; baseline POSTs that failed and were re-sent; frames linkem
dropped on the uplink / frames it carried; the floor counted on the wire bytes instead;
seconds of outage during the PWA / baseline run; login time over the link; the longest time
no API request reached the server during the PWA run; the app's sync loop as sampled every 2 s
from the page (`status` of /app/js/sync.js: its consecutive failures, which set its backoff,
and its last error); device items / server tasks / server colis. A `≥` marks a run cut by
the scenario's time bound before every colis was complete: its figures are bounds.
*Browser failed* and the loop's *failures in a row* include the offline saving phase: each
save kicks the sync loop, whose cycle fails `offline` (one failure per save); the counter is
reset only when a whole cycle succeeds, so the first cycle online starts from it (its last
error stays `offline` until that cycle ends), and a cycle that fails then is followed by the
loop's longest backoff.{outage_note}

{table(["run", "sync POSTs", "tus creates", "HEAD / PATCH", "non-2xx", "browser failed",
        "baseline re-sent", "lost frames up", "wire floor s", "dead s", "login s",
        "longest pause s", "loop failures in a row (max)", "loop errors (2 s samples)",
        "items / tasks / colis"], detail)}

{"; ".join(verdicts) or "No `bad` or `typical` run"}. Lost or duplicated colis over every run: **{lost}**
(target 0: **{"met" if lost == 0 else "MISSED"}**).
{f"Not run for lack of time in the bound: {', '.join(skipped)}." if skipped else ""}
{rerun_note}
{f"Not complete within the bound: {', '.join(incomplete)}." if incomplete else ""}
{"" if final else "(Partial: written after each run; the scenario was still running.)"}
Scenario wall time {elapsed:.0f} s.
"""
    report.write_section("slowlink", md)
    return md


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    what, arg = sys.argv[1], json.loads(sys.argv[2])
    try:
        {"drive": drive, "baseline": baseline_client}[what](arg)
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        _emit(event="error", error=repr(exc)[:500])
        raise
