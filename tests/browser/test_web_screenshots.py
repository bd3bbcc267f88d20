"""The dashboards in Chromium: log in, each page renders, the board updates in place.

Saves web-*.png screenshots (docs/screenshots/ under `make screenshots`, for the README).
"""

import io
import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from server.accounts.models import Device, User
from server.cargo import services
from server.cargo.models import Client
from sync import states
from sync.models import ColisTask, Status
from tests.conftest import device_client, item

from .pwa import SCREENSHOTS

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.screenshots, pytest.mark.django_db(transaction=True)]
SHOTS = SCREENSHOTS  # a temporary folder, or docs/screenshots under `make screenshots`


def _thumbnail(colour: tuple[int, int, int]) -> ContentFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (160, 160), colour).save(buffer, "JPEG")
    return ContentFile(buffer.getvalue())


def _send(api, lot, clients, n, **extra) -> list[ColisTask]:
    items = [item(client=clients[i % len(clients)].pk, lot=lot.pk, poids=f"{3 + i * 1.5}",
                  longueur="40", largeur="30", hauteur=str(20 + i), **extra) for i in range(n)]
    answers = api.post("/api/v1/sync/", {"items": items}, format="json").json()["items"]
    return list(ColisTask.objects.filter(task_id__in=[a["task"]["task_id"] for a in answers]))


def _spread_over_the_day(tasks: list[ColisTask]) -> None:
    now = timezone.now()
    for i, task in enumerate(tasks):
        done = now - timedelta(hours=(i * 7) % 22, minutes=i * 5)
        took = timedelta(seconds=20 + (i * 37) % 240)
        received = done - took  # saved 2 s before, its job started 1 s after: all positive
        ColisTask.objects.filter(pk=task.pk).update(
            saved_at=received - timedelta(seconds=2), created_at=received,
            started_at=received + timedelta(seconds=1), completed_at=done)


@pytest.fixture
def demo(server, alice, bob, settings, redis_clean):
    """A working day: completed, running, pending and failed tasks, a silent tablet."""
    User.objects.create_user("charlie", password="password", role="supervisor")
    clients = list(Client.objects.all())
    lot = services.open_lot(alice, "cargo")
    alice_api, bob_api = device_client(alice, "Tablette GZ-1"), device_client(bob, "Tablette YW-2")
    done = _send(alice_api, lot, clients, 14) + _send(bob_api, lot, clients, 4)
    for i, task in enumerate(done):
        task.colis.thumbnail.save(f"t{i}.jpg", _thumbnail((40 + i * 11, 120, 200 - i * 8)))
    _spread_over_the_day(done)
    settings.COLIS_ASYNC = True  # the rest stays queued (no worker here)
    waiting = _send(alice_api, lot, clients, 4)
    ColisTask.objects.filter(pk=waiting[0].pk).update(
        status=Status.PRICE_CALCULATING, progress_percentage=60)
    failed = waiting[1:2] + _send(bob_api, lot, clients, 2)
    ColisTask.objects.filter(pk__in=[t.pk for t in failed]).update(
        status=Status.FAILED_FINAL, error_code="invalid",
        error_message="Données invalides : corrigez les champs signalés.")
    Device.objects.filter(pk=bob_api.device.pk).update(
        outbox_pending=9, oldest_pending_at=timezone.now() - timedelta(hours=6),
        last_seen_at=timezone.now() - timedelta(hours=5))
    yield {"lot": lot, "done": done, "failed": failed[0], "colis": done[0].colis}
    for task in done:
        task.colis.thumbnail.delete(save=False)


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/taches/")
    expect(page).to_have_url(f"{base}/login/?next=/taches/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "password")
    page.click("button.primary")
    expect(page).to_have_url(f"{base}/taches/")


def _shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"web-{name}.png"), full_page=full_page)


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda e: print(f"[pageerror] {e}"))
    yield page
    context.close()


def _hide(page, hidden: bool) -> None:
    page.evaluate("""(hidden) => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
        document.dispatchEvent(new Event('visibilitychange'));
    }""", hidden)


def test_it_shows_the_board_live_and_stops_polling_when_hidden(server, demo, desktop):
    _login(desktop, server.url, "alice")
    failed_row = desktop.locator('tbody[data-section="failed"] tr[data-task-id]')
    expect(failed_row).to_have_count(1)
    expect(desktop.locator('tbody[data-section="active"] tr')).to_have_count(3)
    _shot(desktop, "agent-board")
    task_id = failed_row.get_attribute("data-task-id")
    with transaction.atomic():  # retried elsewhere (the tablet): the board follows by itself
        task = ColisTask.objects.select_for_update().get(task_id=task_id)
        states.transition(task, Status.PENDING)
    expect(desktop.locator('tbody[data-section="active"] tr')).to_have_count(4, timeout=15_000)
    expect(failed_row).to_have_count(0)
    expect(desktop.locator('[data-count="failed"]')).to_have_text("0")

    polls = []
    desktop.on("request", lambda r: "changes.json" in r.url and polls.append(r.url))
    _hide(desktop, True)
    desktop.wait_for_timeout(9_000)
    assert polls == []
    _hide(desktop, False)
    desktop.wait_for_timeout(1_000)
    assert len(polls) == 1


def test_it_shows_the_lot_detail_and_a_label(server, demo, desktop):
    _login(desktop, server.url, "alice")
    desktop.goto(f"{server.url}/lots/{demo['lot'].pk}/")
    expect(desktop.locator("article.colis")).to_have_count(len(demo["done"]))
    expect(desktop.locator("article.colis img").first).to_be_visible()
    _shot(desktop, "lot-detail", full_page=False)
    desktop.set_viewport_size({"width": 480, "height": 640})
    desktop.goto(f"{server.url}/colis/{demo['colis'].pk}/etiquette/")
    expect(desktop.locator(".label svg.qr")).to_be_visible()
    expect(desktop.locator(".numero")).to_have_text(demo["colis"].numero_suivi)
    _shot(desktop, "label")


def test_it_shows_supervisors_the_sync_status(server, demo, desktop):
    _login(desktop, server.url, "charlie")
    desktop.goto(f"{server.url}/supervision/")
    first = desktop.locator("table.sync tbody tr").first
    expect(first).to_have_class("attention")
    expect(first).to_contain_text("bob")
    expect(desktop.locator("svg.chart rect.bar-completed")).to_have_count(24)
    _shot(desktop, "supervision")


def test_it_has_no_serious_accessibility_violation_on_the_pages(demo, server, browser):
    from .a11y import violations

    # axe is injected as a script: the pages' CSP (self only) would refuse it.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="fr-FR",
                                  bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{server.url}/login/")
    found = {"login": violations(page)}
    _login(page, server.url, "charlie")
    pages = {"board": "/taches/", "lots": "/lots/", "lot": f"/lots/{demo['lot'].pk}/",
             "task": f"/taches/{demo['failed'].task_id}/", "supervision": "/supervision/",
             "search": f"/supervision/recherche/?q={demo['colis'].numero_suivi}",
             "import": "/supervision/import/"}
    for name, url in pages.items():
        page.goto(f"{server.url}{url}")
        found[name] = violations(page)
    context.close()
    bad = {k: v for k, v in found.items() if v}
    assert bad == {}, "\n".join(f"{k}: {v}" for k, v in bad.items())
