"""The screens the user guides show (docs/guide-*.md), taken from the real app and pages.

Saves guide-*.png: in a temporary folder on an ordinary run, in docs/screenshots under
`make screenshots`. Each screen is reached as an agent or a supervisor reaches it, and
checked before it is taken, so a guide never shows a screen the app no longer has.
"""

import json
import re
from datetime import timedelta

import pytest
from django.db import transaction
from playwright.sync_api import expect

import sync.api
from server.cargo import services
from server.cargo.models import Colis, Lot
from sync import states
from sync.models import ColisTask, Status
from tests.workers import wait_for

from .conftest import FAST_SYNC
from .pwa import SCREENSHOTS, completed, login, offline_and_idle, open_lot, save_colis
from .test_web_screenshots import _login, demo  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.screenshots, pytest.mark.django_db(transaction=True)]
VIEWPORT = {"width": 1024, "height": 768}
REFUSED = "Colis à vérifier"  # the server fails on this item alone (a bug it triggers)
LOCALES = {"fr": "fr-FR", "en": "en-GB", "zh-hans": "zh-CN"}


def shot(page, name: str, full_page: bool = False) -> None:
    """Save guide-<name>.png in 256 colours: a third of the bytes, the same screen."""
    from PIL import Image

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"guide-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)


@pytest.fixture
def refusing_server(server, monkeypatch):
    """The live server, made to answer 500 to any batch holding the REFUSED colis."""
    real = sync.api.ingest_batch

    def ingest_batch(user, device, items):
        if any(isinstance(i, dict) and isinstance(i.get("data"), dict)
               and i["data"].get("description") == REFUSED for i in items):
            raise RuntimeError("a bug this item alone triggers")
        return real(user, device, items)

    monkeypatch.setattr(sync.api, "ingest_batch", ingest_batch)
    return server


@pytest.fixture
def tablet(browser, request):
    lang = request.param
    ctx = browser.new_context(viewport=VIEWPORT, locale=LOCALES[lang], bypass_csp=True,
                              accept_downloads=True)
    ctx.add_init_script(f"localStorage.setItem('colis.config', {json.dumps(json.dumps(FAST_SYNC))});"
                        f"localStorage.setItem('colis.lang', '{lang}');")
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda e: print(f"[pageerror] {e}"))
    page.lang = lang
    yield ctx, page
    ctx.close()


def to_step(task: ColisTask, *steps: str) -> None:
    """Move a task along, as the worker would (the changes feed carries it to the tablet)."""
    with transaction.atomic():
        task = ColisTask.objects.select_for_update().get(pk=task.pk)
        for i, step in enumerate(steps):
            states.transition(task, step, stamp=i == len(steps) - 1)


def no_toast(page) -> None:
    expect(page.locator("#toast")).not_to_have_class(re.compile(r"\bshow\b"), timeout=10_000)


def overlay(page, button: str, screen: str) -> None:
    """Open a screen of the queue: the queue redraws as sync runs, and a button may go
    from under the click; press it again then."""
    for _ in range(5):
        page.locator(button).click()
        try:
            expect(page.locator(screen)).to_be_visible(timeout=2_000)
            return
        except AssertionError:
            continue
    expect(page.locator(screen)).to_be_visible()


def failed(page):
    return page.locator('.item[data-bucket="failed"]')


@pytest.mark.parametrize("tablet", list(LOCALES), indirect=True)
def test_it_shows_the_agents_screens(refusing_server, tablet, alice, settings, redis_clean,
                                     photo_file):
    context, page = tablet
    lang, base = page.lang, refusing_server.url
    page.goto(f"{base}/app/")
    page.fill("#login-username", "alice")
    page.fill("#login-password", "password")
    page.fill("#login-device", "Tablette Guangzhou 1")
    shot(page, f"agent-login-{lang}")
    login(page, base, device="Tablette Guangzhou 1")

    # A colis with its photo: completed, then a conflict (the office edits the colis while
    # the tablet edits it too).
    open_lot(page)
    wait_for(Lot.objects.exists, timeout=20)
    first_lot = Lot.objects.get()
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="open_lot"][data-bucket="completed"]')).to_have_count(1)
    page.click("#tab-form")  # drawn again: the lot by its number now
    fill_form(page, photo_file)
    no_toast(page)
    page.set_viewport_size({"width": 1024, "height": 1100})  # the whole form, its bar below
    shot(page, f"agent-form-{lang}")
    page.set_viewport_size(VIEWPORT)
    page.click("#save")
    expect(completed(page)).to_have_count(1, timeout=20_000)
    colis = Colis.objects.get()
    offline_and_idle(page)  # the tablet edits before the feed brings the office's edit
    services.update_colis(colis.pk, colis.version, {"poids": "11"}, alice)
    page.locator('.item[data-kind="create"] [data-action="edit"]').click()
    page.fill("#f-poids", "12")
    page.click("#save")
    context.set_offline(False)
    page.click("#tab-queue")
    expect(page.locator('[data-action="resolve"]')).to_be_visible(timeout=20_000)

    # Refused by the server (it fails on this item alone).
    page.click("#tab-form")
    save_colis(page, client="Traoré", poids="4", description=REFUSED)
    page.click("#tab-queue")
    expect(page.locator('[data-action="resend"]')).to_be_visible(timeout=40_000)

    # Its lot closed before it was sent: « Changer de lot ».
    open_lot(page)
    wait_for(lambda: Lot.objects.count() == 2, timeout=20)
    second_lot = Lot.objects.exclude(pk=first_lot.pk).get()
    page.click("#tab-queue")
    expect(page.locator(f'.item[data-kind="open_lot"][data-bucket="completed"]:has-text("{second_lot.numero_lot}")')
           ).to_have_count(1, timeout=20_000)
    page.evaluate("async () => (await import('/app/js/sync.js')).refreshReference({ force: true })")
    context.set_offline(True)
    page.click("#tab-form")
    page.select_option("#f-lot", label=second_lot.numero_lot)
    save_colis(page, client="Koné", poids="6.5", description="Chaussures")
    services.close_lot(second_lot, alice)
    context.set_offline(False)
    page.click("#tab-queue")
    expect(page.locator('[data-action="move"]')).to_be_visible(timeout=20_000)
    expect(failed(page)).to_have_count(3)

    # Sent and waiting for the worker; another one being processed.
    settings.COLIS_ASYNC = True  # no worker runs here: they stay where we put them
    page.evaluate("async () => (await import('/app/js/sync.js')).refreshReference({ force: true })")
    page.click("#tab-form")
    page.select_option("#f-lot", label=first_lot.numero_lot)
    save_colis(page, client="Ouédraogo", poids="8", description="Tissus")
    save_colis(page, client="Diallo", poids="15", description="Téléphones")
    wait_for(lambda: ColisTask.objects.filter(status=Status.PENDING).count() == 2, timeout=20)
    to_step(ColisTask.objects.filter(status=Status.PENDING).latest("pk"),
            Status.PROCESSING, Status.IMAGE_UPLOADING, Status.PRICE_CALCULATING)
    page.click("#tab-queue")
    expect(page.locator('.item[data-bucket="processing"]')).to_have_count(1, timeout=20_000)
    expect(page.locator('.item[data-bucket="sent"]')).to_have_count(1)

    # Offline: a lot opened on the tablet, a colis saved into it.
    context.set_offline(True)
    page.click("#tab-lots")
    page.click("#open-lot")
    expect(page.locator("#colis-form")).to_be_visible()  # the app goes to the form by itself
    page.click("#tab-lots")
    expect(page.locator('#lot-list [data-local="1"]')).to_have_count(1)
    shot(page, f"agent-lots-{lang}")
    page.click("#tab-form")
    expect(page.locator("#save-status")).to_be_attached()
    save_colis(page, client="Koné", poids="2.5", description="Montres")
    page.click("#tab-queue")
    expect(page.locator('.item[data-bucket="device"]')).to_have_count(2)
    no_toast(page)
    shot(page, f"agent-queue-{lang}", full_page=True)

    overlay(page, '[data-action="resolve"]', "#conflict")
    shot(page, f"agent-conflict-{lang}")
    page.click("#tab-queue")
    overlay(page, '[data-action="move"]', "#move-lot")
    shot(page, f"agent-move-{lang}")
    page.click("#tab-queue")
    overlay(page, '.item:has([data-action="resend"]) [data-action="discard"]', "#cancel-item")
    shot(page, f"agent-cancel-{lang}")
    page.click("#tab-settings")
    expect(page.locator("#link-guide")).to_be_visible()
    shot(page, f"agent-settings-{lang}")


def fill_form(page, photo_file) -> None:
    page.fill("#f-client-search", "Kon")
    page.locator(".client-pick").first.click()
    for name, value in [("poids", "7,5"), ("longueur", "60"), ("largeur", "50"), ("hauteur", "40")]:
        page.fill(f"#f-{name}", value)
    page.select_option("#f-paiement", "paye_chine")
    page.fill("#f-description", "Pièces de moto, 2 cartons")
    page.set_input_files("#f-photo", str(photo_file))
    expect(page.locator("#f-photo-info")).to_have_attribute("data-state", "ready", timeout=20_000)


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda e: print(f"[pageerror] {e}"))
    yield page
    context.close()


def test_it_shows_the_supervisors_pages(server, demo, desk, tmp_path):  # noqa: F811
    base = server.url
    _login(desk, base, "charlie")
    desk.goto(f"{base}/taches/")
    expect(desk.locator('tbody[data-section="failed"] tr[data-task-id]')).to_have_count(3)
    shot(desk, "web-tasks")
    desk.goto(f"{base}/lots/")
    expect(desk.locator("main table.lots").first).to_be_visible()
    shot(desk, "web-lots")
    desk.goto(f"{base}/lots/{demo['lot'].pk}/")
    expect(desk.locator("article.colis img").first).to_be_visible()
    shot(desk, "web-lot")
    desk.goto(f"{base}/supervision/")
    expect(desk.locator("table.sync tbody tr").first).to_have_class("attention")
    shot(desk, "web-supervision")

    desk.goto(f"{base}/supervision/import/")
    outbox = tmp_path / "colis-outbox-20261126T050807.json"
    outbox.write_text(json.dumps(exported_outbox(demo["lot"])))
    desk.set_input_files("#import-file", str(outbox))
    desk.click("#import-form button")
    expect(desk.locator("#import-summary")).to_be_visible()
    shot(desk, "web-import", full_page=True)
    # The demo moved its tasks' saves and completions over the day: their runs and their
    # save times on the tablet go with them.
    for i, task in enumerate(ColisTask.objects.filter(status=Status.COMPLETED)):
        ColisTask.objects.filter(pk=task.pk).update(
            started_at=task.completed_at - timedelta(seconds=1 + i % 4),
            save_ms=18 + (i * 7) % 25)
    desk.goto(f"{base}/resultats/")
    expect(desk.locator("#targets")).to_be_visible()
    shot(desk, "web-results")


def exported_outbox(lot: Lot) -> dict:
    """What « Exporter la file d'attente » writes (docs/outbox-export.md): two colis, one
    of them invalid."""
    from server.cargo.models import Client

    client = Client.objects.order_by("pk").first()
    items = []
    for n, poids in enumerate(["7.5", "-2"]):
        at = f"2026-11-26T05:0{n}:00Z"
        items.append({"op_id": f"0b8e3f5c-1d2e-4f60-9a7b-3c4d5e6f7a8{n}", "op": "create",
                      "data": {"client": client.pk, "lot": lot.pk, "type_transport": "cargo",
                               "poids": poids, "longueur": "40", "largeur": "30",
                               "hauteur": "20", "mode_paiement": "non_paye",
                               "description": "Pièces détachées"},
                      "state": "queued", "task": None, "errors": {}, "attempts": 0,
                      "created_at": at, "updated_at": at, "done_at": None, "photo_id": None,
                      "labels": {}})
    return {"format": "colis-sync-outbox", "version": 1, "exported_at": "2026-11-26T05:08:07Z",
            "device": "Tablette Guangzhou 1", "user": "alice", "items": items, "photos": []}
