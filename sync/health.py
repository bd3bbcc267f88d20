"""The state of the pipeline, for /api/v1/health/ and the supervisors' page. No secrets.

It names the node that answered (NODE_NAME), as the sweeper's last run names its own."""

import json

from django.conf import settings
from django.db import connection
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Worker

from .enqueue import queue
from .models import ColisTask, Status

SWEEPER_KEY = "colis:sweeper:last"


def redis():
    return queue("colis").connection


def record_sweep(summary: dict) -> None:
    """The sweeper's last run (and its node), kept in Redis for the health report."""
    try:
        redis().set(SWEEPER_KEY, json.dumps({**summary, "at": timezone.now().isoformat(),
                                             "node": settings.NODE_NAME}), ex=86400)
    except RedisError:
        pass


def report() -> dict:
    now = timezone.now()
    out: dict = {"node": settings.NODE_NAME, "database": "ok", "redis": "ok", "queues": {}, "workers": 0,
                 "failed_jobs": {}, "sweeper": None}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        oldest = (ColisTask.objects.filter(status=Status.PENDING).order_by("created_at")
                  .values_list("created_at", flat=True).first())
        out["oldest_pending_age"] = (now - oldest).total_seconds() if oldest else None
        out["failed_final"] = ColisTask.objects.filter(status=Status.FAILED_FINAL).count()
    except Exception:  # noqa: BLE001 - reported, not raised
        out["database"] = "error"
    try:
        conn = redis()
        conn.ping()
        for name in ("colis", "notifications"):
            rq_queue = queue(name)
            out["queues"][name] = rq_queue.count
            out["failed_jobs"][name] = rq_queue.failed_job_registry.count
        out["workers"] = len(Worker.all(connection=conn))
        raw = conn.get(SWEEPER_KEY)
        out["sweeper"] = json.loads(raw) if raw else None
    except RedisError:
        out["redis"] = "error"
    out["ok"] = out["database"] == "ok" and out["redis"] == "ok"
    return out
