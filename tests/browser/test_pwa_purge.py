"""Completed items stay visible for 24 h, then leave the tablet; unsent ones never do."""

import pytest
from playwright.sync_api import expect

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PURGE_IN_25_HOURS = """async () => {
  const outbox = await import('/app/js/outbox.js');
  return outbox.purge(Date.now() + 25 * 3600 * 1000);
}"""


def test_it_drops_completed_items_after_24_hours_and_keeps_unsent_ones(server, context, page):
    login(page, server.url)
    open_lot(page)
    save_colis(page, client="Diallo")
    expect(completed(page)).to_have_count(1, timeout=30_000)
    assert page.evaluate(PURGE_IN_25_HOURS.replace("25 *", "1 *")) == 0  # still within 24 h
    context.set_offline(True)
    page.click("#tab-form")
    save_colis(page, client="Koné")  # stays on the tablet: never purged
    assert page.evaluate(PURGE_IN_25_HOURS) == 2  # the colis and its lot
    page.reload()
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="create"]')).to_have_count(1)
    expect(page.locator('.item[data-kind="create"][data-bucket="completed"]')).to_have_count(0)
