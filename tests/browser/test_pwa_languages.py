"""In English and in Chinese, the app's queue, form and conflict screens show no French:
the server's errors and steps arrive as codes and are rendered from the app's catalogue."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from server.cargo import services
from server.cargo.models import Colis, Lot
from tests.workers import wait_for

from .pwa import completed, login, offline_and_idle, open_lot, save_colis, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
LOCALE = {"en": "en", "zh-hans": "zh_Hans"}


def french_strings(lang: str) -> list[str]:
    """The app's French source strings that this language translates differently."""
    text = (ROOT / "locale" / LOCALE[lang] / "LC_MESSAGES" / "djangojs.po").read_text()
    pairs = re.findall(r'^msgid "((?:[^"\\]|\\.)+)"\nmsgstr "((?:[^"\\]|\\.)*)"', text, re.M)
    found = []
    for msgid, msgstr in pairs:
        words = re.split(r"%\(\w+\)s", msgid.replace('\\"', '"'))
        found += [w.strip(" :·—,.") for w in words if w != msgstr]
    return sorted({w for w in found if len(w) >= 6 and not w.isascii() or len(w) >= 12})


def shows_french(page, lang: str) -> list[str]:
    body = page.evaluate("document.body.innerText")
    return [w for w in french_strings(lang) if w in body]


@pytest.mark.screenshots
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_it_shows_no_french_in_the_queue_form_and_conflict(server, context, page, alice, lang):
    context.add_init_script(f"localStorage.setItem('colis.lang', '{lang}');")
    login(page, server.url)
    open_lot(page)
    wait_for(Lot.objects.exists, timeout=20)
    save_colis(page, poids="10", description="Parts")
    expect(completed(page)).to_have_count(1, timeout=20_000)
    # A conflict: the office edits the colis while the tablet edits it too.
    colis = Colis.objects.get()
    offline_and_idle(page)  # the tablet edits before the changes feed brings the office's edit
    services.update_colis(colis.pk, colis.version, {"poids": "11"}, alice)
    page.locator('.item[data-kind="create"] [data-action="edit"]').click()
    page.fill("#f-poids", "12")
    page.click("#save")
    context.set_offline(False)
    page.click("#tab-queue")
    expect(page.locator('[data-action="resolve"]')).to_be_visible(timeout=20_000)
    # A refused item: its lot closed before it was sent.
    page.evaluate("async () => (await import('/app/js/sync.js')).refreshReference({ force: true })")
    context.set_offline(True)
    page.click("#tab-form")
    save_colis(page, poids="3", description="Parts")
    services.close_lot(Lot.objects.get(), alice)
    context.set_offline(False)
    page.click("#tab-queue")
    expect(page.locator('.item[data-bucket="failed"]')).to_have_count(2, timeout=20_000)
    screenshot(page, f"queue-failures-{lang}", full_page=True)
    assert shows_french(page, lang) == [], "queue"
    page.locator('[data-action="resolve"]').click()
    expect(page.locator("#conflict")).to_be_visible()
    screenshot(page, f"conflict-{lang}")
    assert shows_french(page, lang) == [], "conflict"
    page.click("#tab-form")
    page.fill("#f-poids", "2500")
    page.click("#save")
    expect(page.locator("#f-poids")).to_have_attribute("aria-invalid", "true")
    assert shows_french(page, lang) == [], "form"
