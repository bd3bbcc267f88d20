"""Supervisors see which tablets' tokens are revoked or expired (idle past TOKEN_IDLE_DAYS)."""

from datetime import timedelta

from django.utils import timezone

from server.accounts.models import Device
from tests.conftest import device_client
from tests.web_helpers import web


def token_cell(html: str, device: Device) -> str:
    row = html.split(f"<td>{device.name}</td>", 1)[1].split("</tr>", 1)[0]
    return row.rsplit("<td>", 1)[1]


def test_it_shows_each_device_active_revoked_or_expired(alice, bob, charlie, settings):
    settings.TOKEN_IDLE_DAYS = 60
    active = device_client(alice, "GZ-actif").device
    revoked = device_client(alice, "GZ-revoque").device
    expired = device_client(bob, "YW-expire").device
    revoked.revoke()
    Device.objects.filter(pk=expired.pk).update(last_seen_at=timezone.now() - timedelta(days=61))
    html = web(charlie).get("/supervision/").content.decode()
    assert "actif" in token_cell(html, active) and "Révoquer" in token_cell(html, active)
    assert "révoqué" in token_cell(html, revoked) and "Révoquer" not in token_cell(html, revoked)
    assert "expiré" in token_cell(html, expired) and "Révoquer" not in token_cell(html, expired)


def test_it_shows_a_device_revoked_by_a_password_change(alice, charlie):
    tablet = device_client(alice, "GZ-1").device
    alice.set_password("another one")
    alice.save()
    html = web(charlie).get("/supervision/live/").content.decode()
    assert "révoqué" in token_cell(html, tablet)
