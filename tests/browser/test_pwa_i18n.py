"""French first; English and simplified Chinese chosen on the tablet, offline too."""

import pytest
from playwright.sync_api import expect

from .pwa import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_switches_language_and_keeps_it_offline(server, context, page):
    login(page, server.url)
    expect(page.locator("#sync-now")).to_have_text("Synchroniser maintenant")
    page.click("#tab-settings")
    page.select_option("#language", "zh-hans")
    expect(page.locator("#sync-now")).to_have_text("立即同步")
    context.set_offline(True)
    page.reload()
    expect(page.locator("#sync-now")).to_have_text("立即同步")
    expect(page.locator("#tab-form")).to_have_text("新包裹")
    page.click("#tab-settings")
    page.select_option("#language", "en")
    expect(page.locator("#sync-now")).to_have_text("Sync now")
    expect(page.locator("#offline-banner")).to_contain_text("Offline")
    page.click("#tab-settings")
    expect(page.locator("#link-tasks")).to_have_text("My tasks")


def test_it_links_to_the_dashboards_from_its_menu(server, page):
    login(page, server.url)
    page.click("#tab-settings")
    expect(page.locator("#link-tasks")).to_have_attribute("href", "/taches/")
    expect(page.locator("#link-lots")).to_have_attribute("href", "/lots/")
    expect(page.locator("#link-supervision")).to_have_count(0)  # an agent's tablet
    page.click("#link-tasks")
    expect(page).to_have_url(f"{server.url}/login/?next=/taches/")


@pytest.mark.parametrize("locale, words", [("zh-CN", "立即同步"), ("en-GB", "Sync now"),
                                           ("de-DE", "Synchroniser maintenant")])
def test_it_first_speaks_the_tablets_language(server, browser, locale, words):
    """Until the agent chooses, the browser's language if the app speaks it, else French."""
    ctx = browser.new_context(locale=locale, bypass_csp=True)
    try:
        page = ctx.new_page()
        login(page, server.url)
        expect(page.locator("#sync-now")).to_have_text(words)
    finally:
        ctx.close()


def test_it_writes_label_and_value_as_each_language_does(server, page):
    login(page, server.url)
    page.click("#tab-settings")
    page.select_option("#language", "zh-hans")
    page.click("#tab-queue")
    chips = page.locator("#queue-counts .count")
    expect(chips.first).to_contain_text("：")
    assert all(" : " not in text for text in chips.all_text_contents())
