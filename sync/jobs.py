"""RQ jobs of the sync pipeline. Each takes ids, and can run twice with one effect.

`materialise` walks the task through its steps, each step a short transaction that
first checks the task is still where this job left it (another run, the sweeper or a
cancel may have moved it: then this run stops quietly). The colis and the task's
completion commit in one transaction, under a row lock on the task.
"""

import logging
import time
from collections import Counter

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from server.cargo import services

from . import enqueue, states
from .models import ColisTask, Status, colis_to_dict
from .photos import photo_fields_for

log = logging.getLogger(__name__)
S = Status


class Superseded(Exception):
    """The task moved on without this run (another run, the sweeper, a cancel)."""


def _locked(task_id: str, expected: str) -> ColisTask:
    """The task under its row lock, still where this run left it, or raise Superseded."""
    task = (ColisTask.objects.locked()
            .select_related("initiated_by", "lot").get(task_id=task_id))
    if task.status != expected:
        raise Superseded(task.status)
    return task


def _step(task_id: str, expected: str, to: str, **fields) -> ColisTask:
    """Move the task from `expected` to `to` in its own transaction, or raise Superseded."""
    with transaction.atomic():
        return states.transition(_locked(task_id, expected), to, **fields)


def claim(task_id: str) -> ColisTask | None:
    """Take a pending (or due failed_retry) task for this run; None when there is nothing to do.

    The claim commits on its own: a worker that dies after it leaves a running task whose
    heartbeat stops, which the sweeper recovers.
    """
    with transaction.atomic():
        task = (ColisTask.objects.locked()
                .select_related("initiated_by", "lot")
                .filter(task_id=task_id).first())
        if task is None or task.status not in (S.PENDING, S.FAILED_RETRY):
            return None
        return states.transition(task, S.PROCESSING, next_retry_at=None)


def claim_many(task_ids: list[str]) -> list[ColisTask]:
    """`claim` for many tasks in one transaction; those with nothing to do are left out."""
    with transaction.atomic():
        tasks = list(ColisTask.objects.locked()
                     .select_related("initiated_by", "lot")
                     .filter(task_id__in=task_ids, status__in=(S.PENDING, S.FAILED_RETRY))
                     .order_by("pk"))
        states.transition_many(tasks, [S.PROCESSING], next_retry_at=None)
    return tasks


def materialise(task_id: str) -> str:
    """Create or update the colis of a task. Returns what became of it (for logs)."""
    task = claim(task_id)
    if task is None:
        return "skipped"
    return _run(task)


def materialise_many(task_ids: list[str]) -> dict:
    """The tasks of one device batch. Its creates go together: one claim, their photos'
    step in one transaction and then each photo processed (`_photos_together`), and one
    transaction that makes all their colis. A task that this refuses (invalid, lot closed)
    and the updates then go one by one, as `materialise` takes them.
    Returns how many ended each way (for logs)."""
    task_ids = [str(t) for t in task_ids]
    creates = {str(t) for t in ColisTask.objects.filter(
        task_id__in=task_ids, operation=ColisTask.Operation.CREATE,
    ).values_list("task_id", flat=True)} if len(task_ids) > 1 else set()
    claimed = claim_many(sorted(creates))
    outcomes = dict.fromkeys(creates, "skipped")  # not claimed: another run has them
    photos = _photos_together([t for t in claimed if t.photo_id])
    try:
        outcomes.update(_create_together(
            [t for t in claimed if not t.photo_id or str(t.task_id) in photos], photos))
    except Exception:  # noqa: BLE001 - a deadlock victim, say: each alone, with its retries
        log.exception("batch of %d tasks failed together; one by one", len(claimed))
    for task in claimed:
        if outcomes[str(task.task_id)] == "skipped":  # refused together, or all failed
            outcomes[str(task.task_id)] = _run(task, photos.get(str(task.task_id)))
    for task_id in task_ids:
        if task_id not in creates:
            outcomes[task_id] = materialise(task_id)
    return dict(Counter(outcomes.values()))


def _photos_together(claimed: list[ColisTask]) -> dict[str, dict]:
    """The photo step of claimed creates: those whose data holds (no photo work for a lost
    cause) move to image_uploading in one transaction, then each photo is processed and
    stored. {task_id: the colis' photo fields}; a task left out stays processing, for
    `_run`. A run that dies here leaves its tasks to the sweeper (their heartbeat stops);
    the next run processes the photos again, under the same file names."""
    valid = []
    for task in claimed:
        try:
            services.clean_colis(task.colis_data, lot=task.lot)
        except services.DomainError:
            continue
        valid.append(task.task_id)
    if not valid:
        return {}
    with transaction.atomic():
        tasks = list(ColisTask.objects.locked()
                     .select_related("initiated_by").filter(task_id__in=valid,
                                                            status=S.PROCESSING)
                     .order_by("pk"))
        states.transition_many(tasks, [S.IMAGE_UPLOADING])
    return {str(task.task_id): photo_fields_for(task) for task in tasks}


def _create_together(claimed: list[ColisTask], photos: dict[str, dict]) -> dict:
    """The colis of claimed creates in one transaction, those with a photo with its fields
    (`photos`, by task id); {task_id: status} for those made (the others stay claimed, for
    `_run`). Each task is taken only if it is still where this run left it."""
    if not claimed:
        return {}
    if settings.FAULT_DRILL_STEP_DELAY:  # fault drills: a window to kill the worker mid-job
        time.sleep(settings.FAULT_DRILL_STEP_DELAY)
    with transaction.atomic():
        tasks = [t for t in ColisTask.objects.locked()
                 .select_related("initiated_by", "lot")
                 .filter(task_id__in=[t.task_id for t in claimed],
                         status__in=(S.PROCESSING, S.IMAGE_UPLOADING)).order_by("pk")
                 if t.status == (S.IMAGE_UPLOADING if str(t.task_id) in photos else S.PROCESSING)]
        made = services.create_colis_many([(t.initiated_by, t.colis_data, t.lot,
                                            _photo_fields(t, photos)) for t in tasks])
        done = [(t, c) for t, c in zip(tasks, made, strict=True) if not isinstance(c, services.DomainError)]
        for task, colis in done:
            task.colis = colis
        states.transition_many([t for t, _ in done], [S.PRICE_CALCULATING, S.NOTIFICATION_SENDING,
                                                      S.COMPLETED], saved=["colis"],
                               error_code="", error_message="", errors={})
        enqueue.notify_many_on_commit([c.pk for _, c in done], "colis_registered")
    return {str(t.task_id): S.COMPLETED for t, _ in done}


def _photo_fields(task: ColisTask, photos: dict[str, dict]) -> dict:
    """The photo fields of the colis a claimed create makes together with others."""
    if not task.photo_id:
        return {}
    return {"photo_id": task.photo_id, **photos[str(task.task_id)]}


def _run(task: ColisTask, photo: dict | None = None) -> str:
    """The steps after the claim, for one task (`photo`: its photo fields when the batch's
    photo step made them already); what became of it."""
    task_id = str(task.task_id)
    try:
        if task.operation == ColisTask.Operation.CREATE:
            _create(task, photo)
        else:
            _update(task)
        return S.COMPLETED
    except Superseded as exc:
        log.info("task %s moved on (%s): this run stops", task_id, exc)
        return "superseded"
    except services.VersionConflict as exc:
        return _fail(task_id, final=True, code=exc.code, message=exc.code,
                     errors={**exc.errors, "current": colis_to_dict(exc.current)})
    except services.DomainError as exc:
        code = "lot_closed" if "lot_closed" in exc.errors.get("lot", []) else exc.code
        return _fail(task_id, final=True, code=code, message=code, errors=exc.errors)
    except (DatabaseError, OSError) as exc:
        log.warning("task %s: transient error %r", task_id, exc)
        return _fail(task_id, final=False, code="transient", message=str(exc)[:500])
    except Exception as exc:  # noqa: BLE001 - a bug must not leave the task running forever
        log.exception("task %s: unexpected error", task_id)
        return _fail(task_id, final=True, code="internal_error", message=repr(exc)[:500])


def _create(task: ColisTask, photo: dict | None = None) -> None:
    """Without a photo: one transaction after the claim. With one: the photo step first
    (unless the batch did it: `photo` given), whose outcome (ready, failed, awaiting) is the
    photo's alone: the colis is made."""
    status = S.PROCESSING if photo is None else S.IMAGE_UPLOADING
    if task.photo_id and photo is None:
        services.clean_colis(task.colis_data, lot=task.lot)  # no photo work for a lost cause
        _step(task.task_id, status, S.IMAGE_UPLOADING)
        status = S.IMAGE_UPLOADING
        photo = photo_fields_for(task)
    photo = photo or {}
    if settings.FAULT_DRILL_STEP_DELAY:  # fault drills: a window to kill the worker mid-job
        time.sleep(settings.FAULT_DRILL_STEP_DELAY)
    with transaction.atomic():
        task = _locked(task.task_id, status)
        states.transition(task, S.PRICE_CALCULATING, stamp=False)
        colis = services.create_colis(task.initiated_by, task.colis_data, lot=task.lot,
                                      photo_id=task.photo_id, photo=photo)
        _finish(task, colis, event="colis_registered")


def _update(task: ColisTask) -> None:
    """One transaction. A `photo_id` becomes the colis' next photo, which attach_photo makes
    its photo once the upload is there (queued here for an upload that came first): the
    update never waits for it, nor fails for it (sync/photos.py)."""
    with transaction.atomic():
        task = _locked(task.task_id, S.PROCESSING)
        states.transition(task, S.PRICE_CALCULATING, stamp=False)
        colis = services.update_colis(task.colis_data["colis"], task.base_version,
                                      task.colis_data, task.initiated_by,
                                      photo_id=task.photo_id)
        if task.photo_id:
            enqueue.attach_on_commit(str(task.photo_id))
        _finish(task, colis, event="colis_updated")


def _finish(task: ColisTask, colis, event: str) -> None:
    """Inside the final transaction: notification queued on commit, task completed."""
    states.transition(task, S.NOTIFICATION_SENDING, colis=colis, stamp=False)
    enqueue.notify_on_commit(colis.pk, event)
    states.transition(task, S.COMPLETED, colis=colis, error_code="", error_message="",
                      errors={})


def _fail(task_id: str, *, final: bool, code: str, message: str, errors: dict | None = None
          ) -> str:
    """Record a failure: final for data errors, else retried on the backoff until max_retries."""
    with transaction.atomic():
        task = ColisTask.objects.locked().get(task_id=task_id)
        if task.is_terminal:
            return task.status
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
        return task.status

