"""« Synchronisation » in Chromium: a poll redraws the changed row alone, in place, and
nothing when nothing changed; the ages keep counting between polls."""

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from server.accounts.models import Device, User
from sync.models import ColisTask, Status
from tests.conftest import device_client
from tests.web_helpers import send, set_status

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    yield page
    context.close()
    assert errors == []


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/supervision/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "password")
    page.click("button.primary")
    expect(page).to_have_url(f"{base}/supervision/")


def _poll_now(page) -> None:
    """Hide the tab and show it again: the polling loop runs at once."""
    for hidden in (True, False):
        page.evaluate("""(hidden) => {
            Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
            document.dispatchEvent(new Event('visibilitychange'));
        }""", hidden)


def _mark_rows(page) -> None:  # a JS property: a row the script replaces loses it
    page.evaluate("""() => { for (const tr of document.querySelectorAll('table.sync tbody tr'))
        tr.kept = tr.dataset.key; }""")


def _rows(page) -> list:
    return page.evaluate("""() => [...document.querySelectorAll('table.sync tbody tr')]
        .map((tr) => [tr.dataset.key, tr.kept || null])""")


def test_a_poll_redraws_the_changed_row_alone(server, alice, bob, colis_data, desktop,
                                              redis_clean):
    User.objects.create_user("charlie", password="password", role="supervisor")
    alices, bobs = device_client(alice, "GZ-1"), device_client(bob, "YW-1")
    send(alice, colis_data, n=2, api=alices)
    failing = send(bob, colis_data, n=2, api=bobs)
    set_status(ColisTask.objects.all(), Status.PENDING)
    Device.objects.filter(pk=alices.device.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=3))
    answers = []
    desktop.on("response", lambda r: "/supervision/live/" in r.url and answers.append(r.status))
    _login(desktop, server.url, "charlie")
    a, b = f"{alice.pk}-{alices.device.pk}", f"{bob.pk}-{bobs.device.pk}"
    assert [key for key, _ in _rows(desktop)] == [a, b]
    _mark_rows(desktop)

    set_status(failing[1:], Status.FAILED_RETRY)
    _poll_now(desktop)
    first = desktop.locator("table.sync tbody tr").first
    expect(first).to_have_class("attention", timeout=15_000)  # bob's row, moved up
    assert _rows(desktop) == [[b, None], [a, a]]  # bob's redrawn; alice's the same element
    assert "Tâches en échec" in first.inner_text()
    assert answers == [200]

    _mark_rows(desktop)
    _poll_now(desktop)
    desktop.wait_for_timeout(1_500)
    assert answers == [200, 204] and _rows(desktop) == [[b, b], [a, a]]  # nothing redrawn
    seen = desktop.locator(f'tr[data-key="{a}"] time[data-since]').first.inner_text()
    assert re.fullmatch(r"3 min \d\d s", seen), seen

    # A row's « Révoquer » posts the page's one revoke form, after its confirmation.
    dialogs = []
    desktop.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    desktop.locator(f'tr[data-key="{a}"] button', has_text="Révoquer").click()
    expect(desktop.locator(f'tr[data-key="{a}"]')).to_contain_text("révoqué")
    assert Device.objects.get(pk=alices.device.pk).is_revoked and "Révoquer ce jeton" in dialogs[0]
