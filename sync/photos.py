"""A colis and its photo, linked whichever arrives first.

The photo travels on its own (sync/tus.py) and is named by the device's `photo_id`.
- Photo first: the materialise job's image_uploading step calls `photo_fields_for`.
- Colis first: it is created with photo_status "awaiting"; when the upload completes,
  `attach_photo` processes the photo, attaches it and moves the create task in the
  changes feed so the device hears of it.
- Both at once (the upload completes while the colis is still uncommitted):
  `sweep_uploads` re-enqueues `attach_photo` for awaiting colis whose upload is complete.

A photo never fails its colis, in either order: a bad photo ends as photo "failed" with a
code in `photo_error` (images.py's codes, MISSING, GAVE_UP), and the colis is made all the
same. Anything else that goes wrong on the way (storage unreachable, a worker short of
memory or killed) leaves the photo awaiting for the sweeper, which sends it round again
until it has been claimed PHOTO_MAX_ATTEMPTS times, then fails it with GAVE_UP. A photo
refused for its bytes (REFUSED) keeps none of them: the sweeper deletes its upload at its
next pass, as it does a ready photo's (`sweep_uploads`).

A photo later (an update's `photo_id`: a photo added, or one replacing a forgotten or
blurry one) waits in the colis' next slot, `photo_next_*`, while the photo in place stays
shown. Once ready it takes that place in one commit (photo_id, image, thumbnail, status
ready), its slot is emptied and the old files are deleted. Refused or given up, it stays in
its slot as "failed" with its code in `photo_next_error`, and the photo in place is
untouched. Both slots go the same way through the claim, the attempts and the sweeper
(`Slot`); `attach_photo` serves both, in either order of the upload and the update.

Files are kept under names the server chooses, one image and one thumbnail per
(owner, photo_id): processing the same photo again replaces them. They are private:
server/photos.py serves them to who may see the colis. Raw uploads are read from their
own storage (sync/uploads.py), never served.
"""

import logging
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from redis.exceptions import RedisError
from rq.job import Job, JobStatus

from server.cargo.models import Colis

from . import changes, enqueue, images, uploads
from .enqueue import attach_on_commit
from .images import PhotoRejected
from .models import ColisTask, Upload

__all__ = ["PhotoRejected", "attach_on_commit", "attach_photo", "photo_fields_for",
           "sweep_uploads"]

log = logging.getLogger(__name__)
P = Colis.Photo
# A finished upload no colis has claimed is kept this long (the device may send the colis late).
UNCLAIMED_KEEP = timedelta(days=7)
MISSING = "photo_missing"  # the upload's file is gone from the storage: send it again
GAVE_UP = "photo_gave_up"  # PHOTO_MAX_ATTEMPTS attempts, none got to an answer
# A photo refused for what its bytes are: no attempt at the same bytes will ever do better.
REFUSED = (images.EMPTY, images.NOT_IMAGE, images.UNREADABLE, images.TOO_BIG)
HELD = Q(photo_status=P.PROCESSING)
LIVE_JOB = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def image_names(owner_id: int, photo_id) -> tuple[str, str]:
    """Storage names of a photo's image and thumbnail: chosen here, never by the device."""
    return f"colis/{owner_id}-{photo_id}.jpg", f"colis/thumbs/{owner_id}-{photo_id}.jpg"


def complete_upload(owner_id: int, photo_id) -> Upload | None:
    return (Upload.objects.filter(owner_id=owner_id, photo_id=photo_id,
                                  completed_at__isnull=False)
            .order_by("-completed_at").first())


def store_photo(owner_id: int, photo_id, upload: Upload) -> dict:
    """Process an upload and store the result: the colis fields to set. Raises PhotoRejected
    for a bad photo; a storage error (or MemoryError) passes through."""
    try:
        with uploads.storage().open(upload.temp_name, "rb") as fh:
            data = fh.read(settings.TUS_MAX_SIZE + 1)
    except FileNotFoundError as exc:
        raise PhotoRejected(MISSING) from exc
    if data and not uploads.is_image(data[:uploads.HEAD_BYTES]):
        raise PhotoRejected(images.NOT_IMAGE)  # as the upload was told (sync/tus.py)
    processed = images.process(data)
    image_name, thumb_name = image_names(owner_id, photo_id)
    return {"image": _replace(image_name, processed.image),
            "thumbnail": _replace(thumb_name, processed.thumbnail),
            "photo_status": P.READY, "photo_error": ""}


def _replace(name: str, data: bytes) -> str:
    default_storage.delete(name)  # else the storage would pick a new name beside the old file
    return default_storage.save(name, ContentFile(data))


def attempt(owner_id: int, photo_id, upload: Upload) -> dict:
    """One attempt at a photo: the fields it leaves. Never raises for the photo's sake."""
    try:
        return store_photo(owner_id, photo_id, upload)
    except PhotoRejected as exc:  # the photo fails, the colis stays
        return failed(exc.code)
    except Exception:  # noqa: BLE001 - storage down, memory short: not the photo's fault,
        # and never the colis' failure; the sweeper tries again, PHOTO_MAX_ATTEMPTS times.
        log.exception("photo %s: attempt failed, left awaiting for the sweeper", photo_id)
        return {"photo_status": P.AWAITING, "photo_error": ""}


def failed(code: str) -> dict:
    return {"photo_status": P.FAILED, "photo_error": code}


class Slot(NamedTuple):
    """Where a photo waits on its colis, by the names of its fields: the colis' photo
    (CURRENT), or the next one an update sent (NEXT), which replaces it once ready."""

    id: str
    owner: str  # the user whose upload it is
    status: str
    error: str
    attempts: str

    def is_(self, *statuses) -> Q:
        return Q(**{f"{self.status}__in": statuses})

    def held(self, photo_id) -> Q:
        """A run holds this very photo (not one that took its place meanwhile)."""
        return Q(**{self.status: P.PROCESSING, self.id: photo_id})

    def outcome(self, fields: dict, photo_id) -> dict:
        """The colis fields that an attempt's result (named as CURRENT's) sets in this slot."""
        if self == CURRENT:
            return fields
        if fields["photo_status"] == P.READY:  # the next photo takes the old one's place
            return {**fields, "photo_id": photo_id, **NO_NEXT}
        return {self.status: fields["photo_status"], self.error: fields["photo_error"]}


CURRENT = Slot("photo_id", "created_by", "photo_status", "photo_error", "photo_attempts")
NEXT = Slot("photo_next_id", "photo_next_by", "photo_next_status", "photo_next_error",
            "photo_next_attempts")
NO_NEXT = {"photo_next_id": None, "photo_next_by": None, "photo_next_status": P.NONE,
           "photo_next_error": "", "photo_next_attempts": 0}


def photo_fields_for(task: ColisTask) -> dict:
    """Photo fields for the colis a create task is about to make (see sync/jobs.py): the
    colis is made whatever becomes of its photo."""
    upload = complete_upload(task.initiated_by_id, task.photo_id)
    if upload is None:
        return {"photo_status": P.AWAITING}
    return {**attempt(task.initiated_by_id, task.photo_id, upload), "photo_attempts": 1}


def attach_photo(photo_id: str) -> str:
    """RQ job: attach a completed upload to the colis waiting for it, as its photo or as the
    next one an update sent. Safe to run twice."""
    results = [_attach(pk, slot) for slot in (CURRENT, NEXT)
               for pk in Colis.objects.filter(**{slot.id: photo_id}).values_list("pk", flat=True)]
    return ",".join(results) or "no colis yet"


def _attach(colis_id: int, slot: Slot) -> str:
    colis = Colis.objects.filter(pk=colis_id).first()
    if colis is None or getattr(colis, slot.status) in (P.NONE, P.READY):
        return "nothing to do"
    owner_id, photo_id = getattr(colis, f"{slot.owner}_id"), getattr(colis, slot.id)
    upload = complete_upload(owner_id, photo_id)
    if upload is None or not _claim(colis_id, slot, photo_id):
        return "not claimed"
    fields = attempt(owner_id, photo_id, upload)
    if not _finish(colis_id, slot.outcome(fields, photo_id), slot.held(photo_id)):
        _delete_unused([fields[f] for f in ("image", "thumbnail") if f in fields], photo_id)
    return fields["photo_status"]


def _claim(colis_id: int, slot: Slot, photo_id) -> bool:
    """Move the photo to processing unless another run holds it (a stale hold is taken over)
    or another photo took its slot. Each claim counts an attempt: the sweeper gives up after
    PHOTO_MAX_ATTEMPTS."""
    now = timezone.now()
    claimable = slot.is_(P.AWAITING, P.FAILED) | _stale_hold(now, slot)
    return Colis.objects.filter(claimable, pk=colis_id, **{slot.id: photo_id}).update(
        **{slot.status: P.PROCESSING, slot.attempts: F(slot.attempts) + 1}, updated_at=now) == 1


def _stale_hold(now, slot: Slot = CURRENT) -> Q:
    """A processing photo whose run has said nothing for TASK_STUCK_AFTER: it died."""
    return Q(**{slot.status: P.PROCESSING},
             updated_at__lte=now - timedelta(seconds=settings.TASK_STUCK_AFTER))


def _finish(colis_id: int, fields: dict, still: Q = HELD) -> bool:
    """Save the photo fields and move the colis' tasks in the changes feed, in one commit,
    if the colis still matches `still` under its row lock (else another run got there)."""
    with transaction.atomic():
        # Lock order as in sync/jobs.py (task, then colis, then the feed counter): no deadlock.
        tasks = list(ColisTask.objects.locked().filter(colis_id=colis_id)
                     .order_by("pk"))
        colis = Colis.objects.select_for_update(no_key=True).filter(still, pk=colis_id).first()
        if colis is None:
            return False  # another run finished first
        replaced = [f.name for f in (colis.image, colis.thumbnail)
                    if f.name and f.name not in (fields.get("image"), fields.get("thumbnail"))]
        if "image" in fields and replaced:  # a photo later took the place of this one
            old = colis.photo_id
            transaction.on_commit(lambda: _delete_unused(replaced, old))
        for name, value in fields.items():
            setattr(colis, name, value)
        colis.save(update_fields=[*fields, "updated_at"])
        for task in tasks:
            changes.stamp(task)
            task.save(update_fields=["change_seq", "updated_at"])
    return True


def _delete_unused(names: list[str], photo_id) -> None:
    """Delete the files of a photo no colis waits for, that no colis shows: the photo that
    a photo later replaced, or what a run stored for a photo replaced while it worked."""
    if photo_id is not None and Colis.objects.filter(
            Q(photo_id=photo_id) | Q(photo_next_id=photo_id)).exists():
        return
    for name in names:
        if not Colis.objects.filter(Q(image=name) | Q(thumbnail=name)).exists():
            default_storage.delete(name)


def sweep_uploads(now=None) -> dict:
    """Sweeper duty: drop expired or used uploads; re-enqueue photos left waiting.

    A finished upload is used once its photo is ready, or refused for good (REFUSED, on
    either slot): a refused photo's raw bytes (a truncated JPEG, GPS EXIF and all) go at
    the next pass, as a ready one's do. Not before the refusal is committed on a colis (a
    create job that rolls back reads them again), nor an upload completed after it (the
    device sent the photo again: its run is still to come), nor for a photo that may be
    tried again (awaiting after a storage error) or that gave up (GAVE_UP: its bytes were
    never refused); those stay UNCLAIMED_KEEP, as a photo no colis has claimed."""
    now = now or timezone.now()
    expired = Upload.objects.filter(completed_at__isnull=True, expires_at__lte=now)
    colis, later = (Colis.objects.filter(**{slot.id: OuterRef("photo_id"),
                                            slot.owner: OuterRef("owner")})
                    for slot in (CURRENT, NEXT))
    waiting = [P.AWAITING, P.PROCESSING]
    since = {"updated_at__gte": OuterRef("completed_at")}  # refused after the upload was done
    refused = (Exists(colis.filter(photo_status=P.FAILED, photo_error__in=REFUSED, **since))
               | Exists(later.filter(photo_next_status=P.FAILED, photo_next_error__in=REFUSED,
                                     **since)))
    used = Upload.objects.filter(completed_at__isnull=False).filter(
        Exists(colis.filter(photo_status=P.READY)) | refused
        | Q(completed_at__lte=now - UNCLAIMED_KEEP)
        & ~Exists(colis.filter(photo_status__in=waiting))
        & ~Exists(later.filter(photo_next_status__in=waiting)))
    summary = {"uploads_expired": _delete_uploads(expired), "uploads_used": _delete_uploads(used),
               "photos_given_up": _give_up(now)}
    try:
        summary["photos_requeued"] = _requeue_waiting(now)
    except RedisError as exc:
        summary["photos_requeued"] = 0
        summary["photos_redis_error"] = str(exc)
    return summary


def _delete_uploads(queryset) -> int:
    count = 0
    for upload in queryset[:1000]:
        uploads.discard(upload.temp_name)  # and its parts, on object storage
        upload.delete()
        count += 1
    return count


def _waiting(now, slot: Slot):
    """Colis whose photo in `slot` awaits (or is stuck processing) and whose upload is
    complete: work for attach_photo."""
    uploaded = Upload.objects.filter(owner=OuterRef(slot.owner), photo_id=OuterRef(slot.id),
                                     completed_at__isnull=False)
    return Colis.objects.filter(slot.is_(P.AWAITING) | _stale_hold(now, slot), Exists(uploaded))


def _give_up(now) -> int:
    """Waiting photos claimed PHOTO_MAX_ATTEMPTS times already fail with GAVE_UP."""
    count = 0
    for slot in (CURRENT, NEXT):
        spent = Q(**{f"{slot.attempts}__gte": settings.PHOTO_MAX_ATTEMPTS})
        still = spent & (slot.is_(P.AWAITING) | _stale_hold(now, slot))  # checked again, locked
        count += sum(_finish(pk, slot.outcome(failed(GAVE_UP), None), still)
                     for pk in _waiting(now, slot).filter(spent).values_list("pk", flat=True)[:1000])
    return count


def _requeue_waiting(now) -> int:
    """Waiting photos with attempts left get attach_photo again."""
    photo_ids = {str(p) for slot in (CURRENT, NEXT) for p in _waiting(now, slot).filter(
        **{f"{slot.attempts}__lt": settings.PHOTO_MAX_ATTEMPTS})
        .values_list(slot.id, flat=True)[:1000]}
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
