"""Raw uploads: where their bytes live, what they may hold, how many one user may send.

- Their own storage, `storages["uploads"]` (STORAGES in settings: a FileSystemStorage at
  UPLOADS_ROOT, outside MEDIA_ROOT, with no URL; with S3_BUCKET, the bucket's uploads
  prefix). Every access goes through `storage()`. Nothing ever serves them.
- Object storage cannot append: there an unfinished upload is one object per chunk,
  `<name>.parts/<offset>`, joined into `<name>` by the request that completes it (`join`).
  Any web node answers any HEAD or PATCH: the offset is in the database, the bytes in the
  shared storage. `discard` deletes an upload's file and its parts, on every backend.
- A completed upload must start with an image's magic bytes (`is_image`); anything else
  is refused at once, and its photo fails with images.NOT_IMAGE.
- Per user: at most UPLOAD_MAX_OPEN unfinished uploads, and UPLOAD_MAX_BYTES_PER_DAY
  bytes announced (Upload-Length) per UTC day, counted in Redis like the throttles.
"""

import tempfile
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import File
from django.core.files.storage import Storage, storages
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Upload

HEAD_BYTES = 16  # enough for every signature below; what a refused upload keeps
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"}


def storage() -> Storage:
    """The storage of raw uploads (never the default one: that holds served photos)."""
    return storages["uploads"]


def appends(store: Storage) -> bool:
    """Whether `store` keeps files on a local file system (where a chunk is appended)."""
    try:
        store.path("probe")
    except NotImplementedError:
        return False
    return True


def part_name(name: str, offset: int) -> str:
    """The object holding the chunk that starts at `offset` (object storage)."""
    return f"{name}.parts/{offset:012d}"


def save_part(name: str, offset: int, fh) -> None:
    """Store a chunk as its own object; one left by a write whose commit failed is replaced."""
    store = storage()
    store.delete(part_name(name, offset))
    store.save(part_name(name, offset), File(fh, name=part_name(name, offset)))


def join(name: str, length: int) -> str:
    """Join the parts of a complete upload into `name` (returned as stored). The parts stay
    until `drop_parts`, after the commit: a failed commit leaves the upload resumable."""
    store = storage()
    with tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024) as spool:
        while (offset := spool.tell()) < length:
            with store.open(part_name(name, offset), "rb") as part:
                if not spool.write(part.read()):
                    raise FileNotFoundError(part_name(name, offset))  # an empty part: no chain
        spool.truncate(length)
        spool.seek(0)
        store.delete(name)
        return store.save(name, File(spool, name=name))


def drop_parts(name: str) -> None:
    store = storage()
    if appends(store):
        return
    _, files = store.listdir(f"{name}.parts")
    for file in files:
        store.delete(f"{name}.parts/{file}")


def discard(name: str) -> None:
    """Delete an upload's file and, on object storage, its parts."""
    drop_parts(name)
    storage().delete(name)


def is_image(head: bytes) -> bool:
    """Whether `head` starts like one of the formats images.process accepts."""
    return (head.startswith(b"\xff\xd8\xff")  # JPEG
            or head.startswith(b"\x89PNG\r\n\x1a\n")
            or head[:4] == b"RIFF" and head[8:12] == b"WEBP"
            or head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS)


def read_head(name: str) -> bytes:
    with storage().open(name, "rb") as fh:
        return fh.read(HEAD_BYTES)


class QuotaExceeded(Exception):
    """A refused upload creation: 429, a message saying what to do, and when to retry."""

    def __init__(self, message: str, retry_after: int):
        self.message, self.retry_after = message, retry_after
        super().__init__(message)


def open_count(user) -> int:
    """The user's unfinished uploads that have not expired."""
    return Upload.objects.filter(owner=user, completed_at__isnull=True,
                                 expires_at__gt=timezone.now()).count()


def check_open(user) -> None:
    """At most UPLOAD_MAX_OPEN unfinished uploads (the caller holds the user's row lock)."""
    limit = settings.UPLOAD_MAX_OPEN
    if limit and open_count(user) >= limit:
        raise QuotaExceeded(_(
            "Trop d'envois de photos en cours (%(limit)s) : terminez-les ou annulez-les "
            "(DELETE), ou attendez qu'ils expirent, puis recommencez.") % {"limit": limit},
            retry_after=60)


def reserve_bytes(user, length: int, now: datetime | None = None) -> None:
    """Count `length` against the user's bytes of the day (UTC), or refuse past the limit."""
    limit = settings.UPLOAD_MAX_BYTES_PER_DAY
    if not limit:
        return
    now = now or timezone.now()
    day = now.astimezone(UTC).date()
    key = f"upload-bytes:{user.pk}:{day.isoformat()}"
    cache.add(key, 0, timeout=2 * 24 * 3600)
    if cache.incr(key, length) > limit:
        cache.decr(key, length)  # a refused upload takes nothing
        midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
        raise QuotaExceeded(_(
            "Quota de photos du jour atteint (%(mib)s Mio par jour) : réessayez après "
            "minuit UTC, ou demandez à un administrateur de relever "
            "UPLOAD_MAX_BYTES_PER_DAY.") % {"mib": limit // (1024 * 1024)},
            retry_after=int((midnight - now).total_seconds()) + 1)
