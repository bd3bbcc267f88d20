"""Where a colis with a photo spends its time, step by step (bench/materialise.py's tables).

Two measures, each first as the first round did it and then as now:
- `image_steps`: Pillow's work on the device's 1600 px photo, in ms per photo. The first
  round's pipeline is restated here (`first_round_process`: decode, turn upright, copy into
  a fresh RGB image, resize, thumbnail, JPEG encode progressive + optimised) so the same
  bytes go through both; now is sync/images.py's own code, JPEG kept as it came (marker
  walk, one decode at the thumbnail's scale) and WebP → JPEG.
- `pipeline_steps`: one device batch of colis with photos materialised in this process on
  the bench's PostgreSQL, the job's functions timed as they run: the first round's way (each
  photo task alone: claim, photo step, final transaction, a notification job per colis;
  with `first_round_process`), and now (`jobs.materialise_many` as it is). What RQ adds per
  job is measured with a burst SimpleWorker draining jobs that find nothing to do.
"""

import io
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager

from PIL import Image, ImageOps

IMAGE_SIZE, THUMB_SIZE, QUALITY = 1600, 320, 80


def first_round_process(data: bytes):
    """The first round's images.process (its checks aside), step by step."""
    from sync.images import Processed

    image = _first_round(data, {})
    return Processed(image=image[0], thumbnail=image[1], size=image[2])


def _first_round(data: bytes, t: dict) -> tuple[bytes, bytes, tuple[int, int]]:
    with _clock(t, "decode"):
        img = Image.open(io.BytesIO(data))
        if img.format == "JPEG":
            img.draft("RGB", (IMAGE_SIZE, IMAGE_SIZE))
        img.load()
    with _clock(t, "orientation (EXIF)"):
        img = ImageOps.exif_transpose(img)
    with _clock(t, "copy into a fresh RGB image"):
        out = Image.new("RGB", img.size, "white")
        out.paste(img.convert("RGB"))
    with _clock(t, "resize to 1600 px"):
        out.thumbnail((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
    with _clock(t, "thumbnail 320 px"):
        thumb = out.copy()
        thumb.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
    with _clock(t, "JPEG encode, image"):
        image = _save(out, optimize=True, progressive=True)
    with _clock(t, "JPEG encode, thumbnail"):
        small = _save(thumb, optimize=True, progressive=True)
    return image, small, out.size


def _now(data: bytes, t: dict) -> None:
    """sync/images.py's steps on `data`, each timed (the same calls, in the same order)."""
    from sync import images, jpeg

    with _clock(t, "decode"):
        img = Image.open(io.BytesIO(data), formats=images.FORMATS)
        kept = images._keepable(img, data) if img.format == "JPEG" else None
        if kept is not None:
            img = Image.open(io.BytesIO(kept), formats=("JPEG",))
            img.draft("RGB", images.fit(img.size, THUMB_SIZE))
        elif img.format == "JPEG":
            img.draft("RGB", images.fit(img.size, IMAGE_SIZE))
        img.load()
    if kept is not None:
        with _clock(t, "marker walk (metadata stripped)"):
            jpeg.strip(data)
    else:
        with _clock(t, "orientation (EXIF)"):
            ImageOps.exif_transpose(img, in_place=True)
        with _clock(t, "copy into a fresh RGB image"):
            img = images._flatten(img)
        with _clock(t, "resize to 1600 px"):
            if max(img.size) > IMAGE_SIZE:
                img = img.resize(images.fit(img.size, IMAGE_SIZE), Image.Resampling.LANCZOS,
                                 reducing_gap=3.0)
    with _clock(t, "thumbnail 320 px"):
        thumb = images._thumbnail(img)
    if kept is None:
        with _clock(t, "JPEG encode, image"):
            images._jpeg(img)
    with _clock(t, "JPEG encode, thumbnail"):
        images._jpeg(thumb)


def _save(img: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=QUALITY, **params)
    return buf.getvalue()


@contextmanager
def _clock(t: dict, name: str):
    t0 = time.perf_counter()
    yield
    t.setdefault(name, []).append((time.perf_counter() - t0) * 1000)


IMAGE_STEPS = ["decode", "orientation (EXIF)", "copy into a fresh RGB image", "resize to 1600 px",
               "thumbnail 320 px", "JPEG encode, image", "JPEG encode, thumbnail",
               "marker walk (metadata stripped)"]


def image_steps(jpeg_data: bytes, webp_data: bytes, runs: int = 40) -> dict:
    """{column: {step: [ms per run]}} for the first round (JPEG), now (JPEG), now (WebP);
    each column also has "whole" (images.process, or the first round's pipeline)."""
    from sync import images

    out = {}
    for column, data, steps in (("first round, JPEG", jpeg_data, _first_round),
                                ("now, JPEG (kept)", jpeg_data, _now),
                                ("now, WebP → JPEG", webp_data, _now)):
        t: dict = {}
        whole = first_round_process if steps is _first_round else images.process
        for _ in range(3):  # warm up
            steps(data, {})
        for _ in range(runs):
            steps(data, t)
        t["whole"] = []
        for _ in range(runs):
            t0 = time.perf_counter()
            whole(data)
            t["whole"].append((time.perf_counter() - t0) * 1000)
        out[column] = t
    assert images.process(jpeg_data).kept and not images.process(webp_data).kept
    return out


# --- the job's steps, timed as they run ---------------------------------------------------------

class Timers:
    """Wraps module attributes so each call adds its time under a name; nested calls count
    in both (the caller subtracts)."""

    def __init__(self):
        self.ms: dict[str, float] = defaultdict(float)
        self._undo: list = []

    def wrap(self, module, attr: str, name: str, replacement=None) -> None:
        real = replacement or getattr(module, attr)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.ms[name] += (time.perf_counter() - t0) * 1000

        self._undo.append((module, attr, getattr(module, attr)))
        setattr(module, attr, timed)

    def __enter__(self) -> "Timers":
        return self

    def __exit__(self, *exc) -> None:
        for module, attr, real in reversed(self._undo):
            setattr(module, attr, real)


PIPELINE_STEPS = ["job claim", "upload lookup and read", "image processing",
                  "storage writes (image, thumbnail)", "DB writes (photo step, colis, task)",
                  "notification: Redis enqueue", "notification: job's work",
                  "RQ overhead (jobs per colis × per job)"]


def pipeline_run(ingest, count: int, first_round: bool, rq_job_ms: float) -> dict[str, float]:
    """One batch of `count` colis with photos (`ingest(count) -> task ids`), materialised
    here; {step: ms per colis} and "total"."""
    from server.notifications import jobs as notify_jobs
    from sync import enqueue, images, jobs, photos

    task_ids = ingest(count)
    enqueue.queue("colis").empty()  # the batch's own job: run here instead
    notices: list = []
    real_enqueue = enqueue.enqueue

    def enqueue_notice(queue_name, calls, **kw):  # kept, and sent again below, timed
        if queue_name != "notifications":
            return real_enqueue(queue_name, calls, **kw)
        notices.extend(calls)
        return None

    with Timers() as t:
        t.wrap(enqueue, "enqueue", "notices", enqueue_notice)
        t.wrap(jobs, "claim", "job claim")
        t.wrap(jobs, "claim_many", "job claim")
        t.wrap(jobs, "photo_fields_for", "photo")
        t.wrap(images, "process", "image processing",
               first_round_process if first_round else None)
        t.wrap(photos, "_replace", "storage writes (image, thumbnail)")
        t0 = time.perf_counter()
        if first_round:  # each photo task alone, as the first round's batch job took them
            for task_id in task_ids:
                jobs.materialise(task_id)
        else:
            jobs.materialise_many(task_ids)
        total = (time.perf_counter() - t0) * 1000
    ms = dict(t.ms)
    photo = ms.pop("photo")
    ms["upload lookup and read"] = (photo - ms["image processing"]
                                    - ms["storage writes (image, thumbnail)"])
    ms["DB writes (photo step, colis, task)"] = total - photo - ms["job claim"] - ms.pop("notices")
    t0 = time.perf_counter()
    for call in notices:  # each notice's enqueue: one Redis round trip, as on commit
        real_enqueue("notifications", [call._replace(job_id=f"bench-{uuid.uuid4().hex}")],
                     lost="bench", **enqueue.NOTIFY_JOB)
    ms["notification: Redis enqueue"] = (time.perf_counter() - t0) * 1000
    enqueue.queue("notifications").empty()
    t0 = time.perf_counter()
    for call in notices:  # the notices' work, as their jobs do it
        getattr(notify_jobs, call.func.rsplit(".", 1)[1])(*call.args)
    ms["notification: job's work"] = (time.perf_counter() - t0) * 1000
    per = {k: v / count for k, v in ms.items()}
    # Jobs per colis: the batch's own job, and each notice's (one per colis in the first round).
    per["RQ overhead (jobs per colis × per job)"] = (1 + len(notices)) / count * rq_job_ms
    per["total"] = sum(per[k] for k in PIPELINE_STEPS)
    return per


def rq_job_ms(stack, jobs: int = 300) -> float:
    """What RQ adds per job with a SimpleWorker: jobs that find nothing to do (a missing
    task), queued at once, drained by a burst worker; ms from the first start to the last
    end, per job."""
    from rq.job import Job

    from sync import enqueue

    calls = [enqueue.Call(enqueue.MATERIALISE, (str(uuid.uuid4()),), f"bench-noop-{uuid.uuid4().hex}")
             for _ in range(jobs)]
    enqueue.enqueue("colis", calls, lost="bench", **enqueue.COLIS_JOB)
    stack.worker(burst=True).wait(300)
    done = [j for j in Job.fetch_many([c.job_id for c in calls],
                                      connection=enqueue.queue("colis").connection) if j]
    start = min(j.started_at for j in done)
    end = max(j.ended_at for j in done)
    return (end - start).total_seconds() * 1000 / len(done)
