"""The tablet's logout revokes its token (at once, or once back online); no CSP violation."""

import pytest
from playwright.sync_api import expect

from server.accounts.models import Device
from tests.workers import wait_for

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def strict_page(browser):
    """A page in a context of its own that enforces the CSP (the shared `context` fixture
    bypasses it, for wait_for_function)."""
    ctx = browser.new_context(locale="fr-FR")
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    yield page
    ctx.close()


def csp_violations(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text
            and seen.append(f"{m.location.get('url')}:{m.location.get('lineNumber')} {m.text}"))
    return seen


def test_it_sees_a_violation_when_there_is_one(server, strict_page):
    violations = csp_violations(strict_page)
    strict_page.goto(f"{server.url}/login/")
    strict_page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.ran = 1'; document.body.append(s); }""")
    assert strict_page.evaluate("window.ran") is None
    assert violations


def log_out(page) -> None:
    page.click("#tab-settings")
    page.click("#logout")
    expect(page.locator("#login-submit")).to_be_visible()


def revoked() -> bool:
    return Device.objects.get().revoked_at is not None


def test_it_runs_the_pwa_under_its_policy_and_revokes_the_token_on_logout(server, strict_page,
                                                                         photo_file):
    page = strict_page
    violations = csp_violations(page)
    # pwa.login() waits with wait_for_function, an eval that the policy itself refuses.
    page.goto(f"{server.url}/app/")
    page.fill("#login-username", "alice")
    page.fill("#login-password", "password")
    page.fill("#login-device", "Tablette test")
    page.click("#login-submit")
    expect(page.locator("#colis-form")).to_be_visible()
    # The clients arrive with the first reference refresh (no eval: a locator waits).
    expect(page.locator("body[data-ref-ready='1']")).to_have_count(1, timeout=30_000)
    open_lot(page)
    save_colis(page, photo=photo_file)  # the compression worker, the blob: preview
    expect(completed(page)).to_have_count(1, timeout=30_000)
    log_out(page)
    assert wait_for(revoked, timeout=10)
    assert violations == []


def test_it_revokes_the_token_once_back_online(server, context, page):
    login(page, server.url)
    context.set_offline(True)
    log_out(page)
    assert not revoked()
    context.set_offline(False)
    assert wait_for(revoked, timeout=15)
    stored = page.evaluate("""async () => (await import('/app/js/db.js')).kvGet('logout_pending')""")
    assert stored == []


def test_it_shows_the_web_pages_without_csp_violation(server, strict_page, alice, colis_data):
    from server.accounts.models import User
    from server.cargo import services

    User.objects.create_superuser("root", password="password", role="admin")
    colis = services.create_colis(alice, colis_data)
    page = strict_page
    violations = csp_violations(page)
    page.goto(f"{server.url}/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "password")
    page.click("button.primary")
    expect(page.locator("nav")).to_be_visible()
    for path in ("/taches/", "/lots/", f"/lots/{colis.lot_id}/", f"/lots/{colis.lot_id}/etiquettes/",
                 "/supervision/", "/api/docs/", "/admin/", "/admin/accounts/device/",
                 "/django-rq/"):
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state("networkidle")
        if path == "/api/docs/":
            expect(page.locator(".opblock").first).to_be_visible()  # its scripts ran
    page.goto(f"{server.url}/taches/")
    page.select_option("select[name=language]", "en")  # the picker submits itself (actions.js)
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert violations == []
