"""The writes of the cargo domain: one function per kind of write.

The sync job, the API, the admin and the pages all call these; no business
rule lives in a serializer, a signal or a view.
"""

import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from server import codes, inputs

from . import numbering
from .models import Client, Colis, Lot, Tariff, TypeLot
from .pricing import Quote, quote_with_tariff

MAX_POIDS_KG = Decimal("2000")
MAX_DIMENSION_CM = Decimal("600")
MAX_DESCRIPTION = 2000
# What a person can weigh and measure in a warehouse, in the columns' precision. The PWA's
# form applies the same limits (pwa/js/limits.js; tests/test_pwa_limits.py keeps them equal).
_SIZE = {"minimum": Decimal("0.1"), "maximum": MAX_DIMENSION_CM, "places": 1}
MEASURES = {"poids": {"minimum": Decimal("0.01"), "maximum": MAX_POIDS_KG, "places": 3},
            "longueur": _SIZE, "largeur": _SIZE, "hauteur": _SIZE}
EDITABLE_FIELDS = ("client", "poids", "longueur", "largeur", "hauteur", "mode_paiement",
                   "description")


class DomainError(Exception):
    """A write refused by a business rule. `errors` maps fields to lists of errors as
    server/codes.py records them (a bare code, or a code with its parameters)."""

    code = "invalid"

    def __init__(self, errors: dict | None = None, code: str | None = None):
        self.errors = errors or {}
        if code:
            self.code = code
        super().__init__(f"{self.code}: {self.errors}")


class InvalidData(DomainError):
    code = "invalid"


class LotClosed(InvalidData):
    code = "lot_closed"

    def __init__(self):
        super().__init__({"lot": [codes.error("lot_closed")]})


class VersionConflict(DomainError):
    code = "version_conflict"

    def __init__(self, current: Colis):
        self.current = current
        super().__init__({"base_version": [codes.error("version_conflict", current=current.version)]})


def _decimal(errors: dict, data: dict, field: str) -> Decimal | None:
    number, problem = inputs.decimal_field(data.get(field), **MEASURES[field])
    if problem:
        errors.setdefault(field, []).append(problem)
    return number


def _lookup(errors: dict, model, field: str, value):
    if value in (None, ""):
        errors.setdefault(field, []).append(codes.error("required"))
        return None
    pk = inputs.row_id(value)
    obj = model.objects.filter(pk=pk).first() if pk is not None else None
    if obj is None:
        errors.setdefault(field, []).append(f"{field}_not_found")
    return obj


def clean_colis(data: dict, *, lot: Lot | None = None, client: Client | None = None,
                partial: bool = False) -> dict:
    """Check a colis' fields against the rules; return them typed, or raise InvalidData.

    `lot` and `client` may be given already resolved (an offline-opened lot, a batch's
    lookups); `partial` checks only the fields present (an update).
    """
    errors: dict = {}
    clean: dict = {}
    if not partial or "client" in data:
        clean["client"] = client or _lookup(errors, Client, "client", data.get("client"))
    if not partial:
        lot = lot or _lookup(errors, Lot, "lot", data.get("lot"))
        if lot is not None and not lot.is_open:
            errors.setdefault("lot", []).append("lot_closed")
        clean["lot"] = lot
    for field in MEASURES:
        if not partial or field in data:
            clean[field] = _decimal(errors, data, field)
    if not partial or "mode_paiement" in data:
        mode = data.get("mode_paiement") or Colis.ModePaiement.NON_PAYE
        if mode not in Colis.ModePaiement.values:
            errors.setdefault("mode_paiement", []).append(codes.error("choice_invalid"))
        clean["mode_paiement"] = mode
    if "description" in data or not partial:
        description = data.get("description") or ""
        if problem := inputs.text_problem(description, MAX_DESCRIPTION):
            errors.setdefault("description", []).append(problem)
        clean["description"] = description if not problem else ""
    if not partial:
        wanted = data.get("type_transport") or (lot.type_lot if lot else None)
        if wanted not in TypeLot.values:
            errors.setdefault("type_transport", []).append(codes.error("choice_invalid"))
        elif lot is not None and wanted != lot.type_lot:
            errors.setdefault("type_transport", []).append(
                codes.error("lot_type_mismatch", lot=lot.numero_lot, type=lot.type_lot))
        clean["type_transport"] = wanted
    if errors:
        raise InvalidData(errors)
    return clean


def price_colis(type_transport: str, fields: dict, tariff: Tariff | None = None
                ) -> tuple[Tariff | None, Quote | None]:
    """Price with the tariff in force (or the one given); (None, None) when none exists."""
    tariff = tariff or Tariff.current(type_transport)
    if tariff is None:
        return None, None
    return tariff, quote_with_tariff(tariff, poids=fields["poids"], longueur=fields["longueur"],
                                     largeur=fields["largeur"], hauteur=fields["hauteur"])


@transaction.atomic
def open_lot(user, type_lot: str, *, op_id=None) -> Lot:
    """Open a lot; with an `op_id` already used, return that lot (idempotent)."""
    if type_lot not in TypeLot.values:
        raise InvalidData({"type_lot": [codes.error("choice_invalid")]})
    if op_id is not None:
        existing = Lot.objects.filter(op_id=op_id).first()
        if existing is not None:
            return existing
    check_open_lot_rate(user)
    return Lot.objects.create(numero_lot=numbering.next_numero_lot(type_lot), type_lot=type_lot,
                              agent_createur=user, op_id=op_id)


class LotBusy(DomainError):
    """Tasks that may still add a colis to the lot are not finished."""

    code = "lot_busy"

    def __init__(self, active: int):
        self.active = active
        super().__init__({"lot": ["lot_busy"]})


@transaction.atomic
def close_lot(lot: Lot, user) -> Lot:
    """Close an open lot once no task may still add a colis to it; none enters it afterwards.

    The page, the admin and anything else close through here. The count and the close happen
    under the lot's row lock, which the job takes too before it adds a colis: no colis slips
    in between.
    """
    from sync.models import ACTIVE  # the sync app builds on cargo, not the other way round

    lot = Lot.objects.select_for_update(no_key=True).get(pk=lot.pk)
    if not lot.is_open:
        raise InvalidData({"lot": ["lot_closed"]}, code="lot_closed")
    if active := lot.tasks.filter(status__in=ACTIVE).count():
        raise LotBusy(active)
    lot.statut = Lot.Statut.FERME
    lot.closed_at = timezone.now()
    lot.save(update_fields=["statut", "closed_at", "updated_at"])
    return lot


@transaction.atomic
def create_colis(user, data: dict, *, lot: Lot | None = None, photo_id=None,
                 photo: dict | None = None) -> Colis:
    """Register a colis. The lot is re-read under a lock so a lot closed meanwhile refuses it.

    `photo` holds the photo's fields when it was processed already (see sync.photos).
    """
    clean = clean_colis(data, lot=lot)
    locked_lot = Lot.objects.select_for_update(no_key=True).get(pk=clean["lot"].pk)
    if not locked_lot.is_open:
        raise LotClosed()
    photo = photo or {"photo_status": Colis.Photo.AWAITING if photo_id else Colis.Photo.NONE}
    numero = _given_numero(data) or numbering.next_numero_suivi()
    return _new_colis(user, {**clean, "lot": locked_lot}, numero, {}, photo_id=photo_id, **photo)


def _given_numero(data: dict, taken: set | None = None) -> str | None:
    """The numéro a device leased and wrote on the label (data["numero_suivi"]), checked here
    for its form and its single use (`taken`: the numbers a batch knows used); None when the
    colis is to be numbered by the server. Which device may use it is checked when the item
    arrives (server/cargo/leases.py). The unique column settles a race between two jobs."""
    numero = data.get("numero_suivi")
    if numero in (None, ""):
        return None
    if numbering.parse_numero_suivi(numero) is None:
        raise InvalidData({"numero_suivi": ["numero_not_leased"]})
    used = numero in taken if taken is not None else (
        Colis.objects.filter(numero_suivi=numero).exists())
    if used:
        raise InvalidData({"numero_suivi": ["numero_used"]})
    if taken is not None:
        taken.add(numero)
    return numero


@transaction.atomic
def create_colis_many(items: list[tuple]) -> list:
    """`create_colis` for many colis, in one transaction: each lot locked once, one tariff
    read per mode, the numbers taken with one counter update (those not leased to the
    device already), one INSERT.

    `items` are (user, data, lot) triples, or (user, data, lot, photo) with the colis' photo
    fields (photo_id and what sync.photos made of it); returns, in their order, the new
    Colis or the DomainError that refuses it (the others are created all the same).
    """
    lot_ids = sorted({row[2].pk for row in items})
    lots = {row.pk: row for row in Lot.objects.select_for_update(no_key=True)
            .filter(pk__in=lot_ids).order_by("pk")}
    clients = Client.objects.in_bulk({inputs.row_id(row[1].get("client")) for row in items}
                                     - {None})
    out: list = []
    given = [n for row in items if (n := row[1].get("numero_suivi")) not in (None, "")]
    taken = set(Colis.objects.filter(numero_suivi__in=[n for n in given if isinstance(n, str)])
                .values_list("numero_suivi", flat=True))  # and, below, those of this batch
    for user, data, lot, *photo in items:
        try:
            clean = clean_colis(data, lot=lots[lot.pk],
                                client=clients.get(inputs.row_id(data.get("client"))))
            out.append((user, clean, _given_numero(data, taken), photo[0] if photo else {}))
        except DomainError as exc:
            out.append(exc)
    valid = [row for row in out if not isinstance(row, DomainError)]
    numbers, tariffs = iter(numbering.next_numeros_suivi(sum(1 for _, _, n, _ in valid if not n))), {}
    made = [_new_colis(user, clean, numero or next(numbers), tariffs, save=False,
                       **{"photo_status": Colis.Photo.NONE, **photo})
            for user, clean, numero, photo in valid]
    created = iter(Colis.objects.bulk_create(made))
    return [row if isinstance(row, DomainError) else next(created) for row in out]


def _new_colis(user, clean: dict, numero_suivi: str, tariffs: dict, *, save: bool = True,
               **extra) -> Colis:
    """A colis from its checked fields, priced with the tariff in force (`tariffs` caches
    them by mode for a batch); saved unless `save` is False."""
    mode = clean["type_transport"]
    if mode not in tariffs:
        tariffs[mode] = Tariff.current(mode)
    tariff, price = price_colis(mode, clean, tariff=tariffs[mode])
    colis = Colis(
        numero_suivi=numero_suivi, lot=clean["lot"], client=clean["client"],
        type_transport=mode, poids=clean["poids"], longueur=clean["longueur"],
        largeur=clean["largeur"], hauteur=clean["hauteur"],
        mode_paiement=clean["mode_paiement"], description=clean["description"],
        prix_calcule=price.amount if price else None,
        devise=price.currency if price else "XOF", tariff=tariff, created_by=user, **extra)
    if save:
        colis.save(force_insert=True)
    return colis


@transaction.atomic
def update_colis(colis_id: int, base_version: int, changes: dict, user, *,
                 photo_id=None) -> Colis:
    """Apply `changes` to a colis last seen at `base_version`; a stale version is a conflict.

    A colis keeps the tariff it was priced with; a new weight or size re-prices it under
    that same tariff. A `photo_id` (the user's upload) asks for a new photo: see next_photo.
    """
    colis = Colis.objects.select_for_update(no_key=True).filter(pk=colis_id).first()
    if colis is None:
        raise InvalidData({"colis": ["colis_not_found"]})
    if colis.version != base_version:
        raise VersionConflict(colis)
    changes = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    clean = clean_colis(changes, partial=True)
    for field, value in clean.items():
        setattr(colis, field, value)
    if {"poids", "longueur", "largeur", "hauteur"} & clean.keys():
        tariff, price = price_colis(colis.type_transport, {
            f: getattr(colis, f) for f in ("poids", "longueur", "largeur", "hauteur")
        }, tariff=colis.tariff)
        colis.tariff = tariff
        colis.prix_calcule = price.amount if price else None
    if photo_id is not None:
        next_photo(colis, photo_id, user)
    colis.version += 1
    colis.save()
    return colis


def next_photo(colis: Colis, photo_id, user) -> None:
    """Make `photo_id` (an upload of `user`'s) the colis' next photo: the photo it has stays
    until this one is ready, then this one takes its place (sync/photos.py does both). The
    photo it has or already waits for is left as it is (an update sent twice, a re-sent id).
    Part of update_colis, whose save writes it."""
    photo_id = uuid.UUID(str(photo_id))
    if photo_id in (colis.photo_id, colis.photo_next_id):
        return
    colis.photo_next_id, colis.photo_next_by = photo_id, user
    colis.photo_next_status, colis.photo_next_error = Colis.Photo.AWAITING, ""
    colis.photo_next_attempts = 0


def check_open_lot_rate(user) -> None:
    """Refuse a lot past OPEN_LOT_RATE (e.g. "20/hour") opened by `user` in the current window.

    The counter lives in the cache (Redis), shared by the web, the API and the workers; a
    re-sent open_lot item (same op_id) returns its lot before this is reached.
    """
    import logging

    from django.conf import settings
    from django.core.cache import cache
    from redis import RedisError

    rate = settings.OPEN_LOT_RATE
    if not rate:
        return
    count, _, unit = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit[:1]]
    window = int(timezone.now().timestamp()) // seconds
    key = f"open_lot_rate:{user.pk}:{window}"
    try:
        cache.add(key, 0, timeout=seconds)
        opened = cache.incr(key)
    except RedisError:  # the lot matters more than the count: open it, say so in the log
        logging.getLogger(__name__).exception("open_lot rate: Redis unreachable, not counted")
        return
    if opened > int(count):
        raise InvalidData({"type_lot": ["open_lot_rate"]}, code="open_lot_rate")
