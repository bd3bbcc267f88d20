"""The sweeper: the database is the truth; Redis and workers may forget or die.

- pending tasks with no live job (Redis restarted, enqueue failed) are enqueued again;
- running tasks whose heartbeat stopped (worker killed) go back to pending;
- failed_retry tasks whose time has come are sent round again;
- expired temporary uploads are deleted; photos whose upload is complete but which wait
  still (or whose run died) are attached again, and failed once PHOTO_MAX_ATTEMPTS claims
  got nowhere (sync/photos.py);
- the figures of « Résultats » are brought up to date (server/web/figures.py), visited
  or not;
- an alert is logged when failures or the oldest pending task pass a threshold, and sent
  to ADMINS by mail and to ALERT_WEBHOOK_URL (signed as client notices are), at most once
  every ALERT_EVERY seconds per kind of alert, however many sweepers and nodes see it.

One sweeper at a time: `Lease` is a Redis lock (SET NX with an expiry) that the sweeper
holding it renews every pass; another sweeper waits, and says so, until it expires.
"""

import logging
import os
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db import transaction
from django.utils import timezone
from redis.exceptions import LockError, RedisError
from rq.job import Job, JobStatus

from server.notifications.channels import post_signed
from server.notifications.sweep import forgotten
from server.web import figures

from . import enqueue, health, states
from .models import RUNNING, ColisTask, Status
from .photos import sweep_uploads

log = logging.getLogger("colis.sweeper")
# A finished job left its tasks claimed or done: one still pending went back to pending
# after it ran (or was never among its tasks), so it needs a job again.
DEAD_JOB = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.FINISHED}


def _live_job_ids(job_ids: list[str]) -> set[str]:
    conn = enqueue.queue("colis").connection
    jobs = Job.fetch_many(job_ids, connection=conn)
    return {job.id for job in jobs if job is not None and job.get_status() not in DEAD_JOB}


def requeue_pending(now, grace: int, chunk: int = 1000) -> int:
    """Every pending task past `grace` whose job Redis no longer holds, in chunks by id: a
    backlog of tasks with live jobs must not hide the ones behind it."""
    pending = ColisTask.objects.filter(status=Status.PENDING,
                                       updated_at__lte=now - timedelta(seconds=grace))
    lost, after = [], 0
    while rows := list(pending.filter(pk__gt=after).order_by("pk")
                       .values_list("pk", "task_id", "rq_job_id")[:chunk]):
        after = rows[-1][0]
        live = _live_job_ids([job for _, _, job in rows if job])
        lost += [(str(task_id), job_id) for _, task_id, job_id in rows if job_id not in live]
    enqueue.enqueue_materialise_many(lost)  # at the end: a batch's job gets all its tasks
    return len(lost)


def recover_stuck(now, stuck_after: int) -> int:
    """Running tasks with no heartbeat for `stuck_after` seconds: their worker died."""
    count = 0
    limit = now - timedelta(seconds=stuck_after)
    for task_id in ColisTask.objects.filter(status__in=RUNNING, heartbeat_at__lte=limit
                                            ).values_list("task_id", flat=True)[:1000]:
        with transaction.atomic():
            task = ColisTask.objects.locked().get(task_id=task_id)
            if task.status not in RUNNING or task.heartbeat_at > limit:
                continue
            task.retry_count += 1
            states.transition(task, Status.PENDING, rq_job_id=enqueue.job_id(task),
                              message="resumed")
            enqueue.materialise_on_commit(task)
        count += 1
    return count


def run_due_retries(now) -> int:
    count = 0
    for task_id in ColisTask.objects.filter(status=Status.FAILED_RETRY, next_retry_at__lte=now
                                            ).values_list("task_id", flat=True)[:1000]:
        with transaction.atomic():
            task = ColisTask.objects.locked().get(task_id=task_id)
            if task.status != Status.FAILED_RETRY:
                continue
            states.transition(task, Status.PENDING, rq_job_id=enqueue.job_id(task),
                              next_retry_at=None, message="retry_scheduled")
            enqueue.materialise_on_commit(task)
        count += 1
    return count


def requeue_notifications(now, grace: int) -> int:
    """Registration notices no job will send (Redis lost or refused it): queue them again."""
    colis_ids = forgotten(now, max(grace, 60))
    for colis_id in colis_ids:
        enqueue.enqueue_notify(colis_id, "colis_registered")
    return len(colis_ids)


ALERT_KEY = "colis:alert:{}"
ALERT_LINES = {
    "failed_final": "{count} tâches en échec définitif",
    "pending_age": "la plus ancienne tâche en attente a {seconds} s",
}


def alerts(now) -> dict[str, dict]:
    """The thresholds passed: {kind: parameters}."""
    found = {}
    failed = ColisTask.objects.filter(status=Status.FAILED_FINAL).count()
    if failed >= settings.ALERT_FAILED_FINAL:
        found["failed_final"] = {"count": failed}
    oldest = (ColisTask.objects.filter(status=Status.PENDING).order_by("created_at")
              .values_list("created_at", flat=True).first())
    if oldest and (now - oldest).total_seconds() >= settings.ALERT_PENDING_AGE:
        found["pending_age"] = {"seconds": int((now - oldest).total_seconds())}
    return found


def send_alert(kind: str, params: dict, line: str) -> bool:
    """Mail the admins and post to the webhook, unless this kind went out less than
    ALERT_EVERY seconds ago (from any sweeper); whether it went out now."""
    try:
        if not health.redis().set(ALERT_KEY.format(kind), line, nx=True, ex=settings.ALERT_EVERY):
            return False
    except RedisError:  # no shared memory of what was sent: the log line alone, no flood
        log.warning("alert %s not sent: Redis unreachable", kind)
        return False
    try:
        mail_admins(f"Colis sync: {line}", f"{line}\n\n{settings.NODE_NAME}, {timezone.now():%c}")
    except Exception:  # noqa: BLE001 - an alert must not stop the sweeper
        log.exception("alert %s: mail to ADMINS failed", kind)
    if settings.ALERT_WEBHOOK_URL:
        try:
            post_signed(settings.ALERT_WEBHOOK_URL, {
                "event": "alert", "kind": kind, "params": params, "message": line,
                "node": settings.NODE_NAME, "at": timezone.now().isoformat()})
        except Exception:  # noqa: BLE001
            log.exception("alert %s: webhook failed", kind)
    return True


def raise_alerts(now) -> list[str]:
    lines = []
    for kind, params in alerts(now).items():
        line = ALERT_LINES[kind].format(**params)
        log.warning("ALERT %s", line)
        send_alert(kind, params, line)
        lines.append(line)
    return lines


class Lease:
    """The one-sweeper lock: a Redis key set if absent (SET NX), expiring after `ttl`
    seconds unless its holder renews it; its value names the holder."""

    KEY = "colis:sweeper:lock"

    def __init__(self, ttl: int):
        self.token = f"{settings.NODE_NAME}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lock = health.redis().lock(self.KEY, timeout=ttl, blocking=False,
                                        thread_local=False)

    def hold(self) -> bool:
        """Take the lock or renew it; False while another sweeper holds it."""
        try:
            self.lock.reacquire()
            return True
        except LockError:  # not ours (never was, or it expired): take it if free
            return self.lock.acquire(token=self.token)

    def holder(self) -> str:
        value = health.redis().get(self.KEY)
        return value.decode() if value else "?"

    def release(self) -> None:
        try:
            self.lock.release()
        except (LockError, RedisError):
            pass


def sweep(*, grace: int | None = None, stuck_after: int | None = None) -> dict:
    """One pass of every duty; returns what it did."""
    now = timezone.now()
    summary = {"stuck": recover_stuck(now, settings.TASK_STUCK_AFTER
                                      if stuck_after is None else stuck_after),
               "retried": run_due_retries(now)}
    try:
        summary["requeued"] = requeue_pending(
            now, settings.PENDING_GRACE if grace is None else grace)
    except RedisError as exc:
        summary["requeued"] = 0
        summary["redis_error"] = str(exc)
    summary.update(sweep_uploads(now))
    summary["notifications_requeued"] = requeue_notifications(
        now, settings.PENDING_GRACE if grace is None else grace)
    try:
        summary["results_refreshed"] = len(figures.keep_fresh(now))
    except Exception:  # noqa: BLE001 - the figures wait for the next pass, the rest goes on
        log.exception("results: the figures could not be brought up to date")
        summary["results_refreshed"] = 0
    summary["alerts"] = raise_alerts(now)
    health.record_sweep(summary)
    return summary
