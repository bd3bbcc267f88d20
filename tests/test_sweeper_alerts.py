"""The sweeper's alerts: to ADMINS by mail and to the alert webhook (signed), at most once
every ALERT_EVERY seconds per kind, whatever the number of passes and sweepers."""

import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync import health
from sync.models import ColisTask, Status
from sync.sweeper import ALERT_KEY, sweep


class Hook(BaseHTTPRequestHandler):
    received: list

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers["X-Colis-Signature"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook(settings):
    Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.ALERT_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/alerts"
    settings.NOTIFY_WEBHOOK_SECRET = "hook-secret"
    yield Hook.received
    server.shutdown()


@pytest.fixture
def failing(alice, settings):
    """Two tasks failed for good, past a threshold of one."""
    settings.ALERT_FAILED_FINAL = 1
    settings.ADMINS = [("ops", "ops@example.com")]
    for _ in range(2):
        ColisTask.objects.create(op_id=uuid.uuid4(), operation="create",
                                 colis_data={}, payload_hash="-", initiated_by=alice,
                                 status=Status.FAILED_FINAL)


def test_it_mails_and_posts_an_alert_once_for_many_passes(failing, hook, mailoutbox, redis_clean,
                                                          settings):
    for _ in range(3):
        assert sweep()["alerts"] == ["2 tâches en échec définitif"]
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ops@example.com"]
    assert "2 tâches en échec définitif" in mailoutbox[0].subject
    [(signature, body)] = hook
    expected = hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["event"] == "alert" and payload["kind"] == "failed_final"
    assert payload["params"] == {"count": 2} and payload["node"] == settings.NODE_NAME
    ttl = health.redis().ttl(ALERT_KEY.format("failed_final"))
    assert settings.ALERT_EVERY - 5 < ttl <= settings.ALERT_EVERY == 3600


def test_it_sends_the_alert_again_once_its_hour_has_passed(failing, hook, mailoutbox, redis_clean,
                                                           settings):
    settings.ALERT_EVERY = 1
    sweep()
    time.sleep(1.2)
    sweep()
    assert len(mailoutbox) == 2 and len(hook) == 2


def test_it_keeps_sweeping_when_the_webhook_is_down(failing, mailoutbox, redis_clean, settings):
    settings.ALERT_WEBHOOK_URL = "http://127.0.0.1:9/unreachable"
    assert sweep()["alerts"] and len(mailoutbox) == 1
