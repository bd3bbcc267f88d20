"""Scenario 4, materialisation: colis per second per worker and queue-to-completed latency,
for RQ's forking `Worker`, the non-forking `SimpleWorker` and the worker pool, without a
photo, with the device's JPEG and with a WebP, against the baseline doing the same work
inside its request and against the first round's figures; and where a colis with a photo
spends its time, step by step (bench/photosteps.py).

Throughput: N tasks are queued first, then a burst worker drains both queues (colis and
notifications, as in the Procfile); the rate runs from the first job's start to the last
colis completed or notification sent (process start-up excluded), from the database's own
timestamps. Latency: a worker already running, tasks arriving one at a time at the nominal
load (200 devices × 70 colis an hour ≈ 4 colis/s), created_at → completed_at.
"""

import io
import os
import time
import uuid

from . import photos, photosteps, report
from .env import VAR, Stack
from .stats import median, percentile, ratio, spread, table

KINDS = {  # label → (worker class, pool size; 0 = plain rqworker)
    "Worker (forks per job)": ("rq.worker.Worker", 0),
    "SimpleWorker": ("rq.worker.SimpleWorker", 0),
    "worker pool ×2 (SimpleWorker)": ("rq.worker.SimpleWorker", 2),
}
ONE_BY_ONE = "SimpleWorker, batches of 1"  # every task its own job, as a save synced alone
BATCH = 50  # items per device batch: the PWA's outbox sends up to 50 (pwa/js/sync.js)
NOMINAL_RATE = 4.0  # colis/s
DB = os.environ.get("BENCH_MATERIALISE_DB", "colis_bench_materialise")
TARGET_PHOTO = 40.0  # colis/s per worker with a photo (issue 17)
# The first round's figures (bench/RESULTS.md, 2026-11-26), colis/s per worker, by row.
FIRST_ROUND = {
    ("baseline (in the request)", "no photo"): 75.0, ("Worker (forks per job)", "no photo"): 281.9,
    ("SimpleWorker", "no photo"): 485.6, ("worker pool ×2 (SimpleWorker)", "no photo"): 354.9,
    (ONE_BY_ONE, "no photo"): 28.6, ("baseline (in the request)", "photo"): 2.4,
    ("Worker (forks per job)", "photo"): 5.8, ("SimpleWorker", "photo"): 8.4,
    ("worker pool ×2 (SimpleWorker)", "photo"): 4.9,
    ("SimpleWorker", "WebP photo"): 8.4,  # no WebP then: the JPEG photo's figure
}
PHOTO_KINDS = ("no photo", "photo", "WebP photo")
WEBP_QUALITY = 90  # the device's 1600 px photo as WebP: ≈ 115 KB


def device_webp() -> bytes:
    """The device's 1600 px photo as the PWA may send it soon: WebP, ≈ 120 KB."""
    from PIL import Image

    path = VAR / "device-1600.webp"
    if path.exists():
        return path.read_bytes()
    buf = io.BytesIO()
    Image.open(io.BytesIO(photos.device_jpeg())).save(buf, "WEBP", quality=WEBP_QUALITY)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def photo_data(kind: str) -> bytes | None:
    return {"no photo": None, "photo": photos.device_jpeg(), "WebP photo": device_webp()}[kind]


def _uploads(user_id: int, count: int, data: bytes) -> list[str]:
    """Completed tus uploads of the device-compressed photo `data`, as if already sent."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from sync import uploads
    from sync.models import Upload

    ids, now = [], timezone.now()
    for _ in range(count):
        photo_id = uuid.uuid4()
        name = uploads.storage().save(str(uuid.uuid4()), ContentFile(data))
        Upload.objects.create(owner_id=user_id, photo_id=photo_id, length=len(data),
                              offset=len(data), temp_name=name, completed_at=now,
                              expires_at=now + timezone.timedelta(days=1))
        ids.append(str(photo_id))
    return ids


DEADLOCKS = {"ingest": 0}


def _ingest(stack: Stack, count: int, photo: bytes | None, agent: int = 0) -> list[str]:
    from django.db import OperationalError

    from server.accounts.models import User
    from sync.ingest import ingest_batch

    user = User.objects.get(pk=stack.seed.user_ids[agent])
    photo_ids = _uploads(user.pk, count, photo) if photo else [None] * count
    items = [stack.seed.item(agent, **({"photo_id": p} if p else {})) for p in photo_ids]
    for _ in range(5):  # a deadlock victim is resent, as the device would
        try:
            results = ingest_batch(user, None, items)
            break
        except OperationalError as exc:
            DEADLOCKS["ingest"] += "deadlock" in str(exc)
    assert all(r.result == "accepted" for r in results), results[0].errors
    return [str(r.task.task_id) for r in results]


def _wait_done(task_ids: list[str], timeout: float) -> None:
    from django.utils import timezone

    from sync.models import TERMINAL, ColisTask
    from sync.sweeper import run_due_retries

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = ColisTask.objects.filter(task_id__in=task_ids).exclude(status__in=TERMINAL).count()
        if not left:
            return
        run_due_retries(timezone.now())  # the sweeper's duty (the workers run RETRY_BACKOFF=1)
        time.sleep(0.2)
    raise RuntimeError(f"{left} tasks not done within {timeout} s")


def _timings(task_ids: list[str]) -> tuple[float, list[float]]:
    """(rate colis/s from first start to last completion or notification, latencies s)."""
    from django.db.models import Max

    from server.notifications.models import Notification
    from sync.models import ColisTask

    rows = list(ColisTask.objects.filter(task_id__in=task_ids)
                .values_list("status", "created_at", "started_at", "completed_at", "colis_id"))
    bad = [r for r in rows if r[0] != "completed"]
    if bad:
        raise RuntimeError(f"{len(bad)} tasks ended {bad[0][0]}")
    start = min(r[2] for r in rows)
    end = max(r[3] for r in rows)
    sent = Notification.objects.filter(colis_id__in=[r[4] for r in rows]).aggregate(
        m=Max("sent_at"))["m"]
    end = max(end, sent or end)
    return len(rows) / (end - start).total_seconds(), [(r[3] - r[1]).total_seconds()
                                                      for r in rows]


def _throughput(stack: Stack, kind: str, photo: bytes | None, count: int) -> float:
    cls, pool = KINDS.get(kind, KINDS["SimpleWorker"])
    size = 1 if kind == ONE_BY_ONE else BATCH
    task_ids = []
    for start in range(0, count, size):
        task_ids += _ingest(stack, min(size, count - start), photo)
    proc = stack.worker(cls, burst=True, pool=pool, RETRY_BACKOFF="1")
    proc.wait(600)
    _wait_done(task_ids, 30)
    return _timings(task_ids)[0]


def _latency(stack: Stack, kind: str, photo: bytes | None, seconds: float) -> list[float]:
    import redis
    from rq import Worker

    from .env import stop

    cls, pool = KINDS[kind]
    proc = stack.worker(cls, pool=pool, RETRY_BACKOFF="1")
    conn = redis.Redis.from_url(stack.redis_url)
    deadline = time.monotonic() + 60
    while len(Worker.all(connection=conn)) < max(pool, 1) and time.monotonic() < deadline:
        time.sleep(0.2)
    task_ids, t0 = [], time.monotonic()
    for n in range(int(seconds * NOMINAL_RATE)):
        time.sleep(max(0.0, t0 + n / NOMINAL_RATE - time.monotonic()))
        task_ids += _ingest(stack, 1, photo)
    _wait_done(task_ids, 120)
    stop(proc)
    return _timings(task_ids)[1]


def _baseline(stack: Stack, photo: bool, count: int) -> float:
    """The baseline's in-request work (no HTTP), one colis after another: colis/s."""
    from server.accounts.models import User
    from server.notifications.jobs import notify

    from .baseline import _register

    user = User.objects.get(pk=stack.seed.user_ids[1])
    raw = photos.camera_jpeg() if photo else None
    t0 = time.perf_counter()
    for _ in range(count):
        colis = _register(user, stack.seed.form(1), raw)
        notify(colis.pk, "colis_registered")
    return count / (time.perf_counter() - t0)


def run(quick: bool = False) -> str:
    reps, seconds = (2, 8) if quick else (3, 15)
    sizes = {"no photo": 100 if quick else 200, "photo": 30 if quick else 60}
    sizes["WebP photo"] = sizes["photo"]
    res: dict = {}
    t0 = time.monotonic()
    with Stack(db=DB, agents=2) as stack:
        steps = _steps(stack, quick)
        for kind in PHOTO_KINDS:
            data = photo_data(kind)
            if kind != "WebP photo":
                res[("baseline (in the request)", kind)] = {"lat": [], "rate": [
                    _baseline(stack, bool(data), sizes[kind] // (4 if data else 1))
                    for _ in range(reps)]}
            for worker in KINDS if kind != "WebP photo" else ("SimpleWorker",):
                rates = [_throughput(stack, worker, data, sizes[kind]) for _ in range(reps)]
                lat = ([_latency(stack, worker, data, seconds) for _ in range(reps)]
                       if kind != "WebP photo" else [])
                res[(worker, kind)] = {"rate": rates, "lat": lat}
            if kind == "no photo":
                res[(ONE_BY_ONE, kind)] = {"lat": [], "rate": [
                    _throughput(stack, ONE_BY_ONE, data, sizes[kind]) for _ in range(reps)]}
        from sync.models import TaskEvent

        DEADLOCKS["worker"] = TaskEvent.objects.filter(message__icontains="deadlock").count()
    return _write(res, steps, reps, seconds, sizes, time.monotonic() - t0)


def _steps(stack: Stack, quick: bool) -> dict:
    """The per-step tables: Pillow's steps, and the job's steps per colis in a batch."""
    runs, reps = (15, 2) if quick else (40, 3)
    images = photosteps.image_steps(photos.device_jpeg(), device_webp(), runs)
    per_job = [photosteps.rq_job_ms(stack) for _ in range(reps)]
    pipeline: dict = {}
    for column, data, first in (("first round, JPEG", photos.device_jpeg(), True),
                                ("now, JPEG (kept)", photos.device_jpeg(), False),
                                ("now, WebP → JPEG", device_webp(), False)):
        pipeline[column] = [photosteps.pipeline_run(
            lambda n, d=data: _ingest(stack, n, d), BATCH, first, median(per_job))
            for _ in range(reps)]
    return {"images": images, "pipeline": pipeline, "rq_job_ms": per_job, "runs": runs,
            "reps": reps}


def _first_round(kind: str, label: str) -> float | None:
    return FIRST_ROUND.get((kind, label))


def _write(res: dict, steps: dict, reps: int, seconds: float, sizes: dict, elapsed: float) -> str:
    rows = []
    for (kind, photo), r in res.items():
        base = res.get(("baseline (in the request)", photo),
                       res[("baseline (in the request)", "photo")])["rate"]
        p50 = [percentile(x, 50) * 1000 for x in r["lat"]]
        p95 = [percentile(x, 95) * 1000 for x in r["lat"]]
        per_worker = [x / (KINDS[kind][1] or 1) for x in r["rate"]] if kind in KINDS else r["rate"]
        first = _first_round(kind, photo)
        rows.append([kind, photo, spread(r["rate"]), spread(per_worker),
                     ratio(per_worker, [first]) if first else "—", ratio(r["rate"], base),
                     spread(p50, 0), spread(p95, 0)])
    simple = median(res[("SimpleWorker", "no photo")]["rate"])
    forking = median(res[("Worker (forks per job)", "no photo")]["rate"])
    one = median(res[(ONE_BY_ONE, "no photo")]["rate"])
    jpeg_rate = median(res[("SimpleWorker", "photo")]["rate"])
    webp_rate = median(res[("SimpleWorker", "WebP photo")]["rate"])
    met = "met" if jpeg_rate >= TARGET_PHOTO else "not met"
    webp_met = "met" if webp_rate >= TARGET_PHOTO else "not met"
    md = f"""## 4. Materialisation: colis per second per worker

Throughput: {sizes["no photo"]} tasks without photo / {sizes["photo"]} with the device's 1600 px photo
({len(photos.device_jpeg()) // 1000} kB JPEG, or the same picture as a {len(device_webp()) // 1000} kB
WebP) queued first, in device batches of {BATCH} (the PWA's largest; one job per batch: its
creates made together, their photos processed in one photo step and their colis in one
transaction; the updates one by one), then a burst worker on `colis` and `notifications` (the
Procfile's queues); the rate counts from the first job's start to the last completion or
notification (start-up excluded). *{ONE_BY_ONE}*: the same tasks synced one per batch, so one
job per task (an agent online saving colis one at a time).
Latency: a running worker, tasks arriving one by one at {NOMINAL_RATE:g} colis/s
(200 devices × 70 colis/h) for {seconds:g} s, `created_at` → `completed_at` in ms.
The baseline row is the baseline view's work (numbering, pricing, notification, and with
photo the 12 MP original stored and processed) in a loop in one process: the same work
done inside the request. *vs first round*: colis/s per worker against the first round's
figure for the same row (2026-11-26; the WebP row against the first round's JPEG photo,
8.4). {reps} runs per row.

{table(["worker", "photo", "colis/s", "colis/s per worker", "vs first round", "vs baseline",
        "latency p50 ms", "latency p95 ms"], rows)}

**Target ≥ {TARGET_PHOTO:g} colis/s per worker with a photo: {met}** (SimpleWorker
{jpeg_rate:.1f} colis/s with the device's JPEG, first round 8.4: ×{jpeg_rate / 8.4:.1f};
with the WebP {webp_rate:.1f} colis/s, {webp_met}: a WebP is decoded whole and encoded
again as JPEG, the steps below). The rows without a photo run code that this round did not
change: their ratio to the first round (SimpleWorker ×{simple / 485.6:.2f}) shows how busy
this shared 2-core machine was during the run.

{_steps_md(steps)}

Target ≥ 200 colis/s per worker without photo: **{"met" if simple >= 200 else "missed"}**
(SimpleWorker {simple:.0f} colis/s in batches of {BATCH}, {one:.0f} colis/s one job per task;
the forking Worker {forking:.0f} colis/s). A job per task costs a claim transaction, a final
transaction and RQ's own bookkeeping for each colis, and a notification job more: that is the
one-by-one row, and why a batch is materialised by one job.

**Procfile:** keep `--worker-class rq.worker.SimpleWorker`. The forking `Worker` pays a
`fork()` and a fresh database connection for every job, which dominates a job of a few
milliseconds; the jobs are idempotent and time-bounded (a task claimed by a worker that
dies is recovered by the sweeper), so the isolation the fork buys is not needed. To use both
cores, run two SimpleWorker processes (`rqworker-pool --num-workers 2`, or scale the
`worker` process to 2) rather than one forking worker.

**Deadlocks seen while tasks arrived during materialisation:** {DEADLOCKS["ingest"]} ingest
transactions and {DEADLOCKS.get("worker", 0)} job runs were chosen as PostgreSQL deadlock
victims (the ingest is resent, the job retried). Until row locks became `FOR NO KEY
UPDATE`, an ingest holding the feed counter waited at COMMIT for the `KEY SHARE` lock of
its deferred foreign-key check on a lot that a job held `FOR UPDATE` while wanting the
counter; a key-share lock no longer conflicts with the job's lock (expected: 0).
Scenario wall time {elapsed:.0f} s.
"""
    report.write_section("materialise", md)
    return md


def _steps_md(steps: dict) -> str:
    images, pipeline = steps["images"], steps["pipeline"]
    cols = list(images)
    img_rows = []
    for step in [*photosteps.IMAGE_STEPS, "whole"]:
        cells = [spread(images[c][step], 2) if step in images[c] else "—" for c in cols]
        first = images[cols[0]].get(step)
        img_rows.append([f"**{step}**" if step == "whole" else step, *cells,
                         *(_vs(images[c].get(step), first) for c in cols[1:])])
    pcols = list(pipeline)
    pipe_rows = []
    for step in [*photosteps.PIPELINE_STEPS, "total"]:
        values = {c: [run[step] for run in pipeline[c]] for c in pcols}
        first = values[pcols[0]]
        pipe_rows.append([f"**{step}**" if step == "total" else step,
                          *(spread(values[c], 2) for c in pcols),
                          *(_vs(values[c], first) for c in pcols[1:])])
    implied = [[c, f"{1000 / median([run['total'] for run in pipeline[c]]):.0f}"] for c in pcols]
    return f"""**Where a colis with a photo spends its time.** Pillow's steps on the device's photo,
ms per photo, {steps["runs"]} runs each (the first round's pipeline restated in
`bench/photosteps.py`; now: `sync/images.py`; *whole* is `images.process` end to end, its
checks included):

{table(["step", *cols, *(f"{c}: vs first round" for c in cols[1:])], img_rows)}

The job's steps for one device batch of {BATCH} colis with photos, in ms per colis on this
PostgreSQL ({steps["reps"]} batches each): the first round's way (each photo task alone:
claim, photo step and final transaction, one notification job per colis, the first round's
Pillow pipeline) and now (`materialise_many`: one claim, one photo step, one transaction for
the colis, one notification job for the batch). *RQ overhead*: what a SimpleWorker adds per
job, {spread(steps["rq_job_ms"], 2)} ms (jobs that find nothing to do, drained by a burst
worker), times the jobs per colis.

{table(["step", *pcols, *(f"{c}: vs first round" for c in pcols[1:])], pipe_rows)}

Implied colis/s per worker from these totals: {"; ".join(f"*{c}* {v}" for c, v in implied)}
(RQ's own start-up and polling aside). A step that takes under 0.05 ms, or that no longer
happens, has no ratio.
"""


def _vs(now: list[float] | None, first: list[float] | None) -> str:
    """How many times faster than the first round (a step now skipped or negligible: —)."""
    if not now or not first or median(now) < 0.05 or median(first) < 0.05:
        return "—"
    return ratio(now, first, higher_is_better=False)


# --- workers on several machines: 1, 2, 4 worker processes on one PostgreSQL ------------------

SCALING = (1, 2, 4)
COUNTER_TABLE = "cargo_sequence"  # server.cargo.numbering: the changes feed's counter row


class LockSampler:
    """Samples pg_stat_activity every `every` s on the bench database: per sample, the active
    backends, those waiting for the changes counter's row lock (a Lock wait on a statement
    touching cargo_sequence) and those waiting for any other lock."""

    def __init__(self, db: str, every: float = 0.005):
        import threading

        self.db, self.every = db, every
        self.samples = {"active": 0, "counter": 0, "numbering": 0, "other_lock": 0, "polls": 0}
        self.other: dict[str, int] = {}  # the statements that waited for other locks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        from .env import db_url

        with psycopg.connect(db_url(self.db), autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT wait_event_type, query FROM pg_stat_activity WHERE datname = %s "
                    "AND pid <> pg_backend_pid() AND state = 'active'", (self.db,)).fetchall()
                self.samples["polls"] += 1
                for wait_type, query in rows:
                    self.samples["active"] += 1
                    if wait_type == "Lock":
                        query = " ".join((query or "").split())
                        key = (("counter" if "'changes'" in query else "numbering")
                               if COUNTER_TABLE in query else "other_lock")
                        self.samples[key] += 1
                        if key == "other_lock":
                            head = query[:70]
                            self.other[head] = self.other.get(head, 0) + 1
                time.sleep(self.every)

    def __enter__(self) -> "LockSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


def _scaled(stack: Stack, workers: int, count: int, size: int) -> dict:
    """`count` tasks queued in batches of `size`, then `workers` burst SimpleWorkers at once
    (each its own process, as on its own machine): colis/s and the lock samples."""
    task_ids = []
    for start in range(0, count, size):
        task_ids += _ingest(stack, min(size, count - start), None)
    with LockSampler(stack.db) as sampler:
        procs = [stack.worker("rq.worker.SimpleWorker", burst=True, RETRY_BACKOFF="1")
                 for _ in range(workers)]
        for proc in procs:
            proc.wait(600)
    _wait_done(task_ids, 60)
    return {"rate": _timings(task_ids)[0], **sampler.samples, "other": sampler.other}


def run_workers(quick: bool = False) -> str:
    """Scenario `workers`: materialisation throughput with 1, 2 and 4 worker processes."""
    reps = 2 if quick else 3
    shapes = {"one job per colis": (300 if quick else 600, 1),
              f"batches of {BATCH}": (1000 if quick else 2000, BATCH)}
    res: dict = {}
    t0 = time.monotonic()
    with Stack(db="colis_bench_workers", agents=2) as stack:
        for shape, (count, size) in shapes.items():
            for workers in SCALING:
                res[(shape, workers)] = [_scaled(stack, workers, count, size) for _ in range(reps)]
    return _write_workers(res, shapes, reps, time.monotonic() - t0)


def _share(runs: list[dict], key: str) -> str:
    active = sum(r["active"] for r in runs)
    return f"{100 * sum(r[key] for r in runs) / active:.0f} %" if active else "—"


def _write_workers(res: dict, shapes: dict, reps: int, elapsed: float) -> str:
    rows, verdicts, others = [], [], {}
    for (shape, workers), runs in res.items():
        rates = [r["rate"] for r in runs]
        one = [r["rate"] for r in res[(shape, 1)]]
        waiting = sum(r["counter"] for r in runs) / max(1, sum(r["polls"] for r in runs))
        rows.append([shape, workers, spread(rates), spread([x / workers for x in rates]),
                     ratio(rates, one), _share(runs, "counter"), f"{waiting:.2f}",
                     _share(runs, "numbering"), _share(runs, "other_lock")])
        for run in runs:
            for head, n in run["other"].items():
                others[head] = others.get(head, 0) + n
        if workers == SCALING[-1]:
            verdicts.append((shape, median(rates) / median(one), _share(runs, "counter")))
    cores = os.cpu_count()
    counter_max = max((_share(runs, "counter") for runs in res.values()), key=lambda x: float(x[:-2])
                      if x != "—" else 0)
    other_max = max((_share(runs, "other_lock") for runs in res.values()), key=lambda x: float(x[:-2])
                    if x != "—" else 0)
    waiting_max = max(sum(r["counter"] for r in runs) / max(1, sum(r["polls"] for r in runs))
                      for runs in res.values())
    best_gain = max(median([r["rate"] for r in runs]) / median([r["rate"] for r in res[(shape, 1)]])
                    for (shape, workers), runs in res.items() if workers > 1)
    top = "\n".join(f"- {n}: `{head}…`" for head, n in
                    sorted(others.items(), key=lambda kv: -kv[1])[:3]) or "- none"
    lines = "\n".join(f"- *{shape}*: ×{gain:.2f} with {SCALING[-1]} workers; {share} of the "
                      f"workers' active database time waiting for the counter's lock"
                      for shape, gain, share in verdicts)
    md = f"""## 4b. Workers on several machines: 1, 2 and 4 worker processes

The same PostgreSQL and Redis, N burst `SimpleWorker` processes started at once (each as
it would run on its own machine) draining tasks queued beforehand:
{", ".join(f"*{s}* ({c} tasks)" for s, (c, _) in shapes.items())}, no photo.
Rate from the first job's start to the last completion (database timestamps). Meanwhile
`pg_stat_activity` is sampled every 5 ms: of the samples where a worker's backend was
active, the share waiting for the **changes counter's row lock** (`sync/changes.py`: every
task write takes `cargo_sequence`'s `changes` row `FOR UPDATE` as its last statement and
holds it until its commit), and the share waiting for any other lock (task, lot, colis
rows); *numbering*: waiting for another row of the same table, the numéro de suivi sequence.
*Waiting backends*: how many were waiting for the changes counter on average at any instant.
{reps} runs per row. This machine has {cores} cores, which the workers share with
PostgreSQL, Redis and the bench: past {cores} workers, a gain can only come from overlapping
waits, not from more CPU.

{table(["shape", "workers", "colis/s", "colis/s per worker", "vs 1 worker",
        "waiting for the counter", "waiting backends", "waiting for numbering",
        "waiting for other locks"], rows)}

{lines}

The statements that waited for other locks most (samples, all rows):
{top}

**Reading.** The changes counter serialises the commits of task writes (between its
`UPDATE` and its `COMMIT`, the WAL flush included, no other writer gets past it): here it
holds the workers {counter_max} of their active database time at most, with
{waiting_max:.2f} backends waiting for it on average. It is a point of contention, but not
the one that limits these runs: {other_max} of the time goes to waiting for other locks,
mostly the statement above (each colis locks its lot's row to check it is still open, and
these tasks all go into one agent's lot, as a warehouse fills one lot at a time), and the
{cores} cores are shared by the workers and PostgreSQL. Best gain with more workers:
×{best_gain:.2f} (the spread is wide: a shared 2-core machine). Replacing the counter (a
later step: `sync/changes.py` is unchanged here) would remove at most that {counter_max} of
waiting; the lot row's lock and the cores weigh more here. More workers pay off on more
cores and with colis spread over several lots.
Scenario wall time {elapsed:.0f} s.
"""
    report.write_section("workers", md)
    return md
