import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail

from server.cargo import services
from server.notifications.jobs import notify
from server.notifications.models import Notification


@pytest.fixture
def colis(alice, tariffs, colis_data, client_row):
    client_row.email = "aminata@example.com"
    client_row.save()
    return services.create_colis(alice, colis_data)


def test_it_sends_each_event_at_most_once(colis, settings, caplog):
    settings.NOTIFY_CHANNELS = ["log"]
    with caplog.at_level("INFO", logger="colis.notifications"):
        assert notify(colis.pk, "colis_registered") == "sent"
        assert notify(colis.pk, "colis_registered") == "skipped"
        assert notify(colis.pk + 1, "colis_registered") == "no colis"
    assert sum(colis.numero_suivi in r.message for r in caplog.records) == 1
    row = Notification.objects.get()
    assert row.status == "sent" and row.attempts == 1


def test_it_emails_the_client(colis, settings):
    settings.NOTIFY_CHANNELS = ["email"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    notify(colis.pk, "colis_registered")
    assert len(mail.outbox) == 1
    assert colis.numero_suivi in mail.outbox[0].subject
    assert mail.outbox[0].to == ["aminata@example.com"]


class Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((self.headers["X-Colis-Signature"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_it_posts_a_signed_webhook(colis, settings):
    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.handle_request, daemon=True).start()
    settings.NOTIFY_CHANNELS = ["webhook"]
    settings.NOTIFY_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hook"
    settings.NOTIFY_WEBHOOK_SECRET = "s3cret"
    Hook.received.clear()
    notify(colis.pk, "colis_registered")
    server.server_close()
    signature, body = Hook.received[0]
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    assert json.loads(body)["numero_suivi"] == colis.numero_suivi


def test_it_records_a_failed_webhook_and_lets_rq_retry(colis, settings):
    settings.NOTIFY_CHANNELS = ["webhook"]
    settings.NOTIFY_WEBHOOK_URL = "http://127.0.0.1:9/unreachable"
    settings.NOTIFY_WEBHOOK_TIMEOUT = 1
    with pytest.raises(OSError):
        notify(colis.pk, "colis_registered")
    row = Notification.objects.get()
    assert row.status == "failed" and row.error
    settings.NOTIFY_CHANNELS = ["log"]
    assert notify(colis.pk, "colis_registered") == "sent"


def test_it_requeues_a_registration_notice_redis_lost(alice_api, colis_data, tariffs,
                                                      redis_clean, settings):
    from datetime import timedelta

    from django.utils import timezone

    from sync.sweeper import requeue_notifications

    settings.COLIS_ASYNC = False  # the requeued notice is sent inline here
    colis = services.create_colis(alice_api.device.user, colis_data)
    later = timezone.now() + timedelta(minutes=5)
    assert requeue_notifications(later, 60) == 1
    assert Notification.objects.get(colis=colis).status == "sent"
    assert requeue_notifications(later, 60) == 0
