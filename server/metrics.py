"""/metrics, in Prometheus' text format, for a scraper holding METRICS_TOKEN (Bearer).

No token configured: 404, as if there were no such page. Every figure is read at scrape
time from what all nodes share (the database, Redis), so any web node behind the load
balancer gives the same answer: queue lengths and failed jobs, tasks by status, photos
failed by code, the tablets' own backlogs (what they last reported), the sync requests
counted by the hour (sync.SyncRequestCount, the « Résultats » page's figures), and the
latency of sync batches, a histogram whose buckets live in Redis for the same reason.
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
    hours = SyncRequestCount.objects.aggregate(total=Sum("total"), errors=Sum("server_errors"))
    requests = CounterMetricFamily("colis_sync_requests", "POST /api/v1/sync/ requests.",
                                   value=hours["total"] or 0)
    errors = CounterMetricFamily("colis_sync_server_errors", "Sync requests answered 5xx.",
                                 value=hours["errors"] or 0)
    return [tasks, photos, outbox, requests, errors]


class Collector:
    def collect(self):
        yield from database_metrics()
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
