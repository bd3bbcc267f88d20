"""What people do to tasks: retry (with corrected data) and cancel. API and pages call these."""

from django.db import transaction
from django.db.models import F

from . import enqueue, states
from .ingest import _check_create, _check_update
from .models import FAILED_STATES, ColisTask, Status

CANCELLABLE = frozenset({Status.PENDING}) | FAILED_STATES


class NotAllowed(Exception):
    """The task is not in a state that allows this action (HTTP 409)."""


def retry_task(task_id, user, data: dict | None = None) -> ColisTask:
    """Send a failed task round again, with corrected fields merged over its payload."""
    with transaction.atomic():
        task = ColisTask.objects.select_for_update(no_key=True).get(task_id=task_id)
        if task.status not in FAILED_STATES:
            raise NotAllowed(f"retry is not allowed from {task.status}")
        fields: dict = {}
        if data:
            merged = {**task.colis_data, **data}
            if "lot" in data and "lot_op_id" not in data:  # a corrected lot replaces the old one
                merged.pop("lot_op_id", None)
            check = _check_create if task.operation == ColisTask.Operation.CREATE else _check_update
            checked = check(task.initiated_by, merged)  # raises services.InvalidData
            fields = {"colis_data": merged, "lot": checked["lot"],
                      "base_version": checked.get("base_version"),
                      "photo_id": checked.get("photo_id", task.photo_id)}
        task.retry_count = 0 if data else task.retry_count + 1
        fields["rq_job_id"] = enqueue.job_id(task)
        states.transition(task, Status.PENDING, by=user, message="Relancée", error_code="",
                          error_message="", errors={}, next_retry_at=None, **fields)
        enqueue.materialise_on_commit(task)
    return task


def cancel_task(task_id, user) -> ColisTask:
    """Cancel a task that has not started, or that failed."""
    with transaction.atomic():
        task = ColisTask.objects.select_for_update(no_key=True).get(task_id=task_id)
        if task.status not in CANCELLABLE:
            raise NotAllowed(f"cancel is not allowed from {task.status}")
        return states.transition(task, Status.CANCELLED, by=user, message="Annulée",
                                 next_retry_at=None)


def bulk_retry(queryset, user, chunk: int = 500) -> int:
    """Retry every failed task of `queryset` as it is; returns how many were sent round again.

    By chunks of `chunk` tasks in id order, each one transaction (the tasks under their row
    locks, one UPDATE, their events) and one job: a supervisor retrying an agent's or a
    lot's thousand failures waits for a few statements, not a thousand transactions.
    """
    ids = list(queryset.filter(status__in=FAILED_STATES).order_by("pk")
               .values_list("pk", flat=True))
    count = 0
    for start in range(0, len(ids), chunk):
        with transaction.atomic():
            tasks = list(ColisTask.objects.select_for_update(no_key=True).filter(
                pk__in=ids[start:start + chunk], status__in=FAILED_STATES).order_by("pk"))
            states.transition_many(
                tasks, [Status.PENDING], by=user, message="Relancée", error_code="",
                error_message="", errors={}, next_retry_at=None,
                retry_count=F("retry_count") + 1, rq_job_id=enqueue.batch_job_id())
            enqueue.materialise_many_on_commit(tasks)
        count += len(tasks)
    return count
