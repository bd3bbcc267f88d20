"""The bench's own processes and data: a PostgreSQL database, an embedded Redis, gunicorn,
rqworkers, and the seed rows (tariffs, clients, agents with device tokens, open lots).

Everything is local (127.0.0.1, or the linkem namespaces) and owned by the bench: its
own database (`colis_bench` by default), its own Redis server on a free port, its own
media directory. Each process is stopped by its pid, never by name.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SETTINGS = "bench.settings"
TARIFFS = [("cargo", "kg", "8500", 6000, "5000", "50"),
           ("express", "kg", "12500", 5000, "10000", "50"),
           ("bateau", "m3", "350000", 1000000, "25000", "500")]


def db_url(name: str) -> str:
    return f"{PG_SERVER}/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(db: str, redis_url: str, **extra: str) -> dict:
    """Environment of every process the bench starts (web, workers, manage.py)."""
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE=SETTINGS, DATABASE_URL=db_url(db), REDIS_URL=redis_url,
               MEDIA_ROOT=str(VAR / "media"), VAR_DIR=str(VAR), ALLOWED_HOSTS="*",
               LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1", NOTIFY_CHANNELS="log",
               PYTHONPATH=str(ROOT), CONN_MAX_AGE="60")
    env.update(extra)
    return env


def use_django(db: str, redis_url: str) -> None:
    """Configure Django in this process on the bench database (once per process)."""
    os.environ.update(child_env(db, redis_url))
    import django

    django.setup()


def psql(db: str, sql: str, *, timeout: float = 600) -> str:
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                          db_url(db), "-c", sql], capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode:
        raise RuntimeError(f"psql failed: {out.stderr.strip()}")
    return out.stdout.strip()


def create_database(db: str, redis_url: str) -> None:
    """Drop and create `db`, then migrate it."""
    psql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    psql("postgres", f'CREATE DATABASE "{db}"')
    manage(db, redis_url, "migrate", "--noinput", "-v", "0")


def manage(db: str, redis_url: str, *args: str, **env: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True, timeout=600,
                   env=child_env(db, redis_url, **env))


def truncate_all() -> None:
    """Empty every table the seed and the pipeline write (in-process, Django configured)."""
    from django.db import connection

    tables = [t for t in connection.introspection.table_names()
              if t.split("_")[0] in ("accounts", "cargo", "sync", "notifications")]
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    if (VAR / "media").exists():
        shutil.rmtree(VAR / "media")


@dataclass
class Seed:
    tokens: list[str]
    user_ids: list[int]
    lot_ids: list[int]
    client_ids: list[int]
    supervisor_id: int = 0
    extra: dict = field(default_factory=dict)

    def item(self, agent: int = 0, op_id: str | None = None, **data) -> dict:
        """A valid create item for agent number `agent`."""
        body = {"client": self.client_ids[agent % len(self.client_ids)],
                "lot": self.lot_ids[agent], "poids": "12.5", "longueur": "40",
                "largeur": "30", "hauteur": "20", "mode_paiement": "non_paye",
                "description": "Pièces détachées", **data}
        return {"op_id": op_id or str(uuid.uuid4()), "op": "create", "data": body}

    def form(self, agent: int = 0) -> dict:
        """The baseline form's fields for agent number `agent`."""
        return {k: str(v) for k, v in self.item(agent)["data"].items()}


def seed(agents: int = 4, clients: int = 20) -> Seed:
    """Tariffs, clients, `agents` agents each with a device token and an open lot."""
    from server.accounts.models import Device, User
    from server.cargo import services
    from server.cargo.models import Client, Tariff

    for mode, unit, rate, divisor, minimum, round_to in TARIFFS:
        Tariff.objects.create(mode=mode, unit=unit, rate=rate, divisor=divisor,
                              minimum=minimum, round_to=round_to, valid_from="2020-01-01")
    client_ids = [Client.objects.create(nom=f"Client{i}", prenom="Test", telephone=f"+2217{i:08d}",
                                        ville_destination="Dakar", pays_destination="Sénégal").pk
                  for i in range(clients)]
    tokens, user_ids, lot_ids = [], [], []
    for i in range(agents):
        user = User.objects.create_user(username=f"agent{i}", password="password",
                                        role=User.Role.AGENT_CHINE)
        tokens.append(Device.issue(user, f"Tablette {i}")[1])
        user_ids.append(user.pk)
        lot_ids.append(services.open_lot(user, "cargo").pk)
    sup = User.objects.create_user(username="superviseur", password="password",
                                   role=User.Role.SUPERVISOR)
    return Seed(tokens, user_ids, lot_ids, client_ids, supervisor_id=sup.pk)


# --- processes -------------------------------------------------------------------------------

def start_redis() -> tuple[subprocess.Popen, str]:
    from server.embedded_redis import start

    return start()


def start_web(env: dict, *, workers: int = 1, threads: int = 4, host: str = "127.0.0.1",
              port: int | None = None, netns: str | None = None,
              timeout: int = 60, access_log: str | None = None) -> tuple[subprocess.Popen, str]:
    """gunicorn on the bench settings; returns it once it answers HTTP."""
    port = port or free_port()
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "server.wsgi", "--bind",
           f"{host}:{port}", "--workers", str(workers), "--threads", str(threads),
           "--timeout", str(timeout), "--graceful-timeout", "5"]
    if access_log:
        cmd += ["--access-logfile", access_log]
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    log = open(VAR / f"gunicorn-{port}.log", "ab")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log,
                            start_new_session=True)
    base = f"http://{host}:{port}"
    wait_http(base, proc, netns=netns)
    return proc, base


def wait_http(base: str, proc: subprocess.Popen | None = None, timeout: float = 60,
              netns: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{base}: the server exited ({proc.returncode})")
        if netns:
            ok = subprocess.run(["ip", "netns", "exec", netns, "curl", "-s", "-o", "/dev/null",
                                 f"{base}/api/v1/health/"], timeout=10).returncode == 0
        else:
            try:
                requests.get(f"{base}/api/v1/health/", timeout=2)
                ok = True
            except requests.RequestException:
                ok = False
        if ok:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not answer within {timeout} s")


def start_worker(env: dict, worker_class: str = "rq.worker.SimpleWorker",
                 queues: tuple[str, ...] = ("colis", "notifications"), *, burst: bool = False,
                 pool: int = 0, **extra: str) -> subprocess.Popen:
    """`manage.py rqworker` (or `rqworker-pool` with `pool` processes)."""
    if pool:
        cmd = [sys.executable, "manage.py", "rqworker-pool", *queues, "--num-workers",
               str(pool), "--worker-class", worker_class]
    else:
        cmd = [sys.executable, "manage.py", "rqworker", *queues, "--worker-class", worker_class]
    if burst:
        cmd.append("--burst")
    log = open(VAR / "workers.log", "ab")  # noqa: SIM115
    return subprocess.Popen(cmd, cwd=ROOT, env={**env, **extra}, stdout=log, stderr=log,
                            start_new_session=True)


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, wait: float = 15) -> None:
    """Stop a process the bench started (its own session: its children too)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def token_session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    return session


VAR.mkdir(parents=True, exist_ok=True)


class Stack:
    """A scenario's world: its Redis, its fresh database (migrated, seeded), Django in-process,
    and whatever web and worker processes it starts (all stopped on exit)."""

    def __init__(self, db: str = "colis_bench", agents: int = 4, fresh: bool = True):
        self.db, self.agents, self.fresh = db, agents, fresh
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Stack":
        self.redis, self.redis_url = start_redis()
        if self.fresh:
            create_database(self.db, self.redis_url)
        use_django(self.db, self.redis_url)
        self.env = child_env(self.db, self.redis_url)
        if self.fresh:
            truncate_all()
            self.seed = seed(self.agents)
        return self

    def web(self, **kwargs) -> str:
        proc, base = start_web(self.env, **kwargs)
        self.procs.append(proc)
        self.web_proc = proc
        return base

    def worker(self, *args, **kwargs) -> subprocess.Popen:
        proc = start_worker(self.env, *args, **kwargs)
        self.procs.append(proc)
        return proc

    def flush_redis(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            stop(proc)
        from django.db import connections

        connections.close_all()
        stop_redis(self.redis)


def stop_redis(proc: subprocess.Popen) -> None:
    from server.embedded_redis import stop as stop_embedded

    stop_embedded(proc)
