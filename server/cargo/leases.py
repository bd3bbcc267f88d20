"""Numéros de suivi leased to devices, so a tablet numbers (and labels) a colis offline.

A lease is a range of one year's tracking-number sequence, taken from the same counter as
the server's own numbers (numbering.next_value, under its row lock): no number is ever
given twice, to two devices or to a device and the server. The tablet takes its numbers
from its leases in its own storage; the server accepts a number only from the agent's own
lease, active when the tablet took it, and only once (`Numeros.check`). Revoking a device
voids its leases (`void`): their numbers not taken by then are accepted no more.

Block size follows the device's use: twice its busiest day of the last 30 days, at least
FLOOR, so a tablet never runs out in a normal day offline. The tablet says how many it has
left at the end of each sync cycle; below half a block it gets a new one (`refill`).
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F, Func, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from . import numbering
from .models import Colis, NumeroLease
from .services import InvalidData

FLOOR = 100  # the smallest block
WINDOW_DAYS = 30  # the usage a block is sized on
MAX_BLOCKS_OUTSTANDING = 3  # unused blocks a device may hold (a tablet that asks and never uses)
MAX_BLOCKS_PER_DAY = 10  # blocks an agent may take over 24 h, all their logins together
NOT_LEASED, USED = "numero_not_leased", "numero_used"


class LeaseLimit(Exception):
    """The agent took MAX_BLOCKS_PER_DAY blocks in the last 24 h: no more (HTTP 429)."""

    code = "lease_limit"


def busiest_day(device, now=None) -> int:
    """The most colis this device saved in one day over the last WINDOW_DAYS (its save time on
    the tablet where known, else when the server received it)."""
    from sync.models import ColisTask  # sync builds on cargo, not the other way round

    since = (now or timezone.now()) - timedelta(days=WINDOW_DAYS)
    days = (ColisTask.objects.filter(device=device, operation=ColisTask.Operation.CREATE)
            .annotate(when=Coalesce("saved_at", "created_at")).filter(when__gte=since)
            .annotate(day=TruncDate("when")).values("day").annotate(n=Count("pk"))
            .order_by("-n").values_list("n", flat=True)[:1])
    return days[0] if days else 0


def block_size(device, now=None) -> int:
    """How many numbers a new lease holds for this device."""
    return max(FLOOR, 2 * busiest_day(device, now))


@transaction.atomic
def lease(device, count: int, now=None) -> NumeroLease:
    """Lease `count` consecutive numbers of this year's sequence to `device`."""
    year = numbering.suivi_year(now)
    last = numbering.next_value(numbering.suivi_key(year), count)
    first = last - count + 1
    return NumeroLease.objects.create(
        device=device, year=year, first=first, last=last,
        first_numero=numbering.format_numero_suivi(year, first),
        last_numero=numbering.format_numero_suivi(year, last),
        created_at=now or timezone.now())


def with_unused(leases):
    """`leases` annotated with `unused`: their numbers no colis carries yet (a number saved
    on the tablet but not synced counts as unused until its colis exists)."""
    used = (Colis.objects.filter(numero_suivi__gte=OuterRef("first_numero"),
                                 numero_suivi__lte=OuterRef("last_numero"))
            .order_by().annotate(n=Func("pk", function="COUNT")).values("n"))
    return leases.annotate(unused=F("last") - F("first") + 1
                           - Coalesce(Subquery(used, output_field=IntegerField()), 0))


def active(device):
    """The device's leases that still accept numbers, oldest first."""
    return NumeroLease.objects.filter(device=device, voided_at__isnull=True).order_by("pk")


def open_leases(device) -> list[NumeroLease]:
    """The device's active leases with numbers no colis carries yet (what the tablet keeps)."""
    return [row for row in with_unused(active(device)) if row.unused > 0]


def unused_by_device(device_ids) -> dict[int, int]:
    """{device id: its unused leased numbers} for the supervision page (one query)."""
    out: dict[int, int] = {}
    for row in with_unused(NumeroLease.objects.filter(device_id__in=list(device_ids),
                                                      voided_at__isnull=True)):
        out[row.device_id] = out.get(row.device_id, 0) + max(row.unused, 0)
    return out


def refill(device, left: int, now=None) -> NumeroLease | None:
    """A new block when the device has fewer than half a block left, else None.

    `left` is the tablet's own count (it knows what it used offline); the server's count of
    unused numbers bounds it, so a tablet that keeps asking cannot drain the sequence; and
    an agent takes MAX_BLOCKS_PER_DAY blocks a day at most, all devices together (else
    LeaseLimit), so neither can one who logs in again for a fresh device each time.
    """
    size = block_size(device, now)
    if left >= size // 2:
        return None
    outstanding = sum(row.unused for row in with_unused(active(device)))
    if outstanding >= MAX_BLOCKS_OUTSTANDING * size:
        return None
    since = (now or timezone.now()) - timedelta(days=1)
    if NumeroLease.objects.filter(device__user_id=device.user_id,
                                  created_at__gt=since).count() >= MAX_BLOCKS_PER_DAY:
        raise LeaseLimit  # logging in again and again would otherwise drain the sequence
    return lease(device, size, now)


def void(devices) -> int:
    """Void the active leases of `devices` (a revoked login): their unused numbers are
    accepted no more. Colis already numbered from them keep their numbers."""
    return NumeroLease.objects.filter(device__in=devices, voided_at__isnull=True).update(
        voided_at=timezone.now())


class Numeros:
    """Checks the numbers a batch carries: each from a lease of the agent's own devices, and
    used once (no colis has it, no live task of the agent carries it, not twice in the batch).
    Reads the leases and the numbers' uses once per batch.

    A lease must be active, or have been voided after the item was saved on the tablet: a
    number taken before a revoke (a logout, a password change) is on a label already, and
    its colis, still on the tablet, goes out after the next login, from a new device, or
    from another tablet that imported the queue. A number saved after the void is refused.
    """

    def __init__(self, user, numeros, exclude=None):
        """`exclude`: a task's pk whose own numéro is not a use (its retry checks it again)."""
        wanted = [n for n in numeros if isinstance(n, str) and n]
        self.user = user
        self.leases = list(NumeroLease.objects.filter(device__user=user)) \
            if user is not None and wanted else []
        self.used = _used(user, wanted, exclude) if self.leases else set()

    def check(self, numero, saved_at=None) -> str:
        """The number, accepted (and counted as used by this batch); else InvalidData.
        `saved_at`: when the tablet saved the item (None: unknown, only active leases)."""
        parsed = numbering.parse_numero_suivi(numero)
        lease = parsed and next((row for row in self.leases if row.year == parsed[0]
                                 and row.first <= parsed[1] <= row.last), None)
        if not lease or not (lease.voided_at is None
                             or (saved_at is not None and saved_at < lease.voided_at)):
            raise InvalidData({"numero_suivi": [NOT_LEASED]})
        if numero in self.used:
            raise InvalidData({"numero_suivi": [USED]})
        self.used.add(numero)
        return numero


def _used(user, numeros: list[str], exclude=None) -> set[str]:
    """Which of `numeros` a colis carries, or a task of `user` that may still make one."""
    from sync.models import ACTIVE, ColisTask

    taken = set(Colis.objects.filter(numero_suivi__in=numeros).values_list("numero_suivi", flat=True))
    tasks = (ColisTask.objects.filter(initiated_by=user, operation=ColisTask.Operation.CREATE,
                                      status__in=ACTIVE, colis_data__numero_suivi__in=numeros)
             .exclude(pk=exclude).values_list("colis_data__numero_suivi", flat=True))
    return taken | set(tasks)
