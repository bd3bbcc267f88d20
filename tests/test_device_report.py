"""The tablet's heartbeat: what it still holds, zero included, shown on /supervision/."""

import pytest

from server.accounts.models import Device
from tests.web_helpers import web

URL = "/api/v1/devices/report/"


def test_it_records_what_the_tablet_still_holds(alice_api):
    response = alice_api.post(URL, {"outbox_pending": 3, "photos_pending": 2,
                                    "oldest_pending_at": "2026-12-03T08:00:00Z"}, format="json")
    assert response.status_code == 204
    device = Device.objects.get(pk=alice_api.device.pk)
    assert (device.outbox_pending, device.outbox_photos) == (3, 2)
    assert device.oldest_pending_at.isoformat() == "2026-12-03T08:00:00+00:00"
    assert not device.is_up_to_date


def test_it_says_up_to_date_at_zero(alice_api, charlie):
    alice_api.post(URL, {"outbox_pending": 3, "photos_pending": 1,
                         "oldest_pending_at": "2026-12-03T08:00:00Z"}, format="json")
    response = alice_api.post(URL, {"outbox_pending": 0, "photos_pending": 0,
                                    "oldest_pending_at": None}, format="json")
    assert response.status_code == 204
    device = Device.objects.get(pk=alice_api.device.pk)
    assert device.is_up_to_date and device.oldest_pending_at is None
    page = web(charlie).get("/supervision/live/").content.decode()
    assert "à jour" in page


def test_it_shows_what_is_left_when_not_up_to_date(alice_api, charlie):
    alice_api.post(URL, {"outbox_pending": 4, "photos_pending": 2,
                         "oldest_pending_at": "2026-12-03T08:00:00Z"}, format="json")
    page = web(charlie).get("/supervision/live/").content.decode()
    assert "+ 2 photos" in page and "à jour" not in page


@pytest.mark.parametrize("body", [{}, {"outbox_pending": -1}, {"outbox_pending": "3"},
                                  {"outbox_pending": True}, {"outbox_pending": 2**40}, []])
def test_it_refuses_a_report_without_a_count(alice_api, body):
    alice_api.raise_request_exception = False
    assert alice_api.post(URL, body, format="json").status_code == 400


def test_it_takes_reports_from_tablets_of_agents_only(charlie_api, client):
    assert charlie_api.post(URL, {"outbox_pending": 0}, format="json").status_code == 403
    assert client.post(URL, {"outbox_pending": 0}, content_type="application/json").status_code in (
        401, 403)
