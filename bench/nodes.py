"""Scenario `nodes`: the production shape on one machine. nginx (Debian's, deploy/nginx/colis.conf
rendered on free ports under a temporary prefix, run as a child process) in front of two
gunicorn nodes with their own VAR_DIRs, as two machines sharing PostgreSQL, Redis and an S3
server (moto), with two rqworkers and one sweeper.

    python -m bench.run nodes           # slow bodies with and without nginx; the PWA drill
    python -m bench.run nodes --quick   # shorter windows

Measured: /api/v1/health/ latency while 40 clients send large bodies a few bytes per second
(raw sockets on 127.0.0.1, each for a bounded time), through nginx and straight at the
nodes; and the PWA in Chromium syncing 50 colis with photos while node A is SIGKILLed after
the first photo chunk (PATCH) it answered, then restarted. tests/test_nodes_drill.py runs the
same pieces (this module's Nginx, Node, slow_bodies, probe, pwa_drill) against the test
database.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx" / "colis.conf"
NGINX = os.environ.get("NGINX", shutil.which("nginx") or "/usr/sbin/nginx")
MIME_TYPES = Path("/etc/nginx/mime.types")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
FAST_SYNC = {"baseMs": 300, "idleMs": 1500, "maxMs": 1500}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, wait: float = 15) -> None:
    """Stop a child by its pid (its children too when it leads its own session)."""
    if proc is None or proc.poll() is not None:
        return
    own_group = os.getpgid(proc.pid) == proc.pid
    kill = os.killpg if own_group else os.kill
    try:
        kill(proc.pid, sig)
        proc.wait(wait)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        kill(proc.pid, signal.SIGKILL)
        proc.wait()


# --- nginx --------------------------------------------------------------------------------------

def render(template: str, values: dict[str, str]) -> str:
    """Fill the template's ${COLIS_*} placeholders (as envsubst with a variable list would);
    nginx's own $variables stay. A placeholder without a value is an error."""
    missing = sorted(set(re.findall(r"\$\{(COLIS_[A-Z_]+)\}", template)) - set(values))
    if missing:
        raise KeyError(f"no value for {', '.join(missing)}")
    return re.sub(r"\$\{(COLIS_[A-Z_]+)\}", lambda m: values[m.group(1)], template)


class Nginx:
    """Debian's nginx as a child process (`daemon off`), everything under a temporary prefix:
    its config (deploy/nginx/colis.conf rendered), temp files, logs, pid."""

    def __init__(self, upstreams: list[int], *, static_root: Path, media_root: Path,
                 port: int | None = None, prefix: Path | None = None):
        self.port = port or free_port()
        self.upstreams = upstreams
        self.prefix = Path(prefix or tempfile.mkdtemp(prefix="colis-nginx-"))
        self.static_root, self.media_root = Path(static_root), Path(media_root)
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.prefix / "logs" / "colis-access.log"

    def write_config(self) -> Path:
        for sub in ("conf", "logs", "tmp"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        servers = "\n    ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;"
                                for p in self.upstreams)
        site = render(TEMPLATE.read_text(), {
            "COLIS_UPSTREAMS": servers, "COLIS_LISTEN": f"127.0.0.1:{self.port}",
            "COLIS_SERVER_NAME": "_", "COLIS_TLS": "", "COLIS_LOG_DIR": str(self.prefix / "logs"),
            "COLIS_STATIC_ROOT": str(self.static_root), "COLIS_MEDIA_ROOT": str(self.media_root)})
        (self.prefix / "conf" / "colis.conf").write_text(site)
        tmp = self.prefix / "tmp"
        # As root, nginx's workers would switch to `nobody`, who cannot read a private temp dir.
        user = "user root root;" if os.geteuid() == 0 else ""
        main = f"""{user}
daemon off;
worker_processes 1;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {self.prefix}/conf/colis.conf;
}}
"""
        conf = self.prefix / "conf" / "nginx.conf"
        conf.write_text(main)
        return conf

    def start(self) -> "Nginx":
        conf = self.write_config()
        cmd = [NGINX, "-p", f"{self.prefix}/", "-c", str(conf), "-e", str(self.prefix / "logs" / "error.log")]
        check = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=30)
        if check.returncode:
            raise RuntimeError(f"nginx -t: {check.stderr.strip()}")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_port(self.port, self.proc, "nginx")
        return self

    def stop(self) -> None:
        stop(self.proc, signal.SIGQUIT)

    def log_lines(self) -> list[dict]:
        """The access log: {method, path, status, up (host:port, or several), t (epoch s)}."""
        pattern = re.compile(r'\[(?P<t>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) '
                             r'\d+ up=(?P<up>.*?) up_status=(?P<up_status>.*?) rt=')
        out = []
        if not self.access_log.exists():
            return out
        for line in self.access_log.read_text(errors="replace").splitlines():
            m = pattern.search(line)
            if m:
                out.append({**m.groupdict(), "status": int(m["status"])})
        return out


# --- gunicorn nodes -----------------------------------------------------------------------------

@dataclass
class Node:
    """A web machine: gunicorn on its own port and VAR_DIR; killed and restarted whole."""

    name: str
    env: dict
    var_dir: Path
    workers: int = 1
    threads: int = 4
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def start(self) -> "Node":
        self.var_dir.mkdir(parents=True, exist_ok=True)
        env = {**self.env, "VAR_DIR": str(self.var_dir), "NODE_NAME": self.name,
               "MEDIA_ROOT": self.env.get("MEDIA_ROOT", str(self.var_dir / "media")),
               "UPLOADS_ROOT": self.env.get("UPLOADS_ROOT", str(self.var_dir / "uploads"))}
        cmd = [str(Path(sys.executable).parent / "gunicorn"), "server.wsgi", "--bind",
               f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--threads",
               str(self.threads), "--timeout", "60", "--graceful-timeout", "5"]
        log = open(self.var_dir / "gunicorn.log", "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node {self.name} exited ({self.var_dir / 'gunicorn.log'})")
            try:
                requests.get(f"{self.base}/api/v1/health/", timeout=2)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"node {self.name} did not answer within 60 s")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        """The machine dies: SIGKILL to the gunicorn master and its workers at once."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        stop(self.proc)


# --- load: slow bodies and probes ---------------------------------------------------------------

def slow_bodies(port: int, token: str, *, clients: int = 40, seconds: float = 10,
                length: int = 1_500_000, bytes_per_s: int = 4, path: str = "/api/v1/sync/") -> dict:
    """`clients` connections to 127.0.0.1:`port`, each POSTing a `length`-byte body (under
    SYNC_MAX_BODY) `bytes_per_s` bytes a second, as a tablet on a dying link; all closed
    after `seconds`. Returns {connected, bytes_sent}."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Token {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode()
    socks, sent = [], 0
    deadline = time.monotonic() + seconds
    try:
        for _ in range(clients):  # arriving over 2 s, as tablets do (every worker takes some)
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2)
                sock.sendall(head + b'{"items": [')
                sock.setblocking(False)
                socks.append(sock)
            except OSError:
                pass
            time.sleep(0.05)
        while time.monotonic() < deadline:
            for sock in socks:
                try:
                    sent += sock.send(b" " * bytes_per_s)
                except OSError:
                    pass
            time.sleep(1)
    finally:
        for sock in socks:
            sock.close()
    return {"connected": len(socks), "bytes_sent": sent}


def probe(url: str, seconds: float, *, every: float = 0.05, timeout: float = 5) -> dict:
    """GET `url` back to back for `seconds`, a new connection each time (as separate tablets:
    a kept-alive one would stay with one gunicorn worker): latencies in ms; a request that
    fails or times out counts as `timeout` seconds and in `failed`."""
    session = requests.Session()
    lat, failed, statuses = [], 0, {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        try:
            status = session.get(url, timeout=timeout, headers={"Connection": "close"}).status_code
            statuses[status] = statuses.get(status, 0) + 1
        except requests.RequestException:
            failed += 1
            session = requests.Session()
        lat.append((time.perf_counter() - t0) * 1000)
        time.sleep(every)
    return {"ms": lat, "failed": failed, "statuses": statuses}


def under_slow_bodies(probe_url: str, port: int, token: str, *, clients: int = 40,
                      seconds: float = 10) -> dict:
    """Probe `probe_url` while `clients` slow bodies go to `port` (the probes start 2.5 s
    after the slow clients, once all are connected, and stop 1 s before they close)."""
    out: dict = {}
    slow = threading.Thread(target=lambda: out.update(slow=slow_bodies(
        port, token, clients=clients, seconds=seconds)), daemon=True)
    slow.start()
    time.sleep(2.5)
    out.update(probe(probe_url, seconds - 3.5))
    slow.join(seconds + 30)
    return out


# --- the PWA drill ------------------------------------------------------------------------------

def pwa_drill(*, base: str, nginx: Nginx, node_a: Node, username: str, photo: Path, count: int = 50,
              restart_after: float = 3, done, timeout: float = 300, log=print,
              client: str = "Diallo") -> dict:
    """Chromium (a fresh profile) logs in through nginx, opens a lot, saves `count` colis with
    `photo` offline, goes online; when nginx's log shows node A answered a photo chunk
    (PATCH 204), node A is SIGKILLed, and restarted `restart_after` s later. Waits until
    `done()` (the server holds every colis with its photo) or `timeout`. Returns timings and
    the nginx log's story of the uploads."""
    from playwright.sync_api import expect, sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    out: dict = {}
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="colis-chromium-") as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, locale="fr-FR",
            viewport={"width": 1024, "height": 900},
            bypass_csp=True)  # wait_for_function(string) evaluates code, which the CSP forbids
        try:
            config = json.dumps(json.dumps(FAST_SYNC))
            ctx.add_init_script(f"localStorage.setItem('colis.config', {config});")
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{base}/app/")
            page.fill("#login-username", username)
            page.fill("#login-password", "password")
            page.fill("#login-device", "Tablette drill")
            page.click("#login-submit")
            expect(page.locator("#colis-form")).to_be_visible()
            page.wait_for_function("document.body.dataset.refReady === '1'")
            page.evaluate("navigator.serviceWorker.ready")
            page.wait_for_function("navigator.serviceWorker.controller !== null")
            page.click("#tab-lots")
            page.select_option("#lot-type", "cargo")
            page.click("#open-lot")
            expect(page.locator("#colis-form")).to_be_visible()
            ctx.set_offline(True)
            t0 = time.monotonic()
            for n in range(count):
                _save(page, photo, n, client)
            out["save_s"] = time.monotonic() - t0
            log(f"{count} colis saved offline in {out['save_s']:.0f} s")
            ctx.set_offline(False)
            t_online = time.time()
            out.update(_kill_after_first_patch(nginx, node_a, t_online, restart_after, log))
            deadline = time.monotonic() + timeout
            while not done() and time.monotonic() < deadline:
                time.sleep(0.5)
            out["sync_s"] = time.time() - t_online
            out["done"] = bool(done())
            out["device_queue"] = _queue_counts(page)
        finally:
            ctx.close()
    out.update(upload_story(nginx.log_lines(), node_a.addr, out.get("killed_at", 0)))
    return out


def _save(page, photo: Path, n: int, client: str) -> None:
    from playwright.sync_api import expect

    saved = int(page.locator("#save-status").get_attribute("data-saved") or 0)
    page.fill("#f-client-search", client)
    page.locator(".client-pick").first.click()
    for name, value in (("poids", "12.5"), ("longueur", "40"), ("largeur", "30"), ("hauteur", "20")):
        page.fill(f"#f-{name}", value)
    page.fill("#f-description", f"Pièces détachées {n}")
    page.set_input_files("#f-photo", str(photo))
    expect(page.locator("#f-photo-info")).to_have_attribute("data-state", "ready", timeout=30_000)
    page.click("#save")
    expect(page.locator("#save-status")).to_have_attribute("data-saved", str(saved + 1))


def _kill_after_first_patch(nginx: Nginx, node: Node, since: float, restart_after: float,
                            log) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(r["method"] == "PATCH" and r["status"] == 204 and r["up"] == node.addr
               for r in nginx.log_lines()):
            break
        time.sleep(0.02)
    else:
        raise RuntimeError("node A answered no PATCH within 120 s")
    node.kill()
    killed_at = time.time()
    log(f"node A SIGKILLed {killed_at - since:.1f} s after going online")
    time.sleep(restart_after)
    node.start()
    log(f"node A back after {time.time() - killed_at:.1f} s")
    return {"killed_at": killed_at, "killed_after_s": killed_at - since,
            "restarted_after_s": time.time() - killed_at}


def _queue_counts(page) -> dict:
    page.click("#tab-queue")
    cells = page.locator("#queue-counts .count")
    return {cells.nth(i).get_attribute("data-bucket"): int(cells.nth(i).get_attribute("data-count"))
            for i in range(cells.count())}


def _epoch(stamp: str) -> float:
    import datetime

    return datetime.datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z").timestamp()


def upload_story(lines: list[dict], node_a: str, killed_at: float) -> dict:
    """From nginx's log: which node answered the tus requests, the 5xx the tablet saw, and the
    uploads that node A served before the kill and another node finished after it."""
    uploads = [r for r in lines if r["path"].startswith("/api/v1/uploads/")]
    by_upload: dict[str, list[dict]] = {}
    for r in uploads:
        key = r["path"].split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        if key != "uploads":
            by_upload.setdefault(key, []).append(r)
    # nginx's log has whole seconds: "after the kill" is the second of the kill or later.
    after = [r for r in uploads if _epoch(r["t"]) >= int(killed_at)]
    resumed = [k for k, rs in by_upload.items()
               if any(r["up"] == node_a and _epoch(r["t"]) <= killed_at for r in rs)
               and any(r["up"] != node_a and r["up"].startswith("127.") and r["status"] < 300
                       and _epoch(r["t"]) >= int(killed_at) for r in rs)]
    by_node: dict[str, int] = {}
    for r in uploads:
        by_node[r["up"]] = by_node.get(r["up"], 0) + 1
    return {"upload_requests": len(uploads), "by_node": by_node,
            "errors_5xx": sum(1 for r in lines if r["status"] >= 500),
            "upload_requests_after_kill": len(after),
            "to_a_after_kill": sum(1 for r in after if node_a in r["up"]),
            "resumed_elsewhere": len(resumed)}


# --- the bench run ------------------------------------------------------------------------------

DB = "colis_bench_nodes"


def grainy_photo(path: Path) -> Path:
    """1600 × 1200 colour noise: ≈ 1 MB once the tablet compressed it, four tus chunks."""
    from PIL import Image

    size = (1600, 1200)
    Image.merge("RGB", [Image.effect_noise(size, 60) for _ in range(3)]).save(path, "JPEG", quality=92)
    return path


def run(quick: bool = False) -> str:
    from .env import VAR, create_database, seed, start_redis, stop_redis, truncate_all, use_django
    from .restore import KEYS, s3_client, start_moto

    reps, window = (2, 10) if quick else (3, 15)
    work = Path(tempfile.mkdtemp(prefix="colis-nodes-"))
    redis, redis_url = start_redis()
    moto, endpoint = start_moto()
    procs: list = []
    try:
        bucket = "colis-nodes"
        s3_client(endpoint).create_bucket(Bucket=bucket)
        s3 = {**KEYS, "S3_ENDPOINT_URL": endpoint, "S3_BUCKET": bucket}
        os.environ.update(s3)
        create_database(DB, redis_url)
        use_django(DB, redis_url)
        truncate_all()
        agents = seed(agents=2)
        from .env import child_env

        env = child_env(DB, redis_url, STATIC_ROOT=str(work / "static"), TRUSTED_PROXY_COUNT="1",
                        PROXY_SSL_HEADER="1", SECURE_COOKIES="0", **s3)
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                       env=env, check=True, timeout=600, capture_output=True)
        # The Procfile's shape on each machine: 2 gunicorn workers × 4 threads.
        node_a, node_b = (Node(f"node-{n}", env, work / f"node-{n}", workers=2).start() for n in "ab")
        procs += [node_a, node_b]
        nginx = Nginx([node_a.port, node_b.port], static_root=work / "static",
                      media_root=work / "media", prefix=work / "nginx").start()
        procs.append(nginx)
        slow = _slow_rows(nginx, node_a, agents.tokens[1], reps, window)
        log = open(VAR / "workers.log", "ab")  # noqa: SIM115 - the children keep it
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "manage.py", "rqworker", "colis", "notifications", "--worker-class",
                 "rq.worker.SimpleWorker"], cwd=ROOT, env=env, stdout=log, stderr=log,
                start_new_session=True))
        procs.append(subprocess.Popen([sys.executable, "manage.py", "monitor_sync", "--interval", "2"],
                                      cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True))
        drill = _drill(nginx, node_a, agents.user_ids[0], work)
    finally:
        for proc in reversed(procs):
            proc.stop() if hasattr(proc, "stop") else stop(proc)
        from django.db import connections

        connections.close_all()
        stop(moto)
        stop_redis(redis)
        shutil.rmtree(work, ignore_errors=True)
    return _write(slow, drill, reps, window)


def _slow_rows(nginx: Nginx, node: Node, token: str, reps: int, window: float) -> dict:
    """Health latency, idle and under 40 slow bodies, through nginx and straight at node A."""
    out: dict = {}
    for rep in range(reps):
        for label, target, port in (("through nginx", nginx.base, nginx.port),
                                    ("straight at the node", node.base, node.port)):
            idle = probe(f"{target}/api/v1/health/", window / 2)
            loaded = under_slow_bodies(f"{target}/api/v1/health/", port, token, seconds=window)
            out.setdefault((label, "idle"), []).append(idle)
            out.setdefault((label, "40 slow bodies"), []).append(loaded)
            time.sleep(2)  # the slow connections' ends reach the node
        print(f"slow bodies: round {rep + 1}/{reps} done", flush=True)
    return out


def _drill(nginx: Nginx, node_a: Node, user_id: int, work: Path) -> dict:
    from django.db.models import Count

    from server.accounts.models import User
    from server.cargo.models import Colis
    from sync.models import ColisTask

    username = User.objects.get(pk=user_id).username
    photo = grainy_photo(work / "grainy.jpg")

    def done() -> bool:
        return Colis.objects.filter(created_by_id=user_id, photo_status="ready").count() >= 50

    story = pwa_drill(base=nginx.base, nginx=nginx, node_a=node_a, username=username, photo=photo,
                      done=done, timeout=600, client="Client1")
    tasks = ColisTask.objects.filter(initiated_by_id=user_id, operation="create")
    colis = Colis.objects.filter(created_by_id=user_id)
    story.update(tasks=tasks.count(), op_ids=tasks.values("op_id").distinct().count(),
                 completed=tasks.filter(status="completed").count(), colis=colis.count(),
                 ready=colis.filter(photo_status="ready").count(),
                 shared=tasks.exclude(colis=None).values("colis").annotate(n=Count("id"))
                 .filter(n__gt=1).count())
    return story


def _write(slow: dict, drill: dict, reps: int, window: float) -> str:
    from . import report
    from .stats import median, percentile, spread, table

    rows = []
    p95 = {}
    for (label, load), runs in slow.items():
        p50s = [percentile(r["ms"], 50) for r in runs]
        p95s = [percentile(r["ms"], 95) for r in runs]
        p95[(label, load)] = p95s
        rows.append([label, load, spread(p50s), spread(p95s), sum(len(r["ms"]) for r in runs),
                     sum(r["failed"] for r in runs)])
    direct, proxied = (median(p95[(x, "40 slow bodies")]) for x in ("straight at the node", "through nginx"))
    lost = 50 - drill["completed"]
    duplicated = drill["colis"] - drill["op_ids"] + drill["shared"]
    ok = (drill["done"] and lost == 0 and duplicated == 0 and drill["ready"] == 50
          and drill["resumed_elsewhere"] >= 1)
    back = drill["restarted_after_s"]
    by_node = ", ".join(f"{k}: {v}" for k, v in drill["by_node"].items())
    md = f"""## Several machines: nginx in front of two web nodes

The production shape on one machine (`bench/nodes.py`): Debian's nginx with
`deploy/nginx/colis.conf` (rendered on free ports under a temporary prefix), two gunicorn
nodes (2 workers × 4 threads each, the Procfile's shape) with their own `VAR_DIR`, as two
machines sharing PostgreSQL, Redis and the photo bucket (moto's S3 server), two rqworkers and
the sweeper.

**Slow bodies.** 40 clients on 127.0.0.1, arriving over 2 s, each POST a 1.5 MB sync batch
(valid token, under `SYNC_MAX_BODY`) 4 bytes a second for {window:g} s, then give up, as
tablets on a dying link would; once they are all connected, `/api/v1/health/` is asked
back to back (a new connection each time, as separate tablets; 50 ms apart, 5 s timeout, a
failure counted as 5 000 ms). Without nginx the 40 bodies go straight
to node A and the probe asks node A. {reps} rounds; latencies in ms.

{table(["path", "load", "health p50 ms", "health p95 ms", "probes", "failed"], rows)}

Under slow bodies, health p95 straight at the node is **×{direct / proxied:.0f}** the p95
through nginx ({direct:.0f} ms vs {proxied:.0f} ms; target through nginx < 200 ms:
**{"met" if proxied < 200 else "missed"}**). Straight at gunicorn, each slow body holds one of
the node's 8 threads while Django reads it; through nginx the body is nginx's until complete,
and these never complete: no node saw them.

**Node killed mid-upload.** The PWA in Chromium (fresh profile, production sync code, short
timers) logs in through nginx, opens a lot and saves 50 colis, each with a 1600 × 1200 photo
of colour noise (≈ 1 MB compressed: four 256 KiB tus chunks), saving while the sync runs;
when nginx's log shows node A answered a photo chunk (PATCH 204), node A's gunicorn (master
and workers) is SIGKILLed, then restarted 3 s later (n=1).

| what | value |
|---|---|
| saving 50 colis with photos | {drill["save_s"]:.0f} s |
| node A killed | {drill["killed_after_s"]:.1f} s after going online; back {back:.1f} s later |
| all 50 on the server, photos ready | {drill["sync_s"]:.0f} s after going online |
| tus requests (by node) | {drill["upload_requests"]} ({by_node}) |
| uploads node A had begun, finished by node B | {drill["resumed_elsewhere"]} |
| answers 5xx the tablet saw (in flight on node A when it died) | {drill["errors_5xx"]} |
| tasks / distinct op_ids / completed | {drill["tasks"]} / {drill["op_ids"]} / {drill["completed"]} |
| colis / photos ready | {drill["colis"]} / {drill["ready"]} |
| tablet's queue at the end | {drill["device_queue"]} |
| lost / duplicated | {lost} / {duplicated} |

**{"Node drill: 0 lost, 0 duplicated, every photo ready; uploads resumed on the other node."
   if ok else "Node drill FAILED: see the table."}**
The same drill runs in the suite: `tests/test_nodes_drill.py` (PostgreSQL pass).
"""
    report.write_section("nodes", md)
    if not ok:
        raise SystemExit(md)
    return md
