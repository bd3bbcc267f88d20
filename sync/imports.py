"""An outbox exported from a tablet (docs/outbox-export.md), brought to the server.

A supervisor uploads the file when the tablet itself cannot sync (broken, wiped, no link
for days). Nothing here is a second pipeline:
- the items go through `ingest.ingest_batch`, as the agent who exported them and with
  their own op_ids, in batches the size a device sends: what the server has already seen
  answers duplicate (or conflict), so importing a file twice makes nothing twice;
- the photos become tus uploads completed in one step (`tus._create`, `tus._write`), so
  their colis gets them exactly as from a device (sync/photos.py).

A file the server cannot read is refused whole, with a code (`ImportRefused`); a bad item
or photo is only that item's or photo's.
"""

import base64
import binascii
import io
import json
import logging
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from server import inputs
from server.accounts.models import Device, User
from server.cargo.models import Colis

from . import tus
from .ingest import ingest_batch
from .models import ColisTask, Upload

log = logging.getLogger(__name__)
FORMAT = "colis-sync-outbox"
VERSIONS = (1,)
# The tablet keeps completed and cancelled items only to show them: the server has seen
# them through, nothing is sent again; nor is an item the agent asked to cancel.
DONE = ("completed", "cancelled", "cancelling")


class ImportRefused(Exception):
    """The whole file is refused: `code` and its `params`, rendered where it is shown."""

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(code)


@dataclass
class ImportSummary:
    """What became of a file: the ingest's answers counted, the photos' fates."""

    agent: User
    device: str = ""
    accepted: int = 0
    duplicate: int = 0
    invalid: list = field(default_factory=list)  # (op_id, {field: [errors]})
    conflict: list = field(default_factory=list)  # (op_id, {field: [errors]})
    done: int = 0  # completed or cancelled (cancelling) on the tablet: not sent
    waiting: list = field(default_factory=list)  # op_ids of edits whose colis is not made yet
    photos_taken: int = 0
    photos_present: int = 0  # the server had them already
    photos_left: list = field(default_factory=list)  # (photo_id, code)

    def count(self, result) -> None:
        if result.result in ("accepted", "duplicate"):
            setattr(self, result.result, getattr(self, result.result) + 1)
        else:  # invalid or conflict
            getattr(self, result.result).append((result.op_id, result.errors))


def import_outbox(file_obj, by_user) -> ImportSummary:
    """Import an exported outbox for the agent it names; `by_user` is who imports it."""
    body = read(file_obj)
    agent = _agent(body.get("user"), by_user)
    device_name = body.get("device") if isinstance(body.get("device"), str) else ""
    device_name = _shown(device_name, 80)
    summary = ImportSummary(agent=agent, device=device_name)
    items = [i for i in body["items"] if not (isinstance(i, dict) and i.get("state") in DONE)]
    summary.done = len(body["items"]) - len(items)
    by_op_id = {i["op_id"]: i for i in body["items"]
                if isinstance(i, dict) and isinstance(i.get("op_id"), str)}
    wire = []
    for item in _device_order(items):
        # Not an object: sent as it is, and the ingest answers it invalid, as a device's.
        sendable = _wire(item, by_op_id) if isinstance(item, dict) else item
        if sendable is None and isinstance(item, dict):
            summary.waiting.append(_shown(item.get("op_id")))
        else:
            wire.append(sendable)
    device = _device(agent, device_name)
    for start in range(0, len(wire), settings.SYNC_MAX_BATCH):
        for result in ingest_batch(agent, device, wire[start:start + settings.SYNC_MAX_BATCH]):
            summary.count(result)
    for photo in body["photos"]:
        _take_photo(agent, photo, summary)
    log.info("outbox of %s imported by %s: %d accepted, %d duplicate, %d invalid, "
             "%d conflict, %d photos", agent.username, by_user.username, summary.accepted,
             summary.duplicate, len(summary.invalid), len(summary.conflict),
             summary.photos_taken)
    return summary


def read(file_obj) -> dict:
    """The file's JSON, checked to be an outbox export of a known version."""
    if file_obj is None:
        raise ImportRefused("no_file")
    limit = settings.IMPORT_MAX_BYTES
    if (getattr(file_obj, "size", None) or 0) > limit:
        raise ImportRefused("too_big", max=limit)
    raw = file_obj.read(limit + 1)
    if len(raw) > limit:
        raise ImportRefused("too_big", max=limit)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ImportRefused("not_json") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ImportRefused("not_outbox")
    version = body.get("version")
    if isinstance(version, bool) or version not in VERSIONS:
        raise ImportRefused("unknown_version", version=str(version)[:20])
    if (not isinstance(body.get("items"), list) or not isinstance(body.get("photos"), list)
            or inputs.depth_exceeds(body)):
        raise ImportRefused("not_outbox")
    return body


def _agent(username, by_user) -> User:
    """The agent who exported the file: their items stay theirs. An admin's own queue is
    imported by an admin only: a supervisor, who registers nothing, never writes as one."""
    if not isinstance(username, str) or not username.strip():
        raise ImportRefused("no_user")
    user = None if inputs.unstorable(username) else (
        User.objects.filter(username=username).first())
    if user is None:
        raise ImportRefused("unknown_user", user=_shown(username, 150))
    if not (user.is_active and user.can_register_colis):
        raise ImportRefused("not_agent", user=username)
    if user.role != User.Role.AGENT_CHINE or user.is_superuser:
        if not (by_user.is_superuser or by_user.role == User.Role.ADMIN):
            raise ImportRefused("admin_queue", user=username)
    return user


def _shown(value, limit: int = 40) -> str:
    """Text from the file as a page can show it: a NUL or a lone surrogate escaped (\\x00,
    \\ud800), so a hostile name or id is reported, never a page that fails to encode."""
    text = value[:limit] if isinstance(value, str) else ""
    return text.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")


def _device(agent: User, name: str) -> Device | None:
    """The agent's latest login under the tablet's name, so the tasks say where they came from."""
    if not name or inputs.unstorable(name):
        return None
    return Device.objects.filter(user=agent, name=name).order_by("-created_at").first()


def _device_order(items: list) -> list:
    """Lots first, then the rest in file order (oldest first), as the tablet sends them."""
    lots = [i for i in items if isinstance(i, dict) and i.get("op") == "open_lot"]
    return lots + [i for i in items if not (isinstance(i, dict) and i.get("op") == "open_lot")]


def _wire(item: dict, by_op_id: dict):
    """The item as the tablet puts it in a batch (pwa/js/outbox.js nextBatch); None for an
    edit whose colis the file does not know yet (the tablet would hold it back too)."""
    data = item.get("data")
    if item.get("op") == "update" and isinstance(data, dict) and not data.get("colis"):
        depends_on = item.get("depends_on")
        dep = (by_op_id.get(depends_on) or {}) if isinstance(depends_on, str) else {}
        colis = (dep.get("task") or {}).get("colis") if isinstance(dep.get("task"), dict) else None
        if not isinstance(colis, dict) or not colis.get("id") or dep.get("state") != "completed":
            return None
        data = {**data, "colis": colis["id"], "base_version": colis.get("version")}
    return {"op_id": item.get("op_id"), "op": item.get("op"), "data": data,
            "saved_at": item.get("created_at")}


def _take_photo(agent: User, photo, summary: ImportSummary) -> None:
    """One photo of the file, uploaded as the agent, if a colis of theirs is waiting for it."""
    photo_id = _uuid(photo.get("photo_id")) if isinstance(photo, dict) else None
    encoded = photo.get("data_base64") if isinstance(photo, dict) else None
    if photo_id is None or not isinstance(encoded, str):
        summary.photos_left.append((_shown(photo.get("photo_id"))
                                    if isinstance(photo, dict) else "", "photo_malformed"))
        return
    if not ColisTask.objects.filter(initiated_by=agent, photo_id=photo_id).exists():
        summary.photos_left.append((str(photo_id), "photo_no_item"))
        return
    if _arrived(agent, photo_id):
        summary.photos_present += 1
        return
    if len(encoded) > (settings.TUS_MAX_SIZE + 2) // 3 * 4 + 4:
        summary.photos_left.append((str(photo_id), "upload_too_big"))
        return
    try:
        data = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        summary.photos_left.append((str(photo_id), "photo_malformed"))
        return
    if len(data) > settings.TUS_MAX_SIZE:
        summary.photos_left.append((str(photo_id), "upload_too_big"))
        return
    _upload(agent, photo_id, _uuid(photo.get("op_id")), data)
    summary.photos_taken += 1


def _arrived(agent: User, photo_id: uuid.UUID) -> bool:
    """The photo reached the server already: an upload finished, or its colis has it."""
    return (Upload.objects.filter(owner=agent, photo_id=photo_id, completed_at__isnull=False)
            .exists()
            or Colis.objects.filter(created_by=agent, photo_id=photo_id,
                                    photo_status=Colis.Photo.READY).exists())


def _upload(agent: User, photo_id: uuid.UUID, op_id: uuid.UUID | None, data: bytes) -> None:
    """A tus upload made and finished in one step: on commit, attach_photo takes it over."""
    raw = {"photo_id": str(photo_id), "source": "import"}
    if op_id is not None:
        raw["op_id"] = str(op_id)
    with transaction.atomic():
        upload = tus._create(agent, len(data), {"raw": raw, "photo_id": photo_id, "op_id": op_id})
        tus._write(upload, tus.Chunk(io.BytesIO(data), len(data)))


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if isinstance(value, str) else None
    except ValueError:
        return None
