"""The app on a tablet and a phone: the form saves without scrolling, the top bar fits,
every touch target is at least 44 px, invalid fields say so, and axe finds nothing serious."""

import json

import pytest
from playwright.sync_api import expect

from .a11y import violations
from .conftest import FAST_SYNC
from .pwa import completed, login, open_lot, save_colis, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = {"tablet-landscape": (1280, 800), "tablet-portrait": (800, 1280), "phone": (390, 844),
         "small-phone": (360, 740)}


@pytest.fixture
def sized(browser, request):
    width, height = SIZES[request.param]
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR",
                              bypass_csp=True, has_touch=width < 500)
    ctx.add_init_script(f"localStorage.setItem('colis.config', {json.dumps(json.dumps(FAST_SYNC))});")
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.size_name = request.param
    yield page
    ctx.close()


def box(page, selector):
    """The element's box; the top bar redraws as sync runs, so a node may go mid-read."""
    for _ in range(50):
        found = page.locator(selector).first.bounding_box()
        if found is not None:
            return found
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector} never laid out")


@pytest.mark.screenshots
@pytest.mark.parametrize("sized", list(SIZES), indirect=True)
def test_it_fits_the_screen(server, sized):
    page = sized
    width, height = SIZES[page.size_name]
    login(page, server.url)
    open_lot(page)
    # « Enregistrer » is on screen without scrolling, the form at its top.
    save = box(page, "#save")
    assert save["y"] + save["height"] <= height, f"save button below the fold at {page.size_name}"
    topbar = box(page, "#topbar")
    assert topbar["height"] <= (120 if width < 500 else 140), topbar
    for tab in ("#tab-form", "#tab-queue", "#tab-lots", "#tab-settings"):
        tab_box = box(page, tab)
        assert tab_box["x"] >= 0 and tab_box["x"] + tab_box["width"] <= width + 1, tab
    lot = box(page, "#f-lot")
    assert lot["width"] >= min(width - 60, 220)
    screenshot(page, f"form-{page.size_name}")
    save_colis(page, poids="12.5")
    expect(completed(page)).to_have_count(1, timeout=20_000)
    small = page.evaluate("""() => [...document.querySelectorAll('button, input, select, textarea, a')]
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ id: el.id || el.textContent.trim().slice(0, 30), h: el.getBoundingClientRect().height,
                      w: el.getBoundingClientRect().width }))
      .filter((b) => b.h < 44 || b.w < 44)""")
    assert small == [], f"touch targets under 44 px at {page.size_name}: {small}"
    screenshot(page, f"queue-{page.size_name}")


def test_it_marks_invalid_fields_and_focuses_the_first(server, page):
    login(page, server.url)
    open_lot(page)
    page.fill("#f-poids", "2500")
    page.fill("#f-longueur", "1e3")
    page.click("#save")
    expect(page.locator("#save-status")).to_have_attribute("data-kind", "error")
    expect(page.locator("#f-client-search")).to_be_focused()  # no client chosen: the first error
    expect(page.locator("#f-poids")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#err-poids")).to_have_text("Doit être au plus 2000.")
    expect(page.locator("#f-longueur")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-description")).not_to_have_attribute("aria-invalid", "true")
    page.fill("#f-client-search", "Diallo")
    page.locator(".client-pick").first.click()
    page.click("#save")
    expect(page.locator("#f-poids")).to_be_focused()


def test_it_confirms_beside_the_button_without_timings(server, page):
    login(page, server.url)
    open_lot(page)
    save_colis(page, client="Koné", poids="3")
    status = page.locator("#save-status")
    expect(status).to_contain_text("Koné")
    assert " ms" not in status.inner_text()
    button, message = box(page, "#save"), box(page, "#save-status")
    assert abs((button["y"] + button["height"] / 2) - (message["y"] + message["height"] / 2)) < 60 \
        or message["y"] - (button["y"] + button["height"]) < 40


def test_it_opens_each_tab_at_its_top(server, page):
    login(page, server.url)
    open_lot(page)
    for poids in ("1", "2", "3", "4", "5", "6"):
        save_colis(page, poids=poids)
    page.click("#tab-queue")
    page.mouse.wheel(0, 3000)
    page.wait_for_function("scrollY > 0")
    page.click("#tab-lots")
    assert page.evaluate("scrollY") == 0


def test_it_has_no_serious_accessibility_violation(server, context, page):
    login(page, server.url)
    open_lot(page)
    found = {"form": violations(page)}
    save_colis(page, poids="4")
    page.click("#save")  # an invalid, empty form: errors on screen too
    found["form with errors"] = violations(page)
    page.click("#tab-queue")
    found["queue"] = violations(page)
    page.click("#tab-lots")
    found["lots"] = violations(page)
    page.click("#tab-settings")
    found["settings"] = violations(page)
    context.clear_cookies()
    page.evaluate("async () => (await import('/app/js/db.js')).kvSet('auth', null)")
    page.reload()
    found["login"] = violations(page)
    assert {k: v for k, v in found.items() if v} == {}
