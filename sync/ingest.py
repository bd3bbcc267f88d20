"""A batch from a device: each item checked on its own, all accepted ones recorded at once.

Every item gets a result: accepted (a new task), duplicate (the same op_id and payload
seen before: the existing task), conflict (the same op_id with another payload), or
invalid (field errors). One bad item never loses the others.
"""

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from server import codes, inputs
from server.cargo import leases, services
from server.cargo.models import Client, Colis, Lot

from . import changes, enqueue
from .models import ColisTask, Status, TaskEvent

log = logging.getLogger(__name__)
OPS = ("create", "update", "open_lot")
SAVE_MS_MAX = 600_000  # a save measured at over 10 minutes is a clock's error, not a save
# A save time further back than this before its receipt is a tablet's wrong clock (reset to
# 1970, a date set by hand) far more often than a tablet offline that long (a week is the
# case the PWA is built for): not believed, the receipt stands in for it.
SAVED_AT_MAX_AGE = timedelta(days=14)
# The answer for an item the server failed on for no fault of its data (a bug): the agent
# can correct, export or cancel it, and the rest of the batch goes through.
SERVER_REFUSED = "server_refused"


@dataclass
class Result:
    op_id: str
    result: str
    task: ColisTask | None = None
    errors: dict = field(default_factory=dict)
    lot: Lot | None = None

    def to_dict(self) -> dict:
        # errors: sentences in the request's language (other clients); error_codes: the
        # codes and parameters (the PWA renders them in its own language).
        body = {"op_id": self.op_id, "result": self.result,
                "task": self.task.to_dict() if self.task else None,
                "errors": codes.messages_of(self.errors), "error_codes": codes.codes_of(self.errors)}
        if self.lot is not None:
            body["lot"] = {"id": self.lot.pk, "numero_lot": self.lot.numero_lot}
        return body


def payload_hash(op: str, data) -> str:
    canonical = json.dumps({"op": op, "data": data}, sort_keys=True, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _unstorable_errors(item: dict) -> dict:
    """Field errors for text the database could not store, anywhere in the item's data
    (the data is kept whole as JSON, so even an unknown key would fail the insert)."""
    return {key: [codes.error("text_unstorable")]
            for key in inputs.unstorable_keys(item["data"])}


def _shape_errors(item) -> tuple[str, dict]:
    """The item's op_id as text and the errors of its envelope (not of its data)."""
    if not isinstance(item, dict):
        return "", {"item": [codes.error("item_expected")]}
    raw = item.get("op_id")
    errors: dict = {}
    try:
        op_id = str(uuid.UUID(str(raw)))
    except (ValueError, TypeError, AttributeError):
        op_id = raw if isinstance(raw, str) and not inputs.unstorable(raw) else ""
        errors["op_id"] = [codes.error("uuid_invalid")]
    if item.get("op") not in OPS:
        errors["op"] = [codes.error("choice_invalid_of", choices=", ".join(OPS))]
    if not isinstance(item.get("data"), dict):
        errors["data"] = [codes.error("object_expected")]
    if item.get("saved_at") is not None and parse_aware(item.get("saved_at")) is None:
        errors["saved_at"] = [codes.error("datetime_invalid")]
    if not errors:
        errors = _unstorable_errors(item)
    return op_id, errors


def parse_aware(raw):
    """An ISO 8601 time with its zone, or None for anything else (never raises)."""
    try:
        when = parse_datetime(raw) if isinstance(raw, str) else None
        if when is None or timezone.is_naive(when):
            return None
        # In UTC: PostgreSQL refuses offsets past ±16 h, which Python accepts.
        return when.astimezone(UTC)
    except (ValueError, OverflowError):  # well formed, impossible (month 13, year 0)
        return None


def _saved_at(item: dict):
    """The item's save time on the tablet, never in the future; None if absent, bad, or more
    than SAVED_AT_MAX_AGE before now: then the receipt (created_at) is the save time, for
    the figures and the lease rule alike, and the item is accepted all the same (an agent's
    work is never refused for a clock)."""
    when = parse_aware(item.get("saved_at"))
    now = timezone.now()
    if when is None or when < now - SAVED_AT_MAX_AGE:
        return None
    return min(when, now)


def _save_ms(item: dict) -> int | None:
    """The save's duration on the tablet (ms) if it is a plausible number, else None: a
    measure, never a reason to refuse the item."""
    raw = item.get("save_ms")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return round(raw) if 0 <= raw <= SAVE_MS_MAX else None  # NaN and ±inf fail the test


@dataclass
class Known:
    """Clients and lots a batch names, read in two queries instead of two per item."""

    clients: dict = field(default_factory=dict)
    lots: dict = field(default_factory=dict)
    numeros: leases.Numeros | None = None  # the agent's leased numéros (a create's label)
    saved_at: object = None  # the save time on the tablet of the item being checked

    @classmethod
    def for_items(cls, items: list, user=None) -> "Known":
        datas = [i["data"] for i in items if isinstance(i, dict) and isinstance(i.get("data"), dict)]
        client_ids = {inputs.row_id(d.get("client")) for d in datas} - {None}
        lot_ids = {inputs.row_id(d.get("lot")) for d in datas} - {None}
        return cls(clients=Client.objects.in_bulk(client_ids),
                   lots=Lot.objects.in_bulk(lot_ids),
                   numeros=leases.Numeros(user, [d.get("numero_suivi") for d in datas]))

    def client(self, data: dict) -> Client | None:
        return self.clients.get(inputs.row_id(data.get("client")))

    def lot(self, data: dict) -> Lot | None:
        return self.lots.get(inputs.row_id(data.get("lot")))


def _resolve_lot(user, data: dict, known: Known) -> Lot | None:
    """The lot named by `lot_op_id` (an open_lot item's op_id), else by `lot` (its id)."""
    if data.get("lot_op_id") not in (None, ""):
        try:
            lot_op_id = uuid.UUID(str(data["lot_op_id"]))
        except ValueError as exc:
            raise services.InvalidData({"lot_op_id": [codes.error("uuid_invalid")]}) from exc
        lot = Lot.objects.filter(op_id=lot_op_id).first()
        if lot is None:
            raise services.InvalidData({"lot_op_id": ["lot_not_found"]})
        return lot
    return known.lot(data)


def _check_photo_id(data: dict):
    raw = data.get("photo_id")
    if raw in (None, ""):
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError as exc:
        raise services.InvalidData({"photo_id": [codes.error("uuid_invalid")]}) from exc


def _check_create(user, data: dict, known: Known | None = None) -> dict:
    known = known or Known()
    lot = _resolve_lot(user, data, known)
    photo_id = _check_photo_id(data)
    clean = services.clean_colis(data, lot=lot, client=known.client(data))
    if data.get("numero_suivi") not in (None, ""):  # numbered on the tablet, from its lease
        (known.numeros or leases.Numeros(None, [])).check(data["numero_suivi"], known.saved_at)
    return {"lot": clean["lot"], "photo_id": photo_id}


def _check_update(user, data: dict, known: Known | None = None) -> dict:
    errors = {}
    colis = None
    colis_id = inputs.row_id(data.get("colis"))
    if colis_id is None:
        errors["colis"] = [codes.error("colis_id_required")]
    else:
        colis = Colis.objects.filter(pk=colis_id).select_related("lot").first()
        if colis is None or not (user.is_supervisor or colis.created_by_id == user.pk):
            errors["colis"] = ["colis_not_found"]
    version = data.get("base_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version < 2**31:
        errors["base_version"] = [codes.error("version_expected")]
    changes_ = {k: v for k, v in data.items() if k in services.EDITABLE_FIELDS}
    try:
        photo_id = _check_photo_id(data)  # a photo later: alone, it is a change too
    except services.InvalidData as exc:
        errors.update(exc.errors)
        photo_id = None
    if not changes_ and photo_id is None and "photo_id" not in errors:
        errors.setdefault("data", []).append(codes.error("no_editable_field"))
    if errors:
        raise services.InvalidData(errors)
    services.clean_colis(changes_, partial=True)
    return {"lot": colis.lot, "colis": colis, "base_version": data["base_version"],
            "photo_id": photo_id}


def _existing(op_id: str, digest: str, user) -> Result:
    task = ColisTask.objects.select_related("colis", "lot").get(op_id=op_id)
    if task.initiated_by_id != user.pk:  # another agent's: say nothing of it
        return Result(op_id, "conflict", errors={"op_id": ["op_id_reused"]})
    if task.payload_hash == digest:
        return Result(op_id, "duplicate", task=task)
    # The caller's own task under other data: show it, so the device can edit that colis
    # instead of sending a second one.
    return Result(op_id, "conflict", task=task, errors={"op_id": ["op_id_reused"]})


def _open_lot(user, op_id: str, data: dict) -> Result:
    existing = Lot.objects.filter(op_id=op_id).first()
    if existing is not None:
        if existing.type_lot == data.get("type_lot") and existing.agent_createur_id == user.pk:
            return Result(op_id, "duplicate", lot=existing)
        return Result(op_id, "conflict", errors={"op_id": ["op_id_reused"]})
    try:
        with transaction.atomic():
            lot = services.open_lot(user, data.get("type_lot"), op_id=op_id)
    except services.InvalidData as exc:
        return Result(op_id, "invalid", errors=exc.errors)
    except IntegrityError:  # the same item, sent concurrently, won the race
        return _open_lot(user, op_id, data)
    return Result(op_id, "accepted", lot=lot)


def _new_task(user, device, op_id: str, item: dict, digest: str, known: Known) -> Result:
    """A task for a valid item, not saved yet (see _insert); or the item's field errors."""
    op, data = item["op"], item["data"]
    check = _check_create if op == "create" else _check_update
    known.saved_at = _saved_at(item)
    try:
        checked = check(user, data, known)
    except services.InvalidData as exc:
        return Result(op_id, "invalid", errors=exc.errors)
    except DatabaseError:
        raise
    except Exception:  # noqa: BLE001 - a bug met by one item must not refuse its batch
        log.exception("item %s: unexpected error while checking it", op_id)
        return Result(op_id, "invalid", errors={"__all__": [SERVER_REFUSED]})
    task = ColisTask(op_id=op_id, operation=op, colis_data=data, payload_hash=digest,
                     lot=checked["lot"], colis=checked.get("colis"), initiated_by=user,
                     device=device, base_version=checked.get("base_version"),
                     photo_id=checked.get("photo_id"), saved_at=_saved_at(item),
                     save_ms=_save_ms(item), current_step=Status.PENDING)
    task.rq_job_id = enqueue.job_id(task)
    return Result(op_id, "accepted", task=task)


def ingest_batch(user, device, items: list) -> list[Result]:
    """Record a batch; jobs for accepted tasks are enqueued once it commits."""
    results: list[Result] = []
    shaped = [(item, *_shape_errors(item)) for item in items]
    wellformed = [op_id for _, op_id, errors in shaped if not errors]
    with transaction.atomic():
        seen = {str(o) for o in ColisTask.objects.filter(op_id__in=wellformed)
                .values_list("op_id", flat=True)}
        known = Known.for_items([item for item, _, errors in shaped if not errors], user)
        new: dict[str, Result] = {}  # op_id → its accepted result, in this batch
        for item, op_id, errors in shaped:
            if errors:
                results.append(Result(op_id, "invalid", errors=errors))
                continue
            op, data = item["op"], item["data"]
            if op == "open_lot":
                results.append(_open_lot(user, op_id, data))
                continue
            digest = payload_hash(op, data)
            if op_id in new:  # twice in one batch
                first = new[op_id]
                same = first.task.payload_hash == digest
                results.append(Result(op_id, "duplicate" if same else "conflict", task=first.task,
                                      errors={} if same else {"op_id": ["op_id_reused"]}))
            elif op_id in seen:
                results.append(_existing(op_id, digest, user))
            else:
                result = _new_task(user, device, op_id, item, digest, known)
                if result.result == "accepted":
                    new[op_id] = result
                results.append(result)
        lost = _insert([r.task for r in new.values()], user)
    return [_existing(r.op_id, payload_hash(*_op_data(shaped, r.op_id)), user)
            if r.task is not None and r.task.task_id in lost else r for r in results]


def _op_data(shaped, op_id: str) -> tuple:
    item = next(i for i, o, _ in shaped if o == op_id)
    return item["op"], item["data"]


def _insert(tasks: list[ColisTask], user) -> set:
    """Insert the batch's new tasks at once; return the task_ids that lost their op_id to a
    concurrent copy of the same item (it waited for that copy to commit, then skipped)."""
    if not tasks:
        return set()
    if len(tasks) > 1:  # one job materialises the batch (see jobs.materialise_many)
        shared = enqueue.batch_job_id()
        for task in tasks:
            task.rq_job_id = shared
    changes.stamp_many(tasks)  # the feed lock, held from here to the commit
    ColisTask.objects.bulk_create(tasks, ignore_conflicts=True)
    ids = dict(ColisTask.objects.filter(task_id__in=[t.task_id for t in tasks])
               .values_list("task_id", "pk"))
    recorded = [t for t in tasks if t.task_id in ids]
    for task in recorded:
        task.pk, task._state.adding = ids[task.task_id], False
    now = timezone.now()
    TaskEvent.objects.bulk_create([
        TaskEvent(task=t, from_status="", to_status=Status.PENDING, at=now, by=user,
                  message="received") for t in recorded])
    enqueue.materialise_many_on_commit(recorded)
    return {t.task_id for t in tasks if t.task_id not in ids}
