"""Putting task jobs on the queue, always after the transaction that wrote them commits.

If Redis is unreachable the task simply stays pending: the sweeper enqueues it later.
"""

import functools
import logging
import uuid

import django_rq
from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@functools.cache
def queue(name: str):
    """The RQ queue `name`, one per process: django_rq opens a new connection per call."""
    return django_rq.get_queue(name)


def job_id(task) -> str:
    """The RQ job id of a task's current attempt: the sweeper can tell if it is alive."""
    return f"materialise-{task.task_id}-{task.retry_count}"


def batch_job_id() -> str:
    """The RQ job id shared by the tasks of one device batch (one job materialises them)."""
    return f"materialise-batch-{uuid.uuid4().hex}"


def materialise_on_commit(task) -> None:
    materialise_many_on_commit([task])


def materialise_many_on_commit(tasks) -> None:
    """Once the transaction commits, queue the tasks' jobs in one Redis round trip."""
    pairs = [(str(t.task_id), t.rq_job_id) for t in tasks]
    if pairs:
        transaction.on_commit(lambda: enqueue_materialise_many(pairs))


def enqueue_materialise_many(pairs: list[tuple[str, str]]) -> None:
    """Queue (task_id, job id) pairs: one job per job id, for all the tasks that share it."""
    from rq import Queue

    from .jobs import materialise, materialise_many

    groups: dict[str, list[str]] = {}
    for task_id, rq_job_id in pairs:
        groups.setdefault(rq_job_id, []).append(task_id)
    if not settings.COLIS_ASYNC:
        for task_ids in groups.values():
            materialise_many(task_ids)
        return
    jobs = [Queue.prepare_data(materialise, (ids[0],), job_id=rq_job_id, result_ttl=600,
                               failure_ttl=86400) if len(ids) == 1 else
            Queue.prepare_data(materialise_many, (ids,), job_id=rq_job_id, result_ttl=600,
                               failure_ttl=86400)
            for rq_job_id, ids in groups.items()]
    colis = queue("colis")
    try:
        with colis.connection.pipeline() as pipe:
            colis.enqueue_many(jobs, pipeline=pipe)
            pipe.execute()
    except RedisError:
        log.warning("Redis unreachable: %d task(s) stay pending for the sweeper", len(pairs))


def notify_on_commit(colis_id: int, event: str) -> None:
    transaction.on_commit(lambda: enqueue_notify(colis_id, event))


def notify_many_on_commit(colis_ids: list[int], event: str) -> None:
    """One job that notifies about `event` on all these colis, queued on commit."""
    if len(colis_ids) == 1:
        notify_on_commit(colis_ids[0], event)
    elif colis_ids:
        transaction.on_commit(lambda: enqueue_notify_many(colis_ids, event))


def enqueue_notify(colis_id: int, event: str) -> None:
    from server.notifications.jobs import notify

    _notify_job(notify, (colis_id, event), f"notify-{colis_id}-{event}")


def enqueue_notify_many(colis_ids: list[int], event: str) -> None:
    from server.notifications.jobs import notify_many

    _notify_job(notify_many, (colis_ids, event), f"notify-{colis_ids[0]}-{len(colis_ids)}-{event}")


def _notify_job(func, args: tuple, rq_job_id: str) -> None:
    from rq import Retry

    if not settings.COLIS_ASYNC:
        func(*args)
        return
    try:
        queue("notifications").enqueue(func, *args, job_id=rq_job_id,
                                       retry=Retry(max=3, interval=[10, 60, 300]),
                                       result_ttl=600)
    except RedisError:
        log.warning("Redis unreachable: notification %s not queued", rq_job_id)
