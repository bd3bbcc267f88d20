"""Read-only aggregation queries of the dashboards. Writes go through cargo and sync."""

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import mean

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from server.accounts.models import Device, User
from server.cargo import leases
from server.cargo.models import Colis, Lot
from sync.models import ACTIVE, FAILED_STATES, RUNNING, ColisTask, Status

DAY = timedelta(hours=24)
# A device silent this long while it says it still holds items needs someone to look.
SILENT_AFTER = timedelta(hours=2)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0–100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def durations(tasks: QuerySet) -> list[float]:
    """Seconds from save (on the tablet, else receipt) to completion of completed tasks."""
    rows = tasks.filter(status=Status.COMPLETED, completed_at__isnull=False).values_list(
        "saved_at", "created_at", "completed_at")
    return [(done - (saved or created)).total_seconds() for saved, created, done in rows]


def board_counts(tasks: QuerySet, now: datetime | None = None) -> dict:
    """The four counts of « Mes tâches » and today's average time to completion."""
    now = now or timezone.now()
    done = Q(status=Status.COMPLETED, completed_at__gte=now - DAY)
    counts = tasks.aggregate(
        pending=Count("pk", filter=Q(status=Status.PENDING)),
        running=Count("pk", filter=Q(status__in=RUNNING)),
        failed=Count("pk", filter=Q(status__in=FAILED_STATES)),
        # colis, not tasks: a colis edited twice is one row of « Terminées »
        done_colis=Count("colis", filter=done, distinct=True),
        done_bare=Count("pk", filter=done & Q(colis__isnull=True)),
    )
    counts["done_24h"] = counts.pop("done_colis") + counts.pop("done_bare")
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today = durations(tasks.filter(completed_at__gte=midnight))
    counts["avg_today"] = mean(today) if today else None
    return counts


def lot_rows(lots: Iterable[Lot]) -> list[Lot]:
    """`lots` with their colis count, total weight, total price and active task count.

    Two grouped queries for all of them, whatever their size: colis totals per lot, then
    active tasks per lot. One query joining both would multiply the sums, and a task
    subquery in its GROUP BY ran once per colis row (quadratic in a lot's size).
    """
    lots = list(lots)
    ids = [lot.pk for lot in lots]
    totals = {row["lot"]: row for row in Colis.objects.filter(lot__in=ids).order_by()
              .values("lot").annotate(n_colis=Count("pk"), total_poids=Sum("poids"),
                                      total_prix=Sum("prix_calcule"), max_devise=Max("devise"),
                                      n_devises=Count("devise", distinct=True))}
    active = dict(ColisTask.objects.filter(lot__in=ids, status__in=ACTIVE).order_by()
                  .values("lot").annotate(n=Count("pk")).values_list("lot", "n"))
    for lot in lots:
        row = totals.get(lot.pk, {})
        lot.n_colis, lot.n_active = row.get("n_colis", 0), active.get(lot.pk, 0)
        lot.total_poids, lot.total_prix = row.get("total_poids"), row.get("total_prix")
        # One currency per tariff: a lot's prices share it (several would not add up).
        lot.devise = row.get("max_devise") if row.get("n_devises", 0) <= 1 else ""
    return lots


def active_task_count(lot: Lot) -> int:
    """Tasks for `lot` that may still add a colis to it: the lot must not close under them."""
    return ColisTask.objects.filter(lot=lot, status__in=ACTIVE).count()


@dataclass
class SyncRow:
    """One agent on one device (device None: tasks sent without a device, e.g. the API)."""

    user: User
    device: Device | None
    pending: int = 0
    running: int = 0
    failed: int = 0
    oldest_pending_at: datetime | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def attention(self) -> bool:
        return bool(self.reasons)


def sync_rows(now: datetime | None = None) -> list[SyncRow]:
    """One row per agent and device, the ones that need attention first."""
    now = now or timezone.now()
    devices = Device.objects.select_related("user").order_by("user__username", "-created_at")
    rows = {(d.user_id, d.pk): SyncRow(d.user, d) for d in devices}
    unused = leases.unused_by_device(pk for _, pk in rows)  # leased numéros not used yet
    for row in rows.values():
        row.device.numeros_unused = unused.get(row.device.pk, 0)
    # Read from the partial index task_open_by_device alone (sync/models.py): counting
    # `status`, one of its columns (never null), not `id`, which would read each row too.
    stats = (ColisTask.objects.filter(status__in=ACTIVE | FAILED_STATES).order_by()
             .values("initiated_by", "device").annotate(
                 pending=Count("status", filter=Q(status=Status.PENDING)),
                 running=Count("status", filter=Q(status__in=RUNNING)),
                 failed=Count("status", filter=Q(status__in=FAILED_STATES)),
                 oldest=Min("created_at", filter=Q(status=Status.PENDING))))
    users = {row.user.pk: row.user for row in rows.values()}
    users |= User.objects.in_bulk({s["initiated_by"] for s in stats} - set(users))
    for s in stats:
        key = (s["initiated_by"], s["device"])
        row = rows.get(key) or rows.setdefault(key, SyncRow(users[s["initiated_by"]], None))
        row.pending, row.running, row.failed = s["pending"], s["running"], s["failed"]
        row.oldest_pending_at = s["oldest"]
    for row in rows.values():
        row.reasons = attention_reasons(row, now)
    # The most reasons first, then by name: a silent tablet with failures tops the list.
    return sorted(rows.values(), key=lambda r: (-len(r.reasons), r.user.username,
                                                r.device.name if r.device else ""))


def failed_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(agents, lots) with failed tasks, as (pk, name) for the bulk retry's two lists.

    Their ids come from the partial index of failed tasks (task_failed_recent): a few
    thousand entries at a million tasks, not a join of the whole table."""
    failed = ColisTask.objects.filter(status__in=FAILED_STATES).order_by()
    agents = (User.objects.filter(pk__in=failed.values("initiated_by")).order_by("username")
              .values_list("pk", "username"))
    lots = (Lot.objects.filter(pk__in=failed.filter(lot__isnull=False).values("lot"))
            .order_by("-created_at", "-pk").values_list("pk", "numero_lot"))
    return list(agents), list(lots)


def attention_reasons(row: SyncRow, now: datetime) -> list[str]:
    """Codes of what is wrong with a row: `silent` (no contact, backlog), `failed`, `stale`."""
    reasons = []
    device = row.device
    if device is not None and not device.is_revoked and (device.outbox_pending or 0) > 0:
        if device.last_seen_at is None or now - device.last_seen_at >= SILENT_AFTER:
            reasons.append("silent")
    if row.failed:
        reasons.append("failed")
    if row.oldest_pending_at and (now - row.oldest_pending_at).total_seconds() >= getattr(
            settings, "ALERT_PENDING_AGE", 600):
        reasons.append("stale")
    return reasons


def hourly_chart(now: datetime | None = None) -> list[dict]:
    """24 hourly buckets, oldest first: received, completed, median and p95 seconds.

    Counted and, on PostgreSQL, ranked in the database: a busy day is a hundred thousand
    tasks, too many to read into Python for each page.
    """
    now = now or timezone.now()
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - DAY
    buckets = [{"start": start + timedelta(hours=i), "received": 0, "completed": 0,
                "median": None, "p95": None} for i in range(24)]

    def bucket(at: datetime) -> dict:
        return buckets[min(23, int((at - start).total_seconds() // 3600))]

    received = (ColisTask.objects.filter(created_at__gte=start)
                .annotate(hour=TruncHour("created_at")).values("hour")
                .annotate(n=Count("*")).values_list("hour", "n"))  # from the index alone
    for hour, n in received:
        bucket(hour)["received"] += n
    for hour, n, median, p95 in _completed_by_hour(start):
        bucket(hour).update(completed=n, median=median, p95=p95)
    return buckets


def _completed_by_hour(start: datetime) -> list[tuple]:
    """(hour, completed, median s, p95 s) of the tasks completed since `start`."""
    if connection.vendor == "postgresql":  # percentile_cont interpolates as `percentile`
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT date_trunc('hour', completed_at) AS hour, count(*),"
                " percentile_cont(0.5) WITHIN GROUP (ORDER BY took),"
                " percentile_cont(0.95) WITHIN GROUP (ORDER BY took)"
                " FROM (SELECT completed_at, EXTRACT(EPOCH FROM completed_at"
                "       - COALESCE(saved_at, created_at)) AS took"
                "       FROM sync_colistask WHERE status = %s AND completed_at >= %s) AS done"
                " GROUP BY hour", [Status.COMPLETED, start])
            return [(hour, n, float(median), float(p95))
                    for hour, n, median, p95 in cursor.fetchall()]
    hours: dict[datetime, list[float]] = {}
    done = ColisTask.objects.filter(status=Status.COMPLETED, completed_at__gte=start)
    for saved, created, completed in done.values_list("saved_at", "created_at", "completed_at"):
        hour = completed.replace(minute=0, second=0, microsecond=0)
        hours.setdefault(hour, []).append((completed - (saved or created)).total_seconds())
    return [(hour, len(took), percentile(took, 50), percentile(took, 95))
            for hour, took in hours.items()]


def search_tasks(query: str) -> QuerySet:
    """Tasks matching a numéro de suivi, an op_id or task_id, or a client's name or phone."""
    query = query.strip()
    rows = ColisTask.objects.select_related("colis", "lot", "initiated_by", "device")
    if not query:
        return rows.none()
    try:
        key = uuid.UUID(query)
        return rows.filter(Q(op_id=key) | Q(task_id=key))
    except ValueError:
        pass
    clients = Q(colis__client__nom__icontains=query) | Q(colis__client__prenom__icontains=query)
    clients |= Q(colis__client__telephone__icontains=query)
    # A task that failed before making its colis names its client only in the payload,
    # where a device may have sent the id as a number or as text.
    ids = _client_ids(query)
    by_payload = (Q(colis_data__client__in=ids) | Q(colis_data__client__in=[str(i) for i in ids])
                  if ids else Q(pk__in=[]))
    return rows.filter(Q(colis__numero_suivi__iexact=query) | clients | by_payload).distinct()


def _client_ids(query: str) -> list[int]:
    from server.cargo.models import Client

    return list(Client.objects.filter(Q(nom__icontains=query) | Q(prenom__icontains=query))
                .values_list("pk", flat=True)[:200])


def colis_for_lot(lot: Lot) -> QuerySet:
    """The lot's colis in the order they were registered (the pk breaks ties: pages are stable)."""
    return Colis.objects.filter(lot=lot).select_related("client").order_by("created_at", "pk")
