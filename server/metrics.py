"""/metrics, in Prometheus' text format, for a scraper holding METRICS_TOKEN (Bearer).

No token configured: 404, as if there were no such page. Every figure is read at scrape
time from what all nodes share (the database, Redis), so any web node behind the load
balancer gives the same answer: queue lengths and failed jobs, tasks by status, photos
failed by code, the tablets' own backlogs (what they last reported), the sync requests
counted by the hour with their 5xx and refusals (sync.SyncRequestCount), the latency of
sync batches, a histogram whose buckets live in Redis for the same reason, and the
rollout's figures of the
« Résultats » page (server/web/figures.py: its daily rows), over its 30 days, today, and by
agent, with each target and whether it is met.
"""

import functools
import hmac
import logging
import time

from django.conf import settings
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from redis.exceptions import RedisError
from rq import Worker

from server.accounts.models import Device
from server.cargo.models import Colis
from server.web import figures
from sync.enqueue import queue
from sync.models import ColisTask, Status, SyncRequestCount

log = logging.getLogger(__name__)
QUEUES = ("colis", "notifications")
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)  # seconds
LATENCY_KEY = "colis:metrics:sync_batch_seconds"  # a hash: one field per bucket, count, sum


def observe_sync_batch(seconds: float) -> None:
    """Count one sync batch's latency; never fails the batch (Redis down: not counted)."""
    bucket = next((str(b) for b in BUCKETS if seconds <= b), "+Inf")
    try:
        pipe = queue("colis").connection.pipeline(transaction=False)
        pipe.hincrby(LATENCY_KEY, bucket, 1).hincrby(LATENCY_KEY, "count", 1)
        pipe.hincrbyfloat(LATENCY_KEY, "sum", seconds).execute()
    except RedisError:
        log.warning("sync batch latency not counted: Redis unreachable")


def timed(view_method):
    """Decorate SyncBatchView.post: its latency goes to the histogram."""
    @functools.wraps(view_method)
    def timed_view(*args, **kwargs):
        started = time.perf_counter()
        try:
            return view_method(*args, **kwargs)
        finally:
            observe_sync_batch(time.perf_counter() - started)

    return timed_view


def _latency(raw: dict) -> HistogramMetricFamily:
    buckets, running = [], 0
    for bound in (*map(str, BUCKETS), "+Inf"):
        running += int(raw.get(bound.encode(), 0))
        buckets.append((bound, running))
    return HistogramMetricFamily("colis_sync_batch_seconds", "Latency of POST /api/v1/sync/.",
                                 buckets=buckets, sum_value=float(raw.get(b"sum", 0)))


def redis_metrics():
    up = GaugeMetricFamily("colis_redis_up", "Whether Redis answered this scrape.")
    try:
        conn = queue("colis").connection
        length = GaugeMetricFamily("colis_queue_length", "Jobs waiting in an RQ queue.",
                                   labels=["queue"])
        failed = GaugeMetricFamily("colis_failed_jobs", "Jobs in an RQ queue's failed registry.",
                                   labels=["queue"])
        for name in QUEUES:
            length.add_metric([name], queue(name).count)
            failed.add_metric([name], queue(name).failed_job_registry.count)
        workers = GaugeMetricFamily("colis_workers", "RQ workers alive.",
                                    value=len(Worker.all(connection=conn)))
        latency = _latency(conn.hgetall(LATENCY_KEY))
    except RedisError:
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    return [up, length, failed, workers, latency]


def database_metrics():
    tasks = GaugeMetricFamily("colis_tasks", "Sync tasks by status.", labels=["status"])
    counts = dict(ColisTask.objects.values_list("status").annotate(n=Count("pk")).order_by())
    for status in Status.values:
        tasks.add_metric([status], counts.get(status, 0))
    photos = GaugeMetricFamily("colis_photos_failed", "Colis whose photo failed, by code.",
                               labels=["code"])
    for code, n in (Colis.objects.filter(photo_status=Colis.Photo.FAILED)
                    .values_list("photo_error").annotate(n=Count("pk")).order_by()):
        photos.add_metric([code or "unknown"], n)
    backlog = Device.objects.filter(revoked_at__isnull=True).aggregate(
        items=Sum("outbox_pending"), photos=Sum("outbox_photos"))
    outbox = GaugeMetricFamily("colis_device_outbox", "What the tablets last reported waiting "
                               "in their outbox.", labels=["kind"])
    outbox.add_metric(["items"], backlog["items"] or 0)
    outbox.add_metric(["photos"], backlog["photos"] or 0)
    hours = SyncRequestCount.objects.aggregate(total=Sum("total"), errors=Sum("server_errors"),
                                               refused=Sum("refused"))
    requests = CounterMetricFamily("colis_sync_requests", "POST /api/v1/sync/ requests.",
                                   value=hours["total"] or 0)
    errors = CounterMetricFamily("colis_sync_server_errors", "Sync requests answered 5xx.",
                                 value=hours["errors"] or 0)
    refused = CounterMetricFamily("colis_sync_refused", "Sync requests not answered 5xx whose "
                                  "batch or an item the server refused.",
                                  value=hours["refused"] or 0)
    return [tasks, photos, outbox, requests, errors, refused]


# The « Résultats » figures: (metric, help, labels of its own, [(label values, Figures → value)]).
RESULTS = (
    ("colis_results_colis_per_agent_hour", "Colis per agent-hour over active periods.", [],
     [((), lambda f: f.colis_per_hour)]),
    ("colis_results_save_ms", "Save time on the tablet, ms.", ["quantile"],
     [(("0.5",), lambda f: f.save_p50), (("0.95",), lambda f: f.save_p95)]),
    ("colis_results_save_to_completed_seconds", "From the save to the colis completed.",
     ["stat"], [(("avg",), lambda f: f.took_avg), (("p95",), lambda f: f.took_p95)]),
    ("colis_results_backend_seconds", "From the job's start to completed.", ["stat"],
     [(("avg",), lambda f: f.backend_avg), (("p95",), lambda f: f.backend_p95)]),
    ("colis_results_photo_failure_ratio", "Photos failed ÷ photos attempted.", [],
     [((), lambda f: f.photo_failure_rate)]),
    ("colis_results_sync_error_ratio", "Sync requests answered 5xx ÷ all of them.", [],
     [((), lambda f: f.error_rate)]),
    ("colis_results_sync_refused_ratio", "Sync requests refused (the batch, or an item of it) "
     "÷ all of them; no target.", [], [((), lambda f: f.refused_rate)]),
)
TARGETS = {  # figure of Figures.met → (metric, how it is compared to the target, target)
    "save": ("colis_results_save_ms", "p50 < target", figures.SAVE_P50_MAX_MS),
    "productivity": ("colis_results_colis_per_agent_hour", ">= target", figures.COLIS_PER_HOUR_MIN),
    "photos": ("colis_results_photo_failure_ratio", "< target", figures.FAILURE_RATE_MAX),
    "errors": ("colis_results_sync_error_ratio", "< target", figures.FAILURE_RATE_MAX),
    "backend": ("colis_results_backend_seconds", "avg <= target", figures.BACKEND_AVG_MAX_S),
}


def results_metrics():
    """The page's figures: `period` 30d (all agents, and each `agent`) and today."""
    data = figures.page_results()
    rows = [("30d", "", data.total), ("today", "", data.days[-1][1])]
    rows += [("30d", user.username, f) for user, f in data.agents]
    families = []
    for name, help_text, labels, samples in RESULTS:
        family = GaugeMetricFamily(name, help_text, labels=["period", "agent", *labels])
        for period, agent, f in rows:
            for values, read in samples:
                value = read(f)
                if value is not None:
                    family.add_metric([period, agent, *values], value)
        families.append(family)
    target = GaugeMetricFamily("colis_results_target", "The rollout plan's target of a figure.",
                               labels=["figure", "metric", "rule"])
    met = GaugeMetricFamily("colis_results_target_met", "1: the figure meets its target, 0: not "
                            "(absent: nothing to judge it by).", labels=["period", "agent", "figure"])
    for figure, (metric, rule, value) in TARGETS.items():
        target.add_metric([figure, metric, rule], value)
    for period, agent, f in rows:
        for figure, ok in f.met.items():
            if ok is not None:
                met.add_metric([period, agent, figure], int(ok))
    return [*families, target, met]


class Collector:
    def collect(self):
        yield from database_metrics()
        yield from results_metrics()
        yield from redis_metrics()


def metrics(request: HttpRequest) -> HttpResponse:
    """GET /metrics with `Authorization: Bearer <METRICS_TOKEN>`."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
