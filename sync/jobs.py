"""RQ jobs of the sync pipeline. Each takes ids, and can run twice with one effect.

`materialise` walks the task through its steps, each step a short transaction that
first checks the task is still where this job left it (another run, the sweeper or a
cancel may have moved it: then this run stops quietly). The colis and the task's
completion commit in one transaction, under a row lock on the task.
"""

import logging
import time

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from server.cargo import services
from server.cargo.models import Lot

from . import enqueue, states
from .models import ColisTask, Status
from .photos import PhotoRejected, photo_fields_for

log = logging.getLogger(__name__)
S = Status


class Superseded(Exception):
    """The task moved on without this run (another run, the sweeper, a cancel)."""


def _step(task_id: str, expected: str, to: str, **fields) -> ColisTask:
    """Move the task from `expected` to `to` in its own transaction, or raise Superseded."""
    with transaction.atomic():
        task = ColisTask.objects.select_for_update(no_key=True).get(task_id=task_id)
        if task.status != expected:
            raise Superseded(task.status)
        return states.transition(task, to, **fields)


def claim(task_id: str) -> ColisTask | None:
    """Take a pending (or due failed_retry) task for this run; None when there is nothing to do."""
    with transaction.atomic():
        task = (ColisTask.objects.select_for_update(of=("self",), no_key=True)
                .select_related("initiated_by", "lot")
                .filter(task_id=task_id).first())
        if task is None or task.status not in (S.PENDING, S.FAILED_RETRY):
            return None
        return states.transition(task, S.PROCESSING, next_retry_at=None)


def materialise(task_id: str) -> str:
    """Create or update the colis of a task. Returns the task's final status (for logs)."""
    task = claim(task_id)
    if task is None:
        return "skipped"
    try:
        if task.operation == ColisTask.Operation.CREATE:
            _create(task)
        else:
            _update(task)
    except Superseded as exc:
        log.info("task %s moved on (%s): this run stops", task_id, exc)
        return "superseded"
    except services.VersionConflict as exc:
        _fail(task_id, final=True, code=exc.code, message="La fiche a changé entre-temps.",
              errors={**exc.errors, "current": exc.current and _colis_view(exc.current)})
    except services.DomainError as exc:
        code = "lot_closed" if "lot_closed" in exc.errors.get("lot", []) else exc.code
        _fail(task_id, final=True, code=code, message=MESSAGES.get(code, MESSAGES["invalid"]),
              errors=exc.errors)
    except PhotoRejected as exc:
        _fail(task_id, final=True, code="photo_rejected", message=exc.message)
    except (DatabaseError, OSError) as exc:
        log.warning("task %s: transient error %r", task_id, exc)
        _fail(task_id, final=False, code="transient", message=str(exc)[:500])
    except Exception as exc:  # noqa: BLE001 - a bug must not leave the task running forever
        log.exception("task %s: unexpected error", task_id)
        _fail(task_id, final=True, code="internal_error", message=repr(exc)[:500])
    return ColisTask.objects.values_list("status", flat=True).get(task_id=task_id)


def _create(task: ColisTask) -> None:
    data = task.colis_data
    lot = Lot.objects.get(pk=task.lot_id)
    clean = services.clean_colis(data, lot=lot)  # the lot may have closed since ingest
    photo_fields: dict = {}
    status = S.PROCESSING
    if task.photo_id:
        _step(task.task_id, status, S.IMAGE_UPLOADING)
        status = S.IMAGE_UPLOADING
        photo_fields = photo_fields_for(task)
    _step(task.task_id, status, S.PRICE_CALCULATING)
    quote = services.price_colis(clean["type_transport"], clean)
    if settings.FAULT_DRILL_STEP_DELAY:  # fault drills: a window to kill the worker mid-job
        time.sleep(settings.FAULT_DRILL_STEP_DELAY)
    with transaction.atomic():
        task = ColisTask.objects.select_for_update(no_key=True).get(task_id=task.task_id)
        if task.status != S.PRICE_CALCULATING:
            raise Superseded(task.status)
        colis = services.create_colis(task.initiated_by, data, lot=lot, photo_id=task.photo_id,
                                      quote=quote)
        if photo_fields:
            for name, value in photo_fields.items():
                setattr(colis, name, value)
            colis.save(update_fields=[*photo_fields, "updated_at"])
        _finish(task, colis, event="colis_registered")


def _update(task: ColisTask) -> None:
    data = task.colis_data
    _step(task.task_id, S.PROCESSING, S.PRICE_CALCULATING)
    with transaction.atomic():
        task = ColisTask.objects.select_for_update(no_key=True).get(task_id=task.task_id)
        if task.status != S.PRICE_CALCULATING:
            raise Superseded(task.status)
        colis = services.update_colis(data["colis"], task.base_version, data, task.initiated_by)
        _finish(task, colis, event="colis_updated")


def _finish(task: ColisTask, colis, event: str) -> None:
    """Inside the final transaction: notification queued on commit, task completed."""
    states.transition(task, S.NOTIFICATION_SENDING, colis=colis)
    enqueue.notify_on_commit(colis.pk, event)
    states.transition(task, S.COMPLETED, colis=colis, error_code="", error_message="",
                      errors={})


def _fail(task_id: str, *, final: bool, code: str, message: str, errors: dict | None = None
          ) -> None:
    """Record a failure: final for data errors, else retried on the backoff until max_retries."""
    with transaction.atomic():
        task = ColisTask.objects.select_for_update(no_key=True).get(task_id=task_id)
        if task.is_terminal:
            return
        fields = {"error_code": code, "error_message": message, "errors": errors or {}}
        if not final and task.retry_count < task.max_retries:
            backoff = settings.RETRY_BACKOFF
            delay = backoff[min(task.retry_count, len(backoff) - 1)]
            retry_count = task.retry_count + 1
            states.transition(task, S.FAILED_RETRY, message=message, retry_count=retry_count,
                              next_retry_at=timezone.now() + timezone.timedelta(seconds=delay),
                              **fields)
        else:
            if not final:
                fields["error_code"] = "retries_exhausted"
            states.transition(task, S.FAILED_FINAL, message=message, next_retry_at=None,
                              **fields)


MESSAGES = {
    "lot_closed": "Le lot est fermé : choisissez un autre lot.",
    "invalid": "Données invalides : corrigez les champs signalés.",
}


def _colis_view(colis) -> dict:
    from .models import colis_to_dict

    return colis_to_dict(colis)
