"""The task state machine: every status change goes through `transition`.

An illegal change raises; every change is kept as a TaskEvent row and moves the
task in the changes feed.
"""

from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import changes
from .models import ColisTask, Status, TaskEvent

S = Status
ALLOWED: dict[str, frozenset] = {
    S.PENDING: frozenset({S.PROCESSING, S.CANCELLED, S.FAILED_FINAL, S.COMPLETED}),
    S.PROCESSING: frozenset({S.IMAGE_UPLOADING, S.PRICE_CALCULATING, S.FAILED_RETRY,
                             S.FAILED_FINAL, S.FAILED, S.PENDING}),
    S.IMAGE_UPLOADING: frozenset({S.PRICE_CALCULATING, S.FAILED_RETRY, S.FAILED_FINAL, S.FAILED,
                                  S.PENDING}),
    S.PRICE_CALCULATING: frozenset({S.NOTIFICATION_SENDING, S.COMPLETED, S.FAILED_RETRY,
                                    S.FAILED_FINAL, S.FAILED, S.PENDING}),
    S.NOTIFICATION_SENDING: frozenset({S.COMPLETED, S.FAILED_RETRY, S.FAILED_FINAL, S.FAILED,
                                       S.PENDING}),
    S.FAILED: frozenset({S.PENDING, S.CANCELLED, S.FAILED_FINAL}),
    S.FAILED_RETRY: frozenset({S.PENDING, S.PROCESSING, S.CANCELLED, S.FAILED_FINAL}),
    S.FAILED_FINAL: frozenset({S.PENDING, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}
STEPS = {  # status → (its step's code, progress); server/codes.py says the step to people
    status: (status.value, progress) for status, progress in [
        (S.PENDING, 0), (S.PROCESSING, 10), (S.IMAGE_UPLOADING, 30), (S.PRICE_CALCULATING, 60),
        (S.NOTIFICATION_SENDING, 85), (S.COMPLETED, 100), (S.FAILED, None),
        (S.FAILED_RETRY, None), (S.FAILED_FINAL, None), (S.CANCELLED, None)]
}


class IllegalTransition(Exception):
    def __init__(self, task: ColisTask, to: str):
        self.task, self.to = task, to
        super().__init__(f"task {task.task_id}: {task.status} → {to} is not allowed")


def can_transition(task: ColisTask, to: str) -> bool:
    return to in ALLOWED[task.status]


STATE_FIELDS = ["status", "current_step", "progress_percentage", "started_at", "completed_at",
                "heartbeat_at", "change_seq", "updated_at"]


def transition(task: ColisTask, to: str, *, by=None, message: str = "", stamp: bool = True,
               **fields) -> ColisTask:
    """Move `task` (a row the caller holds, in its transaction) to `to`, recording the event.

    `fields` are other task fields saved with the change (errors, colis, times…). Several
    transitions in one transaction need one feed position: `stamp=False` on all but the last.
    """
    event = _apply(task, to, timezone.now(), by, message, fields)
    if stamp:
        changes.stamp(task)
    task.save(update_fields=_saved(fields))
    event.save()
    return task


def transition_many(tasks: list[ColisTask], steps: list[str], *, by=None, message: str = "",
                    saved: list[str] = (), **fields) -> None:
    """Move each of `tasks` (rows the caller holds, in its transaction) through `steps`, as
    `transition` would one by one: one feed allocation, one INSERT of events, and one UPDATE
    (Django's bulk_update, a CASE per row and field, costs more than the rest of the job).
    `fields` are set on every task (an F() expression is written as such, and left on the
    objects unevaluated); `saved` names fields the caller set on each already."""
    if not tasks:
        return
    now, events = timezone.now(), []
    for task in tasks:
        events += [_apply(task, to, now, by, message, fields) for to in steps]
    offset = changes.stamp_by_id(tasks)
    same = {name: getattr(tasks[0], name) for name in
            ("status", "current_step", "heartbeat_at", "updated_at")}
    if STEPS[steps[-1]][1] is not None:  # a failure keeps each task's own progress
        same["progress_percentage"] = STEPS[steps[-1]][1]
    if steps[-1] in (S.COMPLETED, S.FAILED_FINAL, S.CANCELLED):
        same["completed_at"] = now
    if S.PROCESSING in steps:
        same["started_at"] = Coalesce("started_at", Value(now))
    ColisTask.objects.filter(pk__in=[t.pk for t in tasks]).update(
        **{**same, **fields}, change_seq=F("id") + offset)
    if saved:
        ColisTask.objects.bulk_update(tasks, list(saved))
    TaskEvent.objects.bulk_create(events)


def _saved(fields: dict) -> list[str]:
    return [*STATE_FIELDS, *(name for name in fields if name not in STATE_FIELDS)]


def _apply(task: ColisTask, to: str, now, by, message: str, fields: dict) -> TaskEvent:
    """Change `task` in memory (raising on an illegal move); the event to record."""
    if not can_transition(task, to):
        raise IllegalTransition(task, to)
    step, progress = STEPS[to]
    previous = task.status
    task.status = to
    task.current_step = fields.get("current_step", step)
    if progress is not None:
        task.progress_percentage = progress
    if to == S.PROCESSING and task.started_at is None:
        task.started_at = now
    if to in (S.COMPLETED, S.FAILED_FINAL, S.CANCELLED):
        task.completed_at = now
    task.heartbeat_at = task.updated_at = now
    for name, value in fields.items():
        setattr(task, name, value)
    return TaskEvent(task=task, from_status=previous, to_status=to, at=now, by=by,
                     message=message[:2000])
