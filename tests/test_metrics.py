"""/metrics: Prometheus' text, for the holder of METRICS_TOKEN only, from shared state."""

import uuid

import django_rq
import pytest
import redis
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from server import metrics as metrics_module
from server.cargo import services
from server.cargo.models import Colis
from sync.models import ColisTask, SyncRequestCount

from .conftest import item
from .security_helpers import free_port

TOKEN = "s3cret-scraper-token"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


def scrape(client, auth) -> dict:
    """{(sample name, labels as a sorted tuple): value}"""
    response = client.get("/metrics", **auth)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.content.decode())
            for s in family.samples}


def task(user, status: str) -> ColisTask:
    return ColisTask.objects.create(op_id=uuid.uuid4(), operation="create", colis_data={},
                                    payload_hash="-", initiated_by=user, status=status)


def test_it_is_not_there_without_a_token_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {TOKEN}", TOKEN])
def test_it_refuses_any_other_authorization_with_401(client, token, header):
    auth = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **auth)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"


def test_it_reports_tasks_photos_backlogs_and_sync_requests(client, token, alice, alice_api,
                                                            bob_api, colis_data, redis_clean):
    for status in ("pending", "pending", "failed_final", "completed"):
        task(alice, status)
    for code in ("photo_not_image", "photo_not_image", "photo_too_large"):
        colis = services.create_colis(alice, colis_data, photo_id=uuid.uuid4())
        Colis.objects.filter(pk=colis.pk).update(photo_status="failed", photo_error=code)
    alice_api.device.report_outbox(5, timezone.now(), photos=2)
    bob_api.device.report_outbox(3, timezone.now(), photos=1)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    SyncRequestCount.objects.create(hour=hour, total=40, server_errors=2)
    # Straight into Redis (django-rq would wait for the test's transaction to commit).
    Queue("colis", connection=django_rq.get_connection("colis")).enqueue("sync.jobs.nothing_at_all")
    metrics = scrape(client, token)
    assert metrics["colis_tasks", (("status", "pending"),)] == 2
    assert metrics["colis_tasks", (("status", "failed_final"),)] == 1
    assert metrics["colis_tasks", (("status", "cancelled"),)] == 0
    assert metrics["colis_photos_failed", (("code", "photo_not_image"),)] == 2
    assert metrics["colis_photos_failed", (("code", "photo_too_large"),)] == 1
    assert metrics["colis_device_outbox", (("kind", "items"),)] == 8
    assert metrics["colis_device_outbox", (("kind", "photos"),)] == 3
    assert metrics["colis_sync_requests_total", ()] == 40
    assert metrics["colis_sync_server_errors_total", ()] == 2
    assert metrics["colis_queue_length", (("queue", "colis"),)] == 1
    assert metrics["colis_queue_length", (("queue", "notifications"),)] == 0
    assert metrics["colis_redis_up", ()] == 1


def test_it_times_every_sync_batch_in_a_shared_histogram(client, token, alice_api, colis_data,
                                                         redis_clean, inline_jobs):
    for _ in range(2):
        answer = alice_api.post("/api/v1/sync/", {"items": [item(**colis_data)]}, format="json")
        assert answer.status_code == 200
    assert alice_api.post("/api/v1/sync/", {"nope": 1}, format="json").status_code == 400
    metrics = scrape(client, token)
    assert metrics["colis_sync_batch_seconds_count", ()] == 3
    assert 0 < metrics["colis_sync_batch_seconds_sum", ()] < 30
    assert metrics["colis_sync_batch_seconds_bucket", (("le", "+Inf"),)] == 3
    assert metrics["colis_sync_batch_seconds_bucket", (("le", "0.05"),)] <= 3


def test_it_still_answers_when_redis_is_down(client, token, alice, monkeypatch):
    dead = redis.Redis(port=free_port(), socket_connect_timeout=1)
    monkeypatch.setattr(metrics_module, "queue", lambda name: Queue(name, connection=dead))
    task(alice, "pending")
    metrics = scrape(client, token)
    assert metrics["colis_redis_up", ()] == 0
    assert metrics["colis_tasks", (("status", "pending"),)] == 1
