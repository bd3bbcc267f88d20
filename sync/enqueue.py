"""Putting task jobs on the queue, always after the transaction that wrote them commits.

If Redis is unreachable the task simply stays pending: the sweeper enqueues it later.
"""

import functools
import logging

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


def materialise_on_commit(task) -> None:
    materialise_many_on_commit([task])


def materialise_many_on_commit(tasks) -> None:
    """Once the transaction commits, queue every task's job in one Redis round trip."""
    pairs = [(str(t.task_id), t.rq_job_id) for t in tasks]
    if pairs:
        transaction.on_commit(lambda: enqueue_materialise_many(pairs))


def enqueue_materialise_many(pairs: list[tuple[str, str]]) -> None:
    from rq import Queue

    from .jobs import materialise

    if not settings.COLIS_ASYNC:
        for task_id, _ in pairs:
            materialise(task_id)
        return
    colis = queue("colis")
    try:
        with colis.connection.pipeline() as pipe:
            colis.enqueue_many([Queue.prepare_data(materialise, (task_id,), job_id=job_id,
                                                   result_ttl=600, failure_ttl=86400)
                                for task_id, job_id in pairs], pipeline=pipe)
            pipe.execute()
    except RedisError:
        log.warning("Redis unreachable: %d task(s) stay pending for the sweeper", len(pairs))


def notify_on_commit(colis_id: int, event: str) -> None:
    transaction.on_commit(lambda: enqueue_notify(colis_id, event))


def enqueue_notify(colis_id: int, event: str) -> None:
    from rq import Retry

    from server.notifications.jobs import notify

    if not settings.COLIS_ASYNC:
        notify(colis_id, event)
        return
    try:
        queue("notifications").enqueue(
            notify, colis_id, event, job_id=f"notify-{colis_id}-{event}",
            retry=Retry(max=3, interval=[10, 60, 300]), result_ttl=600)
    except RedisError:
        log.warning("Redis unreachable: notification %s/%s not queued", colis_id, event)
