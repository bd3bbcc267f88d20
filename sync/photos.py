"""A colis and its photo, linked whichever arrives first.

The photo travels on its own (sync/tus.py) and is named by the device's `photo_id`.
- Photo first: the materialise job's image_uploading step calls `photo_fields_for`.
- Colis first: it is created with photo_status "awaiting"; when the upload completes,
  `attach_photo` processes the photo, attaches it and moves the create task in the
  changes feed so the device hears of it.
- Both at once (the upload completes while the colis is still uncommitted):
  `sweep_uploads` re-enqueues `attach_photo` for awaiting colis whose upload is complete.

Files are kept under names the server chooses, one image and one thumbnail per
(owner, photo_id): processing the same photo again replaces them.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from redis.exceptions import RedisError
from rq.job import Job, JobStatus

from server.cargo.models import Colis

from . import changes, enqueue, images
from .enqueue import attach_on_commit
from .images import PhotoRejected
from .models import ColisTask, Upload

__all__ = ["PhotoRejected", "attach_on_commit", "attach_photo", "photo_fields_for",
           "sweep_uploads"]

log = logging.getLogger(__name__)
P = Colis.Photo
# A finished upload no colis has claimed is kept this long (the device may send the colis late).
UNCLAIMED_KEEP = timedelta(days=7)
LIVE_JOB = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def image_names(owner_id: int, photo_id) -> tuple[str, str]:
    """Storage names of a photo's image and thumbnail: chosen here, never by the device."""
    return f"colis/{owner_id}-{photo_id}.jpg", f"colis/thumbs/{owner_id}-{photo_id}.jpg"


def complete_upload(owner_id: int, photo_id) -> Upload | None:
    return (Upload.objects.filter(owner_id=owner_id, photo_id=photo_id,
                                  completed_at__isnull=False)
            .order_by("-completed_at").first())


def store_photo(owner_id: int, photo_id, upload: Upload) -> dict:
    """Process an upload and store the result: the colis fields to set. Raises PhotoRejected."""
    try:
        with default_storage.open(upload.temp_name, "rb") as fh:
            data = fh.read(settings.TUS_MAX_SIZE + 1)
    except FileNotFoundError as exc:
        raise PhotoRejected("La photo reçue est introuvable sur le serveur : renvoyez-la.") from exc
    processed = images.process(data)
    image_name, thumb_name = image_names(owner_id, photo_id)
    return {"image": _replace(image_name, processed.image),
            "thumbnail": _replace(thumb_name, processed.thumbnail),
            "photo_status": P.READY, "photo_error": ""}


def _replace(name: str, data: bytes) -> str:
    default_storage.delete(name)  # else the storage would pick a new name beside the old file
    return default_storage.save(name, ContentFile(data))


def photo_fields_for(task: ColisTask) -> dict:
    """Photo fields for the colis a create task is about to make (see sync/jobs.py)."""
    upload = complete_upload(task.initiated_by_id, task.photo_id)
    if upload is None:
        return {"photo_status": P.AWAITING}
    return store_photo(task.initiated_by_id, task.photo_id, upload)


def attach_photo(photo_id: str) -> str:
    """RQ job: attach a completed upload to the colis waiting for it. Safe to run twice."""
    results = [_attach(pk) for pk in Colis.objects.filter(photo_id=photo_id)
               .values_list("pk", flat=True)]
    return ",".join(results) or "no colis yet"


def _attach(colis_id: int) -> str:
    colis = Colis.objects.filter(pk=colis_id).first()
    if colis is None or colis.photo_status in (P.NONE, P.READY):
        return "nothing to do"
    upload = complete_upload(colis.created_by_id, colis.photo_id)
    if upload is None or not _claim(colis_id):
        return "not claimed"
    try:
        fields = store_photo(colis.created_by_id, colis.photo_id, upload)
    except PhotoRejected as exc:  # the photo fails, the colis stays
        fields = {"photo_status": P.FAILED, "photo_error": exc.message[:200]}
    _finish(colis_id, fields)
    return fields["photo_status"]


def _claim(colis_id: int) -> bool:
    """Move the colis to processing unless another run holds it (a stale hold is taken over)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.TASK_STUCK_AFTER)
    claimable = Q(photo_status__in=[P.AWAITING, P.FAILED]) | Q(photo_status=P.PROCESSING,
                                                              updated_at__lte=stale)
    return Colis.objects.filter(claimable, pk=colis_id).update(
        photo_status=P.PROCESSING, updated_at=now) == 1


def _finish(colis_id: int, fields: dict) -> None:
    """Save the photo fields and move the colis' tasks in the changes feed, in one commit."""
    with transaction.atomic():
        # Lock order as in sync/jobs.py (task, then colis, then the feed counter): no deadlock.
        tasks = list(ColisTask.objects.select_for_update(no_key=True).filter(colis_id=colis_id)
                     .order_by("pk"))
        colis = Colis.objects.select_for_update(no_key=True).get(pk=colis_id)
        if colis.photo_status != P.PROCESSING:
            return  # another run finished first
        for name, value in fields.items():
            setattr(colis, name, value)
        colis.save(update_fields=[*fields, "updated_at"])
        for task in tasks:
            changes.stamp(task)
            task.save(update_fields=["change_seq", "updated_at"])


def sweep_uploads(now=None) -> dict:
    """Sweeper duty: drop expired or used uploads; re-enqueue photos left waiting."""
    now = now or timezone.now()
    expired = Upload.objects.filter(completed_at__isnull=True, expires_at__lte=now)
    colis = Colis.objects.filter(photo_id=OuterRef("photo_id"), created_by=OuterRef("owner"))
    used = Upload.objects.filter(completed_at__isnull=False).filter(
        Exists(colis.filter(photo_status=P.READY))
        | Q(completed_at__lte=now - UNCLAIMED_KEEP)
        & ~Exists(colis.filter(photo_status__in=[P.AWAITING, P.PROCESSING])))
    summary = {"uploads_expired": _delete_uploads(expired), "uploads_used": _delete_uploads(used)}
    try:
        summary["photos_requeued"] = _requeue_waiting(now)
    except RedisError as exc:
        summary["photos_requeued"] = 0
        summary["photos_redis_error"] = str(exc)
    return summary


def _delete_uploads(queryset) -> int:
    count = 0
    for upload in queryset[:1000]:
        default_storage.delete(upload.temp_name)
        upload.delete()
        count += 1
    return count


def _requeue_waiting(now) -> int:
    """Awaiting (or stuck processing) colis whose upload is complete get attach_photo again."""
    stale = now - timedelta(seconds=settings.TASK_STUCK_AFTER)
    uploaded = Upload.objects.filter(owner=OuterRef("created_by"), photo_id=OuterRef("photo_id"),
                                     completed_at__isnull=False)
    photo_ids = {str(p) for p in Colis.objects.filter(
        Q(photo_status=P.AWAITING) | Q(photo_status=P.PROCESSING, updated_at__lte=stale),
        Exists(uploaded)).values_list("photo_id", flat=True)[:1000]}
    if settings.COLIS_ASYNC and photo_ids:
        photo_ids -= _live(photo_ids)
    for photo_id in photo_ids:
        enqueue.enqueue_attach(photo_id)
    return len(photo_ids)


def _live(photo_ids: set[str]) -> set[str]:
    """Photos whose attach job is already waiting or running: not enqueued twice."""
    ids = sorted(photo_ids)
    jobs = Job.fetch_many([enqueue.attach_job_id(p) for p in ids],
                          connection=enqueue.queue("colis").connection)
    return {p for p, job in zip(ids, jobs, strict=True)
            if job is not None and job.get_status() in LIVE_JOB}
