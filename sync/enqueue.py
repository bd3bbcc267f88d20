"""Putting jobs on the queue, always after the transaction that wrote them commits.

Every job goes through `enqueue`, named by its dotted path: RQ imports the function in
the worker, so this module imports none of the jobs (no import circle with sync.jobs and
sync.photos), and `COLIS_ASYNC=0` runs them here, in process, in that one place.
If Redis is unreachable the work simply waits in the database: the sweeper enqueues it later.
"""

import functools
import logging
import uuid
from typing import NamedTuple

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from redis.exceptions import RedisError
from rq import Queue, Retry

log = logging.getLogger(__name__)

MATERIALISE = "sync.jobs.materialise"
MATERIALISE_MANY = "sync.jobs.materialise_many"
NOTIFY = "server.notifications.jobs.notify"
NOTIFY_MANY = "server.notifications.jobs.notify_many"
ATTACH_PHOTO = "sync.photos.attach_photo"

# Colis and photo jobs are not retried by RQ: the sweeper reads the database and sends
# them round again. A notice is retried by RQ, since it says nothing in the database.
COLIS_JOB = {"result_ttl": 600, "failure_ttl": 86400}
NOTIFY_JOB = {"result_ttl": 600, "retry": Retry(max=3, interval=[10, 60, 300])}


class Call(NamedTuple):
    """One job: the function's dotted path, its arguments, its RQ job id."""

    func: str
    args: tuple
    job_id: str


@functools.cache
def queue(name: str):
    """The RQ queue `name`, one per process: django_rq opens a new connection per call."""
    return django_rq.get_queue(name)


def enqueue(queue_name: str, calls: list[Call], *, lost: str, **options) -> bool:
    """Queue the calls in one Redis round trip or, with COLIS_ASYNC=0, run them now, here.

    Inline, a job that raises is logged and left for the sweeper, as a failed RQ job would
    be: it never reaches the request that queued it. `lost` is logged if Redis is down,
    and then False is returned.
    """
    if not settings.COLIS_ASYNC:
        for call in calls:
            try:
                import_string(call.func)(*call.args)
            except Exception:  # noqa: BLE001 - the database keeps the work for the sweeper
                log.exception("inline job %s failed", call.job_id)
        return True
    q = queue(queue_name)
    jobs = [Queue.prepare_data(call.func, call.args, job_id=call.job_id, **options)
            for call in calls]
    try:
        with q.connection.pipeline() as pipe:
            q.enqueue_many(jobs, pipeline=pipe)
            pipe.execute()
    except RedisError:
        log.warning("Redis unreachable: %s", lost)
        return False
    return True


def job_id(task) -> str:
    """The RQ job id of a task's current attempt: the sweeper can tell if it is alive."""
    return f"materialise-{task.task_id}-{task.retry_count}"


def batch_job_id() -> str:
    """The RQ job id shared by the tasks of one device batch (one job materialises them)."""
    return f"materialise-batch-{uuid.uuid4().hex}"


def attach_job_id(photo_id: str) -> str:
    return f"attach-{photo_id}"


def materialise_on_commit(task) -> None:
    materialise_many_on_commit([task])


def materialise_many_on_commit(tasks) -> None:
    """Once the transaction commits, queue the tasks' jobs in one Redis round trip."""
    pairs = [(str(t.task_id), t.rq_job_id) for t in tasks]
    if pairs:
        transaction.on_commit(lambda: enqueue_materialise_many(pairs))


def enqueue_materialise_many(pairs: list[tuple[str, str]]) -> None:
    """Queue (task_id, job id) pairs: one job per job id, for all the tasks that share it."""
    groups: dict[str, list[str]] = {}
    for task_id, rq_job_id in pairs:
        groups.setdefault(rq_job_id, []).append(task_id)
    calls = [Call(MATERIALISE, (ids[0],), rq_job_id) if len(ids) == 1 else
             Call(MATERIALISE_MANY, (ids,), rq_job_id) for rq_job_id, ids in groups.items()]
    if calls:
        enqueue("colis", calls, lost=f"{len(pairs)} task(s) stay pending for the sweeper",
                **COLIS_JOB)


def notify_on_commit(colis_id: int, event: str) -> None:
    transaction.on_commit(lambda: enqueue_notify(colis_id, event))


def notify_many_on_commit(colis_ids: list[int], event: str) -> None:
    """One job that notifies about `event` on all these colis, queued on commit."""
    if len(colis_ids) == 1:
        notify_on_commit(colis_ids[0], event)
    elif colis_ids:
        transaction.on_commit(lambda: enqueue_notify_many(colis_ids, event))


def enqueue_notify(colis_id: int, event: str) -> None:
    _notify(Call(NOTIFY, (colis_id, event), f"notify-{colis_id}-{event}"))


def enqueue_notify_many(colis_ids: list[int], event: str) -> None:
    _notify(Call(NOTIFY_MANY, (colis_ids, event),
                 f"notify-{colis_ids[0]}-{len(colis_ids)}-{event}"))


def _notify(call: Call) -> None:
    enqueue("notifications", [call], lost=f"notification {call.job_id} not queued",
            **NOTIFY_JOB)


def attach_on_commit(photo_id: str) -> None:
    transaction.on_commit(lambda: enqueue_attach(photo_id))


def enqueue_attach(photo_id: str) -> None:
    """Queue `attach_photo` for a photo whose upload is complete (see sync/photos.py)."""
    enqueue("colis", [Call(ATTACH_PHOTO, (photo_id,), attach_job_id(photo_id))],
            lost=f"photo {photo_id} waits for the sweeper", **COLIS_JOB)
