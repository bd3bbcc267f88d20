"""Fault drills: break the link, the workers, Redis, PostgreSQL and the web process while
devices sync, then count colis per op_id on the server against the items on the devices.
Every drill must end with 0 lost and 0 duplicated.

    python -m bench.run drills            # all, PostgreSQL restart included (shared server!)
    python -m bench.run drills --quick    # without the PostgreSQL restart

The device side (`Device`) and the audit are shared with tests/test_drills.py, which runs
the short drills against the test database.
"""

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import report
from .stats import table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Device:
    """A tablet: an outbox of items it must get acknowledged, sent over raw HTTP so the link
    can be cut anywhere (mid-request, or after the request before reading the answer)."""

    base: str
    token: str
    items: dict = field(default_factory=dict)  # op_id → item (the device's outbox, all kept)
    acked: set = field(default_factory=set)  # op_ids the server answered for
    cuts: int = 0
    errors: int = 0
    sends: int = 0

    def request(self, items: list[dict], cut: float | None = None,
                timeout: float = 30) -> dict | None:
        """POST the batch; `cut` in [0, 1] sends that share of the bytes then drops the link
        (1.0: the whole request, answer never read). Returns the answer, or None."""
        body = json.dumps({"items": items}).encode()
        url = urlsplit(self.base)
        head = (f"POST /api/v1/sync/ HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Authorization: Token {self.token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        raw = head + body
        self.sends += 1
        try:
            sock = socket.create_connection((url.hostname, url.port), timeout=timeout)
        except OSError:
            self.errors += 1
            return None
        try:
            if cut is not None:
                sock.sendall(raw[: int(len(raw) * cut)])
                self.cuts += 1
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                return None  # RST: the server sees the link die
            sock.sendall(raw)
            response = http.client.HTTPResponse(sock)
            response.begin()
            data = response.read()
            if response.status != 200:
                self.errors += 1
                return None
            return json.loads(data)
        except (OSError, http.client.HTTPException, ValueError):
            self.errors += 1
            return None
        finally:
            sock.close()

    def sync(self, items: list[dict], cut: float | None = None, tries: int = 60) -> None:
        """Send until the server answers for every item (a cut first when asked)."""
        for item in items:
            self.items[item["op_id"]] = item
        if cut is not None:
            self.request(items, cut)
        for attempt in range(tries):
            answer = self.request(items)
            if answer is not None:
                for result in answer["items"]:
                    if result["result"] in ("accepted", "duplicate"):
                        self.acked.add(result["op_id"])
                return
            time.sleep(min(0.2 * 2 ** attempt, 2))
        raise RuntimeError("the server never answered")


def audit(op_ids: set[str], user_id: int) -> dict:
    """Server side: one completed task with its own colis per op_id, and no other colis."""
    from django.db.models import Count

    from server.cargo.models import Colis
    from sync.models import ColisTask

    tasks = dict(ColisTask.objects.filter(op_id__in=op_ids).values_list("op_id", "colis_id"))
    with_colis = {str(k) for k, v in tasks.items() if v}
    colis = Colis.objects.filter(created_by_id=user_id).count()
    shared = (ColisTask.objects.filter(op_id__in=op_ids, colis__isnull=False)
              .values("colis").annotate(n=Count("id")).filter(n__gt=1).count())
    lost = op_ids - with_colis
    states = dict(ColisTask.objects.filter(op_id__in=lost).values("status")
                  .annotate(n=Count("id")).values_list("status", "n"))
    return {"items": len(op_ids), "tasks": len(tasks), "colis": colis,
            "lost": len(lost), "lost_states": states,
            "duplicated": max(0, colis - len(with_colis)) + shared}


def wait_completed(op_ids: set[str], timeout: float = 120, sweep_every: float = 0) -> None:
    """Until every task is terminal; optionally running the sweeper meanwhile."""
    from sync.models import TERMINAL, ColisTask
    from sync.sweeper import sweep

    deadline, last_sweep = time.monotonic() + timeout, time.monotonic()
    while time.monotonic() < deadline:
        left = ColisTask.objects.filter(op_id__in=op_ids).exclude(status__in=TERMINAL).count()
        if not left:
            return
        if sweep_every and time.monotonic() - last_sweep > sweep_every:
            sweep(grace=2, stuck_after=30)
            last_sweep = time.monotonic()
        time.sleep(0.2)
    raise RuntimeError(f"{left} tasks not terminal after {timeout} s")


def new_item(client_id: int, lot_id: int) -> dict:
    return {"op_id": str(uuid.uuid4()), "op": "create",
            "data": {"client": client_id, "lot": lot_id, "poids": "3.2", "longueur": "30",
                     "largeur": "20", "hauteur": "10", "mode_paiement": "non_paye"}}


# --- the drills: each returns the device(s) used; the caller audits -------------------------

def link_cuts(device: Device, client_id: int, lot_id: int, syncs: int = 200,
              batch: int = 5, seed: int = 8) -> None:
    """Cut the link at a random point in most syncs (half of them after the full request)."""
    rng = random.Random(seed)
    for _ in range(syncs):
        items = [new_item(client_id, lot_id) for _ in range(batch)]
        roll = rng.random()
        cut = None if roll < 0.2 else 1.0 if roll < 0.6 else rng.random()
        device.sync(items, cut=cut)


def resends(device: Device, client_id: int, lot_id: int, times: int = 5,
            batch: int = 20) -> dict:
    """The same batch sent `times` times in a row, then another one `times` times at once."""
    seq = [new_item(client_id, lot_id) for _ in range(batch)]
    answers = [device.request(seq) for _ in range(times)]
    for item in seq:
        device.items[item["op_id"]] = item
    con = [new_item(client_id, lot_id) for _ in range(batch)]
    for item in con:
        device.items[item["op_id"]] = item
    barrier, out = threading.Barrier(times), []

    def send() -> None:
        barrier.wait()
        out.append(device.request(con))

    threads = [threading.Thread(target=send) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    task_ids = set()
    for answer in answers + out:
        if answer is None:
            raise RuntimeError("a resent batch got no answer")
        for result in answer["items"]:
            device.acked.add(result["op_id"])
            task_ids.add(result["task"]["task_id"])
    return {"distinct_task_ids": len(task_ids)}


def kill_workers(start_worker, device: Device, client_id: int, lot_id: int,
                 kills: int = 5, count: int = 10, env: dict | None = None) -> int:
    """Queue `count` tasks; start a slow worker (FAULT_DRILL_STEP_DELAY) and SIGKILL it
    mid-job, then run the sweeper; `kills` times. Returns the number of kills made."""
    from sync.models import RUNNING, ColisTask

    device.sync([new_item(client_id, lot_id) for _ in range(count)])
    ops = set(device.items)
    made = 0
    for _ in range(kills):
        proc = start_worker(FAULT_DRILL_STEP_DELAY="2")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not ColisTask.objects.filter(
                op_id__in=ops, status__in=RUNNING).exists():
            time.sleep(0.05)
        time.sleep(random.uniform(0.1, 1.5))
        os.killpg(proc.pid, signal.SIGKILL) if _own_group(proc) else proc.kill()
        proc.wait(30)
        made += 1
        monitor_once(env)
    return made


def _own_group(proc) -> bool:
    try:
        return os.getpgid(proc.pid) == proc.pid
    except ProcessLookupError:
        return False


def monitor_once(env: dict | None = None) -> None:
    """`manage.py monitor_sync --once --stuck-after 0 --grace 0`: recover what died."""
    subprocess.run([sys.executable, "manage.py", "monitor_sync", "--once", "--stuck-after", "0",
                    "--grace", "0"], cwd=ROOT, env=env or dict(os.environ), check=True,
                   timeout=120, stdout=subprocess.DEVNULL)


# --- the bench run ----------------------------------------------------------------------------

def _row(name: str, devices: list[Device], user_id: int, note: str, seconds: float) -> list:
    ops = set().union(*(d.items for d in devices))
    acked = set().union(*(d.acked for d in devices))
    a = audit(ops, user_id)
    verdict = "ok" if not a["lost"] and not a["duplicated"] and acked == ops else "FAIL"
    return [name, a["items"], len(acked), a["tasks"], a["colis"], a["lost"], a["duplicated"],
            sum(d.cuts for d in devices), sum(d.errors for d in devices), note,
            f"{seconds:.0f}", verdict]


def run(quick: bool = False) -> str:
    from .env import Stack, stop

    rows = []
    pg_restart = not quick and os.environ.get("BENCH_PG_RESTART", "1") == "1"
    with Stack(agents=7) as stack:
        base = stack.web(workers=1, threads=4)
        stack.env["RETRY_BACKOFF"] = "2"  # workers: a deadlock victim's retry comes soon
        s = stack.seed
        dev = [Device(base, t) for t in s.tokens]
        client = s.client_ids[0]

        t0 = time.monotonic()
        worker = stack.worker()
        link_cuts(dev[0], client, s.lot_ids[0], syncs=60 if quick else 200)
        wait_completed(set(dev[0].items), sweep_every=5)
        rows.append(_row("link cut at random points", [dev[0]], s.user_ids[0],
                         f"{60 if quick else 200} syncs of 5", time.monotonic() - t0))

        t0 = time.monotonic()
        info = resends(dev[1], client, s.lot_ids[1])
        wait_completed(set(dev[1].items), sweep_every=5)
        rows.append(_row("same batch ×5 sequential + ×5 concurrent", [dev[1]], s.user_ids[1],
                         f"{info['distinct_task_ids']} distinct task ids for 40 items",
                         time.monotonic() - t0))
        stop(worker)

        t0 = time.monotonic()
        made = kill_workers(lambda **e: stack.worker(**e), dev[2], client, s.lot_ids[2],
                            kills=3 if quick else 6)
        stack.worker()
        wait_completed(set(dev[2].items), sweep_every=3)
        rows.append(_row("rqworker SIGKILLed mid-job", [dev[2]], s.user_ids[2],
                         f"{made} kills, monitor_sync after each", time.monotonic() - t0))

        t0 = time.monotonic()
        rows.append(_redis_lost(stack, dev[3], client, s, t0))
        if pg_restart:
            t0 = time.monotonic()
            rows.append(_pg_restart(stack, dev[4], client, s, t0))
        t0 = time.monotonic()
        rows.append(_web_killed(stack, dev[5], client, s, t0))
    return _write(rows, pg_restart)


def _redis_lost(stack, device, client, s, t0) -> list:
    """Tasks queued, no worker; Redis dies and comes back empty on the same port."""
    from server.embedded_redis import stop as stop_redis

    from .env import stop

    for proc in stack.procs:
        if proc is not stack.web_proc:
            stop(proc)  # every worker: the jobs must be waiting in Redis when it dies
    stack.procs = [stack.web_proc]
    for _ in range(5):
        device.sync([new_item(client, s.lot_ids[3]) for _ in range(10)])
    port = int(stack.redis_url.rsplit(":", 1)[1].split("/")[0])
    stop_redis(stack.redis)
    stack.redis, _ = start_redis_on(port)
    stack.worker()
    monitor_once(stack.env)
    wait_completed(set(device.items), sweep_every=3)
    return _row("Redis restarted, data lost, 50 tasks queued", [device], s.user_ids[3],
                "monitor_sync re-enqueues from the DB", time.monotonic() - t0)


def start_redis_on(port: int):
    from server.embedded_redis import start

    return start(port)


def _steady_sync(devices_n: int, device: Device, client: int, lot: int, stop_at: float,
                 batch: int = 5) -> list[threading.Thread]:
    """Threads that sync new batches back to back until `stop_at` (resending on errors)."""
    def loop() -> None:
        while time.monotonic() < stop_at:
            device.sync([new_item(client, lot) for _ in range(batch)], tries=200)

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(devices_n)]
    for t in threads:
        t.start()
    return threads


def _pg_restart(stack, device, client, s, t0) -> list:
    """Devices syncing while the (shared) PostgreSQL server restarts once."""
    threads = _steady_sync(3, device, client, s.lot_ids[4], time.monotonic() + 12)
    time.sleep(3)
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"],
                   check=True, timeout=120)
    for t in threads:
        t.join(300)
    from django.db import connections

    connections.close_all()
    wait_completed(set(device.items), timeout=180, sweep_every=3)
    return _row("PostgreSQL restarted during ingest", [device], s.user_ids[4],
                "pg_ctlcluster restart, once", time.monotonic() - t0)


def _web_killed(stack, device, client, s, t0) -> list:
    """gunicorn's worker process SIGKILLed while requests are in flight, 5 times."""
    threads = _steady_sync(3, device, client, s.lot_ids[5], time.monotonic() + 15, batch=20)
    kills = 0
    for _ in range(5):
        time.sleep(random.uniform(1.5, 2.5))
        for pid in _children(stack.web_proc.pid):
            os.kill(pid, signal.SIGKILL)
            kills += 1
    for t in threads:
        t.join(300)
    wait_completed(set(device.items), timeout=180, sweep_every=3)
    return _row("web worker SIGKILLed with requests in flight", [device], s.user_ids[5],
                f"{kills} kills; gunicorn respawns, devices resend", time.monotonic() - t0)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _write(rows: list, pg_restart: bool) -> str:
    ok = all(r[-1] == "ok" for r in rows)
    md = f"""## Fault drills

Each drill syncs real batches to gunicorn + PostgreSQL + RQ (SimpleWorker), breaks
something, lets the system recover by itself (devices resend; `monitor_sync` re-enqueues
from the database), then counts on the server one completed task with its own colis per
op_id the device holds. *acked*: op_ids the device got an answer for; *cuts*: requests
whose link was cut; *errors*: requests that got no usable answer (then resent).
{"" if pg_restart else "PostgreSQL restart not run in this pass (--quick)."}

{table(["drill", "device items", "acked", "server tasks", "colis", "lost", "duplicated",
        "cuts", "errors", "how", "s", "verdict"], rows)}

**{"All drills: 0 lost, 0 duplicated." if ok else "A drill FAILED: see the table."}**
The short ones also run in the suite: `tests/test_drills.py` (marked `worker`).
"""
    report.write_section("drills", md)
    return md
