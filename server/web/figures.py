"""The rollout's figures, measured from what the system records, by day and by agent.

Every figure is computed in the database from the tasks (and their colis) and the hourly
sync request counters (sync/counters.py); only the percentiles fall back to Python on SQLite, which has no
percentile_cont. A task belongs to the day (TIME_ZONE) and the agent of its save: the
tablet's save time (`saved_at`), else the server's receipt (`created_at`).

- colis per agent-hour: colis made by the agent's create tasks ÷ the agent's active hours.
  Create saves more than GAP apart start a new active period; a period lasts from its first
  save to its last plus LEAD_IN (the work before its first save, which nothing records), so
  a lone save counts LEAD_IN, and idle gaps over GAP count nothing. Per save, that is its
  gap to the agent's previous save when the gap is at most GAP, else LEAD_IN (LAG).
- save time on the tablet (ms): p50 and p95 of `save_ms`, as the PWA measured it.
- save to completed (s): average and p95 of completed_at − the save.
- backend processing (s): average and p95 of completed_at − started_at (the job's run).
- photo failures: colis made by create tasks whose photo failed ÷ those with a photo.
- sync server errors: POST /api/v1/sync/ answered 5xx ÷ all of them, the rollout plan's
  figure; beside it, without a target, those refused (the batch, or one of its items before
  it became a task: field errors, a reused op_id) ÷ all of them. By day only: the counters
  know no agent.

`results()` computes them live (the tests' reference). At a million colis
the page's 30 days took seconds that way, so `page_results()` reads them from ResultDay
rows (one per day, one per agent-day, each exact) and ResultPeriod (the percentiles over
the 30 days, merged from the days' histograms: the save time's exact, from counts per ms;
the durations' within ±0.5 %), kept up to date by `refresh_due`. « Mes tâches » shows the
agent's row of it (results.mine).
"""

import math
import uuid
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Greatest, Lag, TruncDate
from django.utils import timezone

from server.accounts.models import User
from server.cargo.models import Colis
from sync import enqueue
from sync.ingest import SAVED_AT_MAX_AGE
from sync.models import ColisTask, Status, SyncRequestCount

from .models import ResultDay, ResultPeriod
from .queries import percentile
from .rounding import half_up

DAYS = 30
GAP = 15 * 60  # seconds: saves further apart start a new active period
LEAD_IN = 60  # seconds each active period counts before its first save

# The rollout plan's targets, and what the old process measured.
SAVE_P50_MAX_MS = 2000  # before: 15–30 s
COLIS_PER_HOUR_MIN = 50  # before: 4
FAILURE_RATE_MAX = 0.02  # before: 15 %
BACKEND_AVG_MAX_S = 45

# Each target is judged on its figure as the page, the exports and /metrics' badge show it:
# rounded half up (rounding.py) to these decimals. Else 1 999,5 ms, shown « 2,0 s », would be
# « atteint » against « < 2,0 s ». Save time in ms, rates as ratios (3: 1,5 %), the rest as is.
SHOWN_DIGITS = {"save": 0, "productivity": 1, "photos": 3, "errors": 4, "backend": 1}


class Epoch(Func):
    """Seconds since 1970 of a datetime, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()
    template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS double precision)"

    def as_sqlite(self, compiler, conn, **extra):
        # Django keeps UTC text there, « 2026-12-04 10:02:51.123456 »; julianday reads the
        # fraction to the millisecond only (and may round it up into the next second): the
        # whole seconds of the first 19 characters, then the fraction as it is written, to
        # the microsecond as on PostgreSQL. (No strftime('%s'): its % reads as a parameter.)
        sql, params = compiler.compile(self.source_expressions[0])
        return (f"(CAST(ROUND((julianday(substr({sql}, 1, 19)) - 2440587.5) * 86400.0)"
                f" AS INTEGER) + COALESCE(CAST(substr({sql}, 20) AS REAL), 0.0))",
                (*params, *params))


@dataclass
class Figures:
    """One row of the page: a day, an agent, or the whole period."""

    saves: int = 0
    colis: int = 0
    active_s: float = 0.0
    save_p50: float | None = None
    save_p95: float | None = None
    took_sum: float = 0.0
    took_n: int = 0
    took_p95: float | None = None
    backend_sum: float = 0.0
    backend_n: int = 0
    backend_p95: float | None = None
    photos: int = 0
    photos_failed: int = 0
    requests: int = 0
    server_errors: int = 0
    refused: int = 0

    @property
    def active(self) -> bool:
        return bool(self.saves or self.requests)

    @property
    def colis_per_hour(self) -> float | None:
        return self.colis * 3600 / self.active_s if self.active_s else None

    @property
    def took_avg(self) -> float | None:
        return self.took_sum / self.took_n if self.took_n else None

    @property
    def backend_avg(self) -> float | None:
        return self.backend_sum / self.backend_n if self.backend_n else None

    @property
    def photo_failure_rate(self) -> float | None:
        return self.photos_failed / self.photos if self.photos else None

    @property
    def error_rate(self) -> float | None:
        return self.server_errors / self.requests if self.requests else None

    @property
    def refused_rate(self) -> float | None:
        """The device's input refused, not the server failing: no target of the plan."""
        return self.refused / self.requests if self.requests else None

    @property
    def met(self) -> dict[str, bool | None]:
        """Each target: met, not met, or None when there is nothing to judge it by."""
        judged = {
            "save": (self.save_p50, lambda v: v < SAVE_P50_MAX_MS),
            "productivity": (self.colis_per_hour, lambda v: v >= COLIS_PER_HOUR_MIN),
            "photos": (self.photo_failure_rate, lambda v: v < FAILURE_RATE_MAX),
            "errors": (self.error_rate, lambda v: v < FAILURE_RATE_MAX),
            "backend": (self.backend_avg, lambda v: v <= BACKEND_AVG_MAX_S),
        }
        return {figure: None if value is None else ok(half_up(value, SHOWN_DIGITS[figure]))
                for figure, (value, ok) in judged.items()}

    def add(self, other: "Figures") -> None:
        """Sum the additive counts of `other` into this row (not its percentiles)."""
        for name in ADDITIVE:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Results:
    start: datetime
    end: datetime
    total: Figures
    days: list[tuple[date, Figures]] = field(default_factory=list)
    agents: list[tuple[User, Figures]] = field(default_factory=list)


def period(now: datetime | None = None, days: int = DAYS) -> tuple[datetime, datetime]:
    """From local midnight `days - 1` days ago to the next local midnight."""
    today = timezone.localdate(now or timezone.now())
    start = today - timedelta(days=days - 1)
    midnight = datetime.min.time()
    return (timezone.make_aware(datetime.combine(start, midnight)),
            timezone.make_aware(datetime.combine(today + timedelta(days=1), midnight)))


def results(now: datetime | None = None, agent: User | None = None,
            days: int = DAYS) -> Results:
    """The figures of the last `days` days: in all, by day (every day, idle ones too), and
    by agent (those who saved anything); `agent` limits everything to one agent's tasks."""
    now = now or timezone.now()
    start, end = period(now, days)
    cells: dict[tuple, Figures] = defaultdict(Figures)  # (day, agent id) → additive counts
    _productivity(cells, start, end, agent)
    _timings(cells, start, end, agent)
    by_day: dict[date, Figures] = defaultdict(Figures)
    by_agent: dict[int, Figures] = defaultdict(Figures)
    total = Figures()
    for (day, agent_id), row in cells.items():
        by_day[day].add(row)
        by_agent[agent_id].add(row)
        total.add(row)
    if agent is None:  # the counters know no agent: an agent's own figures leave them out
        for day, requests, errors, refused in _requests(start, end):
            cell = by_day[day]
            cell.requests, cell.server_errors, cell.refused = requests, errors, refused
            total.requests += requests
            total.server_errors += errors
            total.refused += refused
    for (day, agent_id), values in _percentiles(start, end, agent).items():
        row = total if day is None and agent_id is None else (
            by_day[day] if agent_id is None else by_agent[agent_id])
        row.save_p50, row.save_p95, row.took_p95, row.backend_p95 = values
    calendar = _calendar(now, days)
    users = User.objects.in_bulk(list(by_agent))
    return Results(start, end, total, [(d, by_day.get(d) or Figures()) for d in calendar],
                   sorted(((users[a], f) for a, f in by_agent.items()),
                          key=lambda pair: pair[0].username))


def _tasks(start: datetime, end: datetime, agent: User | None) -> QuerySet:
    """Tasks saved in [start, end), each with its day, agent and save time in seconds.
    A save precedes its receipt by SAVED_AT_MAX_AGE at most (sync/ingest.py), so created_at
    in [start, end + SAVED_AT_MAX_AGE) narrows the scan by its index: an old day's refresh
    reads its own weeks, not every task since."""
    saved = Coalesce("saved_at", "created_at")
    rows = (ColisTask.objects.filter(created_at__gte=start,
                                     created_at__lt=end + SAVED_AT_MAX_AGE).annotate(t=saved)
            .filter(t__gte=start, t__lt=end).order_by())
    if agent is not None:
        rows = rows.filter(initiated_by=agent)
    return rows.annotate(day=TruncDate("t", tzinfo=timezone.get_current_timezone()),
                         agent=F("initiated_by_id"), t_s=Epoch("t"))


def _sql(rows: QuerySet) -> tuple[str, tuple]:
    return rows.query.sql_with_params()


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _productivity(cells: dict, start: datetime, end: datetime, agent: User | None) -> None:
    """Colis made and active seconds per (day, agent), by the idle-gap rule (LAG)."""
    # From GAP before `start`: a period running over the boundary counts the same whether
    # one day or thirty are computed.
    lead = start - timedelta(seconds=GAP)
    creates = _tasks(lead, end, agent).filter(operation=ColisTask.Operation.CREATE).annotate(
        made=Case(When(colis__isnull=False, then=1), default=0, output_field=IntegerField()),
        prev_s=Window(Lag("t_s"), partition_by=[F("initiated_by_id")],
                      order_by=[F("t_s").asc(), F("pk").asc()]),
        inside=Case(When(t__gte=start, then=1), default=0, output_field=IntegerField()),
    ).values("day", "agent", "made", "t_s", "prev_s", "inside")
    inner, params = _sql(creates)
    sql = ("SELECT day, agent, SUM(made), SUM(CASE WHEN prev_s IS NOT NULL AND"
           " t_s - prev_s <= %s THEN t_s - prev_s ELSE %s END)"
           f" FROM ({inner}) saves WHERE inside = 1 GROUP BY day, agent")
    with connection.cursor() as cursor:  # the parameters in the order of the placeholders
        cursor.execute(sql, (GAP, LEAD_IN, *params))
        for day, agent_id, made, active in cursor.fetchall():
            cell = cells[(_day(day), agent_id)]
            cell.colis, cell.active_s = int(made), float(active)


def _durations(rows: QuerySet) -> QuerySet:
    """`rows` with `took` (save to completed) and `backend` (job start to completed), in s."""
    done = Q(status=Status.COMPLETED, completed_at__isnull=False)
    return rows.annotate(
        took=Case(When(done, then=Epoch("completed_at") - F("t_s")), output_field=FloatField()),
        backend=Case(When(done & Q(started_at__isnull=False),
                          then=Epoch("completed_at") - Epoch("started_at")),
                     output_field=FloatField()))


def _photos(rows: QuerySet) -> QuerySet:
    """`rows` with `photo` (1: made a colis sent with a photo) and `photo_failed`."""
    with_photo = ~Q(colis__photo_status=Colis.Photo.NONE) & Q(
        operation=ColisTask.Operation.CREATE, colis__isnull=False)
    return rows.annotate(
        photo=Case(When(with_photo, then=1), default=0, output_field=IntegerField()),
        photo_failed=Case(When(with_photo & Q(colis__photo_status=Colis.Photo.FAILED), then=1),
                          default=0, output_field=IntegerField()))


def _timings(cells: dict, start: datetime, end: datetime, agent: User | None) -> None:
    """Saves, duration sums and counts, photos per (day, agent): additive, merged later."""
    rows = _photos(_durations(_tasks(start, end, agent))).values(
        "day", "agent", "took", "backend", "photo", "photo_failed")
    inner, params = _sql(rows)
    sql = ("SELECT day, agent, COUNT(*), SUM(took), COUNT(took), SUM(backend), COUNT(backend),"
           f" SUM(photo), SUM(photo_failed) FROM ({inner}) tasks GROUP BY day, agent")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for day, agent_id, saves, took, took_n, backend, backend_n, photos, failed in cursor:
            cell = cells[(_day(day), agent_id)]
            cell.saves, cell.took_sum, cell.took_n = saves, float(took or 0), took_n
            cell.backend_sum, cell.backend_n = float(backend or 0), backend_n
            cell.photos, cell.photos_failed = int(photos or 0), int(failed or 0)


def _requests(start: datetime, end: datetime) -> list[tuple[date, int, int, int]]:
    """(day, sync requests, of them 5xx, of them refused) of the hourly counters."""
    rows = (SyncRequestCount.objects.filter(hour__gte=start, hour__lt=end)
            .annotate(day=TruncDate("hour", tzinfo=timezone.get_current_timezone()))
            .values("day").annotate(n=Sum("total"), errors=Sum("server_errors"),
                                    refused=Sum("refused"))
            .order_by("day"))
    return [(_day(r["day"]), r["n"], r["errors"], r["refused"]) for r in rows]


PERCENTILE_KEYS = ("save_ms", "took", "backend")


def _percentiles(start: datetime, end: datetime, agent: User | None) -> dict:
    """(day, None), (None, agent) and (None, None) → (save p50 ms, save p95 ms, save to
    completed p95 s, backend p95 s)."""
    rows = _durations(_tasks(start, end, agent)).values("day", "agent", *PERCENTILE_KEYS)
    inner, params = _sql(rows)
    if connection.vendor == "postgresql":  # percentile_cont interpolates as `percentile`
        sql = ("SELECT day, agent, GROUPING(day), GROUPING(agent),"
               " percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY save_ms),"
               " percentile_cont(0.95) WITHIN GROUP (ORDER BY took),"
               " percentile_cont(0.95) WITHIN GROUP (ORDER BY backend)"
               f" FROM ({inner}) tasks GROUP BY GROUPING SETS ((day), (agent), ())")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {(None if no_day else _day(day), None if no_agent else agent_id):
                    (*(saves or (None, None)), took, backend)
                    for day, agent_id, no_day, no_agent, saves, took, backend in cursor.fetchall()}
    groups = _value_groups(inner, params)
    return {key: (percentile(saves, 50), percentile(saves, 95), percentile(took, 95),
                  percentile(backend, 95))
            for key, (saves, took, backend) in groups.items()}


def _value_groups(inner: str, params: tuple) -> dict[tuple, list[list[float]]]:
    """(day, None), (None, agent), (None, None) → [save ms], [took s], [backend s]."""
    groups: dict[tuple, list[list[float]]] = defaultdict(lambda: [[], [], []])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT day, agent, save_ms, took, backend FROM ({inner}) tasks", params)
        for day, agent_id, *values in cursor.fetchall():
            for key in ((_day(day), None), (None, agent_id), (None, None)):
                for bucket, value in zip(groups[key], values, strict=True):
                    if value is not None:
                        bucket.append(float(value))
    return groups


# --- the daily table: what the page reads ---------------------------------------------

UNSETTLED = 2  # today and yesterday: still moving, recomputed once older than REFRESH
REFRESH = timedelta(minutes=5)
LOOKBACK = 3 * REFRESH  # see refresh_due
RESOLUTION = 1.01  # histogram buckets 1 % wide: several days' percentiles within ±0.5 %
REFRESH_JOB = "server.web.figures.refresh_days"
PERIOD_LOCK = 0x7265737574  # the advisory lock of ResultPeriod's writes


def page_results(now: datetime | None = None, days: int = DAYS,
                 agent: User | None = None) -> Results:
    """The figures of `results()` for every agent, read from ResultDay rows (brought up to
    date first): each day's figures are exact; percentiles over several days come from the
    days' histograms, merged in ResultPeriod; by agent, only the save time's. With `agent`,
    `agents` holds that agent's row alone (« Mes tâches »: the same figures as the page's)."""
    now = now or timezone.now()
    start, end = period(now, days)
    calendar = _calendar(now, days)
    refresh_due(calendar, now)
    by_day: dict[date, Figures] = {}
    by_agent: dict[int, Figures] = defaultdict(Figures)
    total = Figures()
    table = ResultDay.objects.filter(day__in=calendar).order_by()
    for day, *values in table.filter(agent=None).values_list("day", *ADDITIVE, *EXACT):
        by_day[day] = Figures(**dict(zip(ADDITIVE + EXACT, values, strict=True)))
        total.add(by_day[day])
    sums = [Sum(name) for name in ADDITIVE]
    agent_rows = table.exclude(agent=None) if agent is None else table.filter(agent=agent)
    for agent_id, *values in agent_rows.values("agent").annotate(
            *sums).values_list("agent", *[f"{name}__sum" for name in ADDITIVE]):
        by_agent[agent_id] = Figures(**dict(zip(ADDITIVE, values, strict=True)))
    for agent_id, values in _period_percentiles(calendar, table, now).items():
        if agent_id is not None and agent_id not in by_agent:
            continue  # another agent's (with `agent`)
        target = total if agent_id is None else by_agent[agent_id]
        for name, value in zip(EXACT, values, strict=True):
            setattr(target, name, value)
    users = User.objects.in_bulk(list(by_agent))
    return Results(start, end, total, [(d, by_day.get(d) or Figures()) for d in calendar],
                   sorted(((users[a], f) for a, f in by_agent.items()),
                          key=lambda pair: pair[0].username))


def _calendar(now: datetime, days: int = DAYS) -> list[date]:
    start, _ = period(now, days)
    return [timezone.localdate(start) + timedelta(days=i) for i in range(days)]


def _period_percentiles(calendar: list[date], table: QuerySet, now: datetime) -> dict:
    """agent id (None: all) → its EXACT percentiles over `calendar`: the ResultPeriod rows
    while they were merged from the day rows there are now, else merged again and kept.

    A merge is keyed on the rows it read (their `_basis`), never on a clock: a view can
    merge while a job is half way through its days, and the job's rows, stamped with the
    job's older `now`, must still replace that merge. A claim in refresh_due moves a row's
    computed_at only, not its id, so it costs no merge."""
    first, last = calendar[0], calendar[-1]
    kept = {agent_id: (basis, values) for agent_id, basis, *values in ResultPeriod.objects
            .filter(first_day=first, last_day=last).values_list("agent", "basis", *EXACT)}
    if None in kept and kept[None][0] == _basis(*table.aggregate(
            n=Count("pk"), total=Sum("pk"), top=Max("pk")).values()):
        return {agent_id: values for agent_id, (_, values) in kept.items()}
    rows: dict[int | None, list[tuple]] = defaultdict(list)
    ids = []
    for pk, agent_id, *exact, histograms in table.values_list(
            "pk", "agent", *EXACT, "histograms"):
        ids.append(pk)
        rows[agent_id].append((exact, histograms))
    merged = {}
    for agent_id, agent_rows in rows.items():
        cell = Figures()
        _merged_percentiles(cell, agent_rows)
        if agent_id is not None:  # by agent, the save time's alone (see _histograms)
            cell.took_p95 = cell.backend_p95 = None
        merged[agent_id] = tuple(getattr(cell, name) for name in EXACT)
    merged.setdefault(None, (None,) * len(EXACT))
    basis = _basis(len(ids), sum(ids), max(ids, default=None))
    with transaction.atomic():
        if connection.vendor == "postgresql":  # one merge written at a time
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PERIOD_LOCK])
        ResultPeriod.objects.all().delete()
        ResultPeriod.objects.bulk_create([
            ResultPeriod(first_day=first, last_day=last, agent_id=agent_id, computed_at=now,
                         basis=basis, **dict(zip(EXACT, values, strict=True)))
            for agent_id, values in merged.items()])
    return merged


def _basis(count: int, total: int | None, top: int | None) -> str:
    """Which day rows a merge read: their number, the sum and the highest of their ids.
    A day's refresh replaces its rows by rows of higher ids (ids only grow: AUTOINCREMENT
    on SQLite, a sequence on PostgreSQL), so the same number of rows has a larger sum, and
    another number is another count: any refresh of any day of the period changes it."""
    return f"{count}:{total or 0}:{top or 0}"


def refresh_due(calendar: list[date], now: datetime) -> list[date]:
    """Bring the days of `calendar` up to date: those the table lacks now, here; in an RQ
    job, the unsettled ones older than REFRESH and older ones with a task received or
    completed after their own last refresh (a tablet that syncs days late). Changes are
    looked for LOOKBACK before the newest refresh: a day that stops being unsettled at
    midnight keeps the changes since its own last refresh, even when today's was later.
    A view claims a stale day by moving its computed_at to `now` (one view wins, the others
    read the rows as they are); the job computes it with that `now`, so changes after it
    are seen next time; a claim whose job Redis refused is given back. Returns the days
    computed or queued."""
    have = dict(ResultDay.objects.filter(day__in=calendar, agent=None)
                .values_list("day", "computed_at"))
    recent = set(calendar[-UNSETTLED:])
    stale = {d for d in recent if d in have and have[d] < now - REFRESH}
    if have:
        latest = _changed_days(max(have.values()) - LOOKBACK)
        stale |= {d for d, at in latest.items() if d in have and d not in recent and at > have[d]}
    missing = [d for d in calendar if d not in have]
    for day in missing:
        refresh_day(day, now)
    claimed = [d for d in sorted(stale) if ResultDay.objects.filter(
        day=d, agent=None, computed_at=have[d]).update(computed_at=now)]
    if claimed:
        days = [d.isoformat() for d in claimed]
        queued = enqueue.enqueue("colis", [enqueue.Call(REFRESH_JOB, (days, now.isoformat()),
                                                        f"results-{uuid.uuid4().hex}")],
                                 lost=f"results of {', '.join(days)} left as they were")
        if not queued:  # due again next time, not forgotten behind a claim
            for d in claimed:
                ResultDay.objects.filter(day=d, agent=None, computed_at=now).update(
                    computed_at=have[d])
            return missing
    return missing + claimed


def keep_fresh(now: datetime | None = None) -> list[date]:
    """The sweeper's duty, each pass: the page's days brought up to date with no one looking,
    so that a visit after a quiet afternoon shows figures at most REFRESH (and a job's run)
    old, not those of the last visit. Returns the days computed or queued."""
    now = now or timezone.now()
    return refresh_due(_calendar(now), now)


def refresh_days(days: list[str], now: str) -> None:
    """RQ job: compute `days` (ISO dates) again, as of `now` (ISO): see refresh_due."""
    when = datetime.fromisoformat(now)
    for day in days:
        refresh_day(date.fromisoformat(day), when)
    calendar = _calendar(when)  # the merge too, so that no view waits for it
    _period_percentiles(calendar, ResultDay.objects.filter(day__in=calendar).order_by(), when)


def _changed_days(since: datetime) -> dict[date, datetime]:
    """Save day → its latest receipt or completion, of the tasks received or completed
    since `since` (both by an index)."""
    saved = Coalesce("saved_at", "created_at")
    tz = timezone.get_current_timezone()
    changed = ColisTask.objects.filter(
        Q(created_at__gte=since) | Q(status=Status.COMPLETED, completed_at__gte=since))
    touched = Greatest("created_at", Coalesce("completed_at", "created_at"))
    return {_day(d): at for d, at in changed.annotate(day=TruncDate(saved, tzinfo=tz))
            .order_by().values("day").annotate(at=Max(touched)).values_list("day", "at")}


def refresh_day(day: date, now: datetime | None = None) -> None:
    """Replace `day`'s rows: one per agent who saved that day, one for all (exact)."""
    now = now or timezone.now()
    midnight = datetime.min.time()
    start = timezone.make_aware(datetime.combine(day, midnight))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), midnight))
    cells: dict[tuple, Figures] = defaultdict(Figures)
    _productivity(cells, start, end, None)
    _timings(cells, start, end, None)
    inner, params = _sql(_durations(_tasks(start, end, None)).values(
        "day", "agent", *PERCENTILE_KEYS))
    values = _value_groups(inner, params)
    everyone = Figures()
    rows = []
    for (_, agent_id), cell in cells.items():
        everyone.add(cell)
        rows.append(_to_row(day, agent_id, cell, values.get((None, agent_id)), now))
    for _, requests, errors, refused in _requests(start, end):
        everyone.requests, everyone.server_errors, everyone.refused = requests, errors, refused
    rows.append(_to_row(day, None, everyone, values.get((None, None)), now))
    with transaction.atomic():
        if connection.vendor == "postgresql":  # two refreshes of a day: one after the other
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [day.toordinal()])
        if ResultDay.objects.filter(day=day, agent=None, computed_at__gt=now).exists():
            return  # claimed or computed later than this `now`: that run's rows stand
        ResultDay.objects.filter(day=day).delete()
        ResultDay.objects.bulk_create(rows)


ADDITIVE = ("saves", "colis", "active_s", "took_sum", "took_n", "backend_sum", "backend_n",
            "photos", "photos_failed", "requests", "server_errors", "refused")
EXACT = ("save_p50", "save_p95", "took_p95", "backend_p95")


def _to_row(day: date, agent_id: int | None, cell: Figures, values, now) -> ResultDay:
    saves, took, backend = values or ([], [], [])
    return ResultDay(
        day=day, agent_id=agent_id, computed_at=now,
        save_p50=percentile(saves, 50), save_p95=percentile(saves, 95),
        took_p95=percentile(took, 95), backend_p95=percentile(backend, 95),
        histograms=_histograms(agent_id, saves, took, backend),
        **{name: getattr(cell, name) for name in ADDITIVE})


def _histograms(agent_id: int | None, saves: list, took: list, backend: list) -> dict:
    """The save time's exact counts (ms → saves: the tablet sends whole ms, so several
    days' percentiles are exact), and, on the day's row for all, the durations' 1 %
    buckets. An agent's rows keep the save time's alone: 200 agents' days are most of the
    rows the page reads, and its targets need no other percentile by agent."""
    exact = {"save_ms": dict(Counter(str(round(v)) for v in saves))}
    if agent_id is not None:
        return exact
    return {**exact, "took": _histogram([v * 1000 for v in took]),
            "backend": _histogram([v * 1000 for v in backend])}


def _bucket(ms: float) -> int:
    """0 below 1 ms; else b with RESOLUTION**(b-1) <= ms < RESOLUTION**b."""
    return 0 if ms < 1 else 1 + math.floor(math.log(ms) / math.log(RESOLUTION))


def _histogram(values_ms: list[float]) -> dict[str, int]:
    return dict(Counter(str(_bucket(v)) for v in values_ms))


def _bucket_middle(bucket: int) -> float:
    """A 1 % bucket's value: its geometric middle."""
    return 0.5 if bucket == 0 else RESOLUTION ** (bucket - 0.5)


def _histogram_percentiles(histograms: list[dict], qs: tuple[float, ...],
                           value=_bucket_middle) -> list:
    """The qs-th percentiles of merged histograms (key → count), each key read as
    `value(key)` (an exact count's key is its value), interpolated as `percentile` does;
    None for no values."""
    counts: dict[str, int] = {}
    for histogram in histograms:
        for bucket, n in histogram.items():
            counts[bucket] = counts.get(bucket, 0) + n
    if not counts:
        return [None] * len(qs)
    buckets = sorted(int(b) for b in counts)
    ends = list(accumulate(counts[str(b)] for b in buckets))

    def nth(k: int) -> float:
        return value(buckets[bisect_right(ends, k)])

    out = []
    for q in qs:
        rank = (ends[-1] - 1) * q / 100
        low, high = math.floor(rank), math.ceil(rank)
        out.append(nth(low) + (nth(high) - nth(low)) * (rank - low))
    return out


def _merged_percentiles(target: Figures, rows: list[tuple]) -> None:
    """Percentiles of several days' rows (exact values, histograms): a lone day with values
    keeps its exact ones; past that, the save time's come exact from the merged counts per
    ms, the durations' from the merged 1 % buckets (within ±0.5 %)."""
    rows = [r for r in rows if any(r[1].values())]
    if len(rows) == 1:
        for name, value in zip(EXACT, rows[0][0], strict=True):
            setattr(target, name, value)
        return
    target.save_p50, target.save_p95 = _histogram_percentiles(  # exact: counts per ms
        [h["save_ms"] for _, h in rows], (50, 95), value=float)
    for key in ("took", "backend"):  # none by agent over several days: see _histograms
        (p95,) = _histogram_percentiles([h.get(key, {}) for _, h in rows], (95,))
        setattr(target, f"{key}_p95", None if p95 is None else p95 / 1000)
