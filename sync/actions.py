"""What people do to tasks: retry (with corrected data) and cancel, each when sync.allowed
says so; and an edit of a colis made on the server. The API, the pages and the admin call these."""

import uuid

from django.db import transaction
from django.db.models import F

from server import codes, inputs
from server.cargo import leases, services
from server.cargo.models import Colis

from . import allowed, changes, enqueue, states
from .ingest import Known, _check_create, _check_update, _unstorable_errors
from .models import CancelReason, ColisTask, Status


class NotAllowed(Exception):
    """The task is not in a state that allows this action (HTTP 409). `code` names why
    (see allowed.refusal_code), for the pages and the tablet to say it in their language."""

    def __init__(self, task: ColisTask, action: str):
        self.task, self.action = task, action
        self.code = allowed.refusal_code(task)
        super().__init__(f"{action} is not allowed on a task {task.status}"
                         + (f" ({task.error_code})" if task.error_code else ""))

    @property
    def message(self) -> str:
        return allowed.refusal_message(self.code, self.action)


def _check(task: ColisTask, action: str) -> None:
    if not task.allows(action):
        raise NotAllowed(task, action)


def retry_task(task_id, user, data: dict | None = None) -> ColisTask:
    """Send a failed task round again, with corrected fields merged over its payload."""
    with transaction.atomic():
        task = ColisTask.objects.locked().get(task_id=task_id)
        _check(task, allowed.RETRY_WITH_DATA if data else allowed.RETRY)
        fields: dict = {}
        if data:
            merged = {**task.colis_data, **data}
            if "lot" in data and "lot_op_id" not in data:  # a corrected lot replaces the old one
                merged.pop("lot_op_id", None)
            checked = _checked(task, data, merged)  # raises services.InvalidData
            fields = {"colis_data": merged, "lot": checked["lot"],
                      "base_version": checked.get("base_version"),
                      "photo_id": checked.get("photo_id", task.photo_id)}
        task.retry_count = 0 if data else task.retry_count + 1
        fields["rq_job_id"] = enqueue.job_id(task)
        states.transition(task, Status.PENDING, by=user, message="retried", error_code="",
                          error_message="", errors={}, next_retry_at=None, **fields)
        enqueue.materialise_on_commit(task)
    return task


def _checked(task: ColisTask, data: dict, merged: dict) -> dict:
    """The corrected payload checked as a device's item, every field's errors at once; and
    first what the ingest checks before it: `data` storable (the payload is kept whole as
    JSON), an edit left on its own colis (a correction never moves onto, nor overwrites,
    another colis)."""
    errors = _unstorable_errors({"data": data})
    if task.operation == ColisTask.Operation.UPDATE and "colis" in data and (
            isinstance(data["colis"], bool)
            or inputs.row_id(data["colis"]) != inputs.row_id(task.colis_data.get("colis"))):
        errors["colis"] = [codes.error("colis_fixed")]
    check = _check_create if task.operation == ColisTask.Operation.CREATE else _check_update
    try:  # the fields refused above are left out, so the others are still checked
        checked = check(task.initiated_by, {k: v for k, v in merged.items() if k not in errors},
                        _known(task, merged))
    except services.InvalidData as exc:
        errors = {**exc.errors, **errors}
    if errors:
        raise services.InvalidData(errors)
    return checked


def _known(task: ColisTask, merged: dict) -> Known:
    """What the check of a corrected create needs: the agent's leased numéros, the task's
    own numéro not counted as used by the task itself, judged at its save on the tablet."""
    numeros = leases.Numeros(task.initiated_by, [merged.get("numero_suivi")], exclude=task.pk)
    return Known(numeros=numeros, saved_at=task.saved_at)


def cancel_task(task_id, user, reason: str = "", superseded_by=None) -> ColisTask:
    """Cancel a task that has not started, or that failed, for `reason` (a CancelReason, or
    none given); `superseded_by` is the op_id of the item that replaces it (a resolved
    conflict's winner). The task is terminal from then on: never retried, never a failure."""
    fields = clean_cancel(reason, superseded_by)
    with transaction.atomic():
        task = ColisTask.objects.locked().get(task_id=task_id)
        _check(task, allowed.CANCEL)
        if fields["superseded_by"] == task.op_id:
            raise services.InvalidData({"superseded_by": [codes.error("superseded_by_self")]})
        return states.transition(task, Status.CANCELLED, by=user, message=fields["cancel_reason"],
                                 next_retry_at=None, **fields)


def clean_cancel(reason, superseded_by) -> dict:
    """A cancel's reason and link, checked (InvalidData with field errors otherwise)."""
    errors: dict = {}
    if reason in (None, ""):
        reason = ""
    elif not isinstance(reason, str) or reason not in CancelReason.values:
        errors["reason"] = [codes.error("choice_invalid_of", choices=", ".join(CancelReason.values))]
    link = None
    if superseded_by not in (None, ""):
        try:
            link = uuid.UUID(superseded_by) if isinstance(superseded_by, str) else None
        except ValueError:
            pass
        if link is None:
            errors["superseded_by"] = [codes.error("uuid_invalid")]
    if errors:
        raise services.InvalidData(errors)
    return {"cancel_reason": reason, "superseded_by": link}


def edit_colis(colis_id: int, base_version: int, changes_: dict, user) -> Colis:
    """Edit a colis on the server (the admin) through services.update_colis, as a tablet's
    edit is: repriced, its version bumped, a stale `base_version` refused (VersionConflict).

    Every task that names the colis moves in the changes feed (their rows are unchanged; the
    colis they carry is not), so the tablet that made the colis, and any that edited it, hear
    of its new version and price. The tasks are locked before the colis, in the job's order.
    """
    with transaction.atomic():
        tasks = list(ColisTask.objects.locked().filter(colis_id=colis_id)
                     .order_by("pk"))
        colis = services.update_colis(colis_id, base_version, changes_, user)
        changes.stamp_many(tasks)  # last: the feed counter's lock is held until the commit
        ColisTask.objects.bulk_update(tasks, ["change_seq"])
    return colis


def bulk_retry(queryset, user, chunk: int = 500) -> int:
    """Retry every failed task of `queryset` as it is; returns how many were sent round again.

    By chunks of `chunk` tasks in id order, each one transaction (the tasks under their row
    locks, one UPDATE, their events) and one job: a supervisor retrying an agent's or a
    lot's thousand failures waits for a few statements, not a thousand transactions.
    """
    ids = list(allowed.allowing(queryset, allowed.RETRY).order_by("pk")
               .values_list("pk", flat=True))
    count = 0
    for start in range(0, len(ids), chunk):
        with transaction.atomic():
            tasks = list(allowed.allowing(ColisTask.objects.locked().filter(
                pk__in=ids[start:start + chunk]), allowed.RETRY).order_by("pk"))
            states.transition_many(
                tasks, [Status.PENDING], by=user, message="retried", error_code="",
                error_message="", errors={}, next_retry_at=None,
                retry_count=F("retry_count") + 1, rq_job_id=enqueue.batch_job_id())
            enqueue.materialise_many_on_commit(tasks)
        count += len(tasks)
    return count
