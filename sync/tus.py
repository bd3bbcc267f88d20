"""Resumable photo uploads: the tus 1.0.0 protocol, written here rather than taken from drf-tus.

Extensions: creation, creation-with-upload, expiration, checksum, termination. An upload
belongs to the user who created it (anyone else gets 404), lives in the uploads' own
storage (sync/uploads.py, never served) under a server-chosen uuid, and expires when left
unfinished. A creation-with-upload whose body is cut short keeps what arrived (its answer
says the offset, a HEAD and PATCHes resume it); a creation for a photo that has an
unfinished upload of the same user replaces it (the device never learnt its address).
A chunk is read and its checksum verified before the upload's row is locked;
then, under the lock, the offset is checked again, the chunk written at that offset and
the new offset saved, so two PATCHes racing on one upload cannot interleave their bytes.

Doors kept shut (sync/uploads.py): a creation past the user's quotas gets 429 with what to
do; a body without Content-Length (chunked transfer encoding) gets 411, never a silent
204; the request that completes an upload whose bytes are not an image gets 400 (not 415,
which answers a wrong Content-Type header, and which the PWA would send again: it takes
400 and 413 as a final refusal of the file), the file is cut to its first bytes, and the
photo fails with photo_not_image. An upload of length 0 is complete at its creation, body or
not (a tus client sends none for an empty file): refused with 400 as empty, its photo fails
with photo_empty, and it holds no open-upload slot.
"""

import base64
import binascii
import hashlib
import io
import shutil
import tempfile
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from server import inputs

from . import photos, uploads
from .models import Upload

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,expiration,checksum,termination"
ALGORITHMS = ("sha1", "sha256", "md5")
CHUNK_TYPE = "application/offset+octet-stream"
MAX_METADATA = 4096  # bytes of Upload-Metadata header
READ_BLOCK = 64 * 1024


class TusError(Exception):
    """A refused request: its status and a short reason in the body."""

    def __init__(self, status: int, reason: str, headers: dict | None = None):
        self.status, self.reason, self.headers = status, reason, headers or {}
        super().__init__(f"{status} {reason}")


class VersionMismatch(APIException):
    status_code = 412
    default_detail = "Tus-Resumable 1.0.0 est requis."


class CanUpload(BasePermission):
    """Agents and admins upload; OPTIONS (protocol discovery, CORS) is open to all."""

    def has_permission(self, request, view) -> bool:
        if request.method == "OPTIONS":
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.can_register_colis)


class TusView(APIView):
    permission_classes = [CanUpload]
    parser_classes: list = []  # the body is read raw, as a stream

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != TUS_VERSION:
            raise VersionMismatch()

    def handle_exception(self, exc):
        if isinstance(exc, TusError):
            response = _plain(exc.status, exc.reason)
            for name, value in exc.headers.items():
                response[name] = value
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = TUS_VERSION
        if response.status_code == 412:
            response["Tus-Version"] = TUS_VERSION
        return response

    def options(self, request, *args, **kwargs):
        response = HttpResponse(status=204)
        response["Tus-Version"] = TUS_VERSION
        response["Tus-Extension"] = EXTENSIONS
        response["Tus-Max-Size"] = str(settings.TUS_MAX_SIZE)
        response["Tus-Checksum-Algorithm"] = ",".join(ALGORITHMS)
        return response

    def get_upload(self, upload_id, *, lock: bool = False) -> Upload:
        """The caller's upload, unless it expired unfinished; else 404."""
        rows = Upload.objects.filter(
            Q(completed_at__isnull=False) | Q(expires_at__gt=timezone.now()),
            upload_id=upload_id, owner=self.request.user)
        upload = (rows.select_for_update() if lock else rows).first()
        if upload is None:
            raise TusError(404, "Upload not found.")
        return upload


def _header(name: str, required: bool = True) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.HEADER, required=required)


class UploadCreate(TusView):
    """POST /api/v1/uploads/: creation, with the first chunk in the body if the client likes."""

    @extend_schema(request={CHUNK_TYPE: OpenApiTypes.BINARY}, responses={201: None},
                   parameters=[_header("Upload-Length"), _header("Upload-Metadata"),
                               _header("Upload-Checksum", False)])
    def post(self, request):
        length = _int_header(request, "Upload-Length")
        if length > settings.TUS_MAX_SIZE:
            raise TusError(413, f"Upload-Length exceeds Tus-Max-Size ({settings.TUS_MAX_SIZE}).")
        metadata = _metadata(request.headers.get("Upload-Metadata", ""))
        chunk = None
        if _content_type(request) == CHUNK_TYPE:
            chunk = _read_chunk(request, length)
        elif length == 0:  # no byte will ever follow: complete now (then refused as empty)
            chunk = Chunk(io.BytesIO(), 0)
        with transaction.atomic():
            _supersede(request.user, metadata["photo_id"])
            _check_quotas(request.user, length)
            upload = _create(request.user, length, metadata)
            if chunk is not None:
                _write(upload, chunk)
        _refuse_if_not_image(upload)
        response = _offset_response(201, upload)
        response["Location"] = reverse("tus-upload", kwargs={"upload_id": upload.upload_id})
        return response


class UploadDetail(TusView):
    """HEAD (where am I?), PATCH (append a chunk), DELETE (give up) on one upload."""

    @extend_schema(responses={200: None})
    def head(self, request, upload_id):
        upload = self.get_upload(upload_id)
        response = _offset_response(200, upload)
        response["Upload-Length"] = str(upload.length)
        response["Upload-Metadata"] = _encode_metadata(upload.metadata)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request={CHUNK_TYPE: OpenApiTypes.BINARY}, responses={204: None},
                   parameters=[_header("Upload-Offset"), _header("Upload-Checksum", False)])
    def patch(self, request, upload_id):
        upload = self.get_upload(upload_id)
        if _content_type(request) != CHUNK_TYPE:
            raise TusError(415, f"Content-Type must be {CHUNK_TYPE}.")
        offset = _int_header(request, "Upload-Offset")
        if offset != upload.offset:
            raise TusError(409, f"Upload-Offset is {upload.offset}.")
        chunk = _read_chunk(request, upload.length - offset)
        if upload.is_complete:  # nothing to append: never completed (joined, attached) again
            _refuse_if_not_image(upload)
            return _offset_response(204, upload)
        with transaction.atomic():
            upload = self.get_upload(upload_id, lock=True)
            if offset != upload.offset:  # another PATCH got there first
                raise TusError(409, f"Upload-Offset is {upload.offset}.")
            _write(upload, chunk)
        _refuse_if_not_image(upload)
        return _offset_response(204, upload)

    @extend_schema(responses={204: None})
    def delete(self, request, upload_id):
        with transaction.atomic():
            upload = self.get_upload(upload_id, lock=True)
            delete_upload(upload)
        return HttpResponse(status=204)


def _supersede(user, photo_id) -> None:
    """Delete the user's unfinished uploads of `photo_id` (their files after the commit).
    A device creates a photo's upload again only when it never learnt the address of the last
    one (a creation-with-upload cut before its answer) or the server had lost it: the bytes of
    the old one are never sent again, and it would hold an open upload for a day."""
    old = list(Upload.objects.select_for_update().filter(
        owner=user, photo_id=photo_id, completed_at__isnull=True))
    for upload in old:
        name = upload.temp_name
        upload.delete()
        transaction.on_commit(lambda name=name: uploads.discard(name))


def _check_quotas(user, length: int) -> None:
    """Open uploads and bytes of the day, under the user's row lock (no race past the limit).
    A superseded upload's bytes stay counted: re-creating over and over meets the day's limit."""
    type(user).objects.select_for_update().filter(pk=user.pk).first()
    try:
        uploads.check_open(user)
        uploads.reserve_bytes(user, length)
    except uploads.QuotaExceeded as exc:
        raise TusError(429, exc.message, {"Retry-After": str(exc.retry_after)}) from exc


def _create(owner, length: int, metadata: dict) -> Upload:
    upload_id = uuid.uuid4()
    store = uploads.storage()
    # Object storage: the object exists once complete (uploads.join); its chunks are parts.
    name = store.save(str(upload_id), ContentFile(b"")) if uploads.appends(store) else str(upload_id)
    return Upload.objects.create(
        upload_id=upload_id, owner=owner, photo_id=metadata["photo_id"],
        op_id=metadata.get("op_id"), length=length, metadata=metadata["raw"], temp_name=name,
        expires_at=timezone.now() + timedelta(seconds=settings.UPLOAD_EXPIRES))


def _write(upload: Upload, chunk) -> None:
    """Append a verified chunk at the upload's offset (row held by the caller)."""
    store = uploads.storage()
    if uploads.appends(store):
        _append(store.path(upload.temp_name), upload.offset, chunk)
    else:
        uploads.save_part(upload.temp_name, upload.offset, chunk.file)
    upload.offset += chunk.size
    if upload.offset == upload.length:
        if not uploads.appends(store):
            name = upload.temp_name
            upload.temp_name = uploads.join(name, upload.length)
            transaction.on_commit(lambda: uploads.drop_parts(name))
        upload.completed_at = timezone.now()
        _keep_head_unless_image(upload)
        photos.attach_on_commit(str(upload.photo_id))
    upload.save(update_fields=["temp_name", "offset", "completed_at"])


def _keep_head_unless_image(upload: Upload) -> None:
    """A completed upload that is not an image keeps only its first bytes (before the commit
    that lets attach_photo read it). It stays complete, so a HEAD tells the tablet not to
    send it again, and attaching it fails the photo with photo_not_image whichever of the
    colis and the upload came first (sync/photos.py checks the same bytes)."""
    head = uploads.read_head(upload.temp_name)
    if not uploads.is_image(head):
        store = uploads.storage()
        store.delete(upload.temp_name)
        upload.temp_name = store.save(upload.temp_name, ContentFile(head))


def _refuse_if_not_image(upload: Upload) -> None:
    """After the request that completed `upload`: 400 unless its bytes start as an image."""
    if upload.is_complete and upload.length == 0:
        raise TusError(400, _("Ce fichier photo est vide (0 octet) : il est refusé. "
                              "Reprenez la photo."))
    if upload.is_complete and not uploads.is_image(uploads.read_head(upload.temp_name)):
        raise TusError(400, _("Ce fichier n'est pas une photo (JPEG, PNG, WebP ou HEIC) : il est "
                              "refusé. Reprenez la photo."))


def _append(path: str, offset: int, chunk) -> None:
    """Write `chunk` at `offset` in a local file (object storage takes parts instead)."""
    with open(path, "r+b") as fh:
        fh.seek(offset)  # bytes past the offset (a write whose commit failed) are dropped
        shutil.copyfileobj(chunk.file, fh)
        fh.truncate()


def delete_upload(upload: Upload) -> None:
    uploads.discard(upload.temp_name)
    upload.delete()


class Chunk:
    """A request body spooled to memory or disk, its size known and its checksum verified."""

    def __init__(self, file, size: int):
        self.file, self.size = file, size


def _read_chunk(request, room: int) -> Chunk:
    """Read the body (at most `room` bytes, else 413) and check Upload-Checksum (else 460)."""
    algorithm, expected = _checksum_header(request)
    declared = request.headers.get("Content-Length")
    if not declared or "Transfer-Encoding" in request.headers:
        # Django reads no body it has no length for: a chunked body would be lost unseen.
        raise TusError(411, "Content-Length is required (no chunked transfer encoding).")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > room:
        raise TusError(413, "The chunk goes past Upload-Length.")
    digest = hashlib.new(algorithm) if algorithm else None
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
    size = 0
    while block := request._request.read(READ_BLOCK):
        size += len(block)
        if size > room:
            raise TusError(413, "The chunk goes past Upload-Length.")
        if digest:
            digest.update(block)
        spool.write(block)
    if digest and digest.digest() != expected:
        raise TusError(460, "Checksum mismatch: the chunk was not appended.")
    spool.seek(0)
    return Chunk(spool, size)


def _checksum_header(request) -> tuple[str | None, bytes | None]:
    raw = request.headers.get("Upload-Checksum")
    if not raw:
        return None, None
    algorithm, _, encoded = raw.strip().partition(" ")
    if algorithm not in ALGORITHMS:
        raise TusError(400, f"Unsupported checksum algorithm; use one of {','.join(ALGORITHMS)}.")
    try:
        return algorithm, base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as exc:
        raise TusError(400, "Upload-Checksum is not base64.") from exc


def _metadata(header: str) -> dict:
    """Decode Upload-Metadata; `photo_id` (UUID) is required, `op_id` optional.

    The values are kept as the device sent them (`raw`); `filename` never names a file.
    """
    if len(header) > MAX_METADATA:
        raise TusError(400, "Upload-Metadata is too long.")
    raw = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            raw[key] = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise TusError(400, f"Upload-Metadata {key}: invalid base64 or UTF-8.") from exc
        if inputs.unstorable(key) or inputs.unstorable(raw[key]):  # kept as JSON: no NUL
            raise TusError(400, "Upload-Metadata: a NUL character cannot be stored.")
    result = {"raw": raw, "photo_id": _uuid(raw, "photo_id", required=True)}
    result["op_id"] = _uuid(raw, "op_id", required=False)
    return result


def _encode_metadata(values: dict) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}".rstrip()
                    for key, value in values.items())


def _uuid(values: dict, key: str, *, required: bool) -> uuid.UUID | None:
    if not values.get(key):
        if required:
            raise TusError(400, f"Upload-Metadata must carry {key} (a UUID).")
        return None
    try:
        return uuid.UUID(values[key])
    except ValueError as exc:
        raise TusError(400, f"Upload-Metadata {key} is not a UUID.") from exc


def _int_header(request, name: str) -> int:
    value = request.headers.get(name, "").strip()
    if not (value.isascii() and value.isdigit()):
        raise TusError(400, f"{name} must be a non-negative integer.")
    # Past 18 digits no length or offset can match: read it as too large (413, 409) rather
    # than let int() refuse a 5,000-digit header (Python's int_max_str_digits) with a 500.
    digits = value.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else 10**18


def _content_type(request) -> str:
    return request.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _offset_response(status: int, upload: Upload) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Upload-Offset"] = str(upload.offset)
    if not upload.is_complete:
        response["Upload-Expires"] = http_date(upload.expires_at.timestamp())
    return response


def _plain(status: int, reason: str) -> HttpResponse:
    phrase = "Checksum Mismatch" if status == 460 else None
    return HttpResponse(reason, status=status, reason=phrase,
                        content_type="text/plain; charset=utf-8")
