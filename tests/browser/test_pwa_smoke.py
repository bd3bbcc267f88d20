import pytest
from playwright.sync_api import expect

from .pwa import login, open_lot, save_colis, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_saves_one_colis_online(server, page, photo_file):
    login(page, server.url)
    open_lot(page)
    save_colis(page, photo=photo_file)
    screenshot(page, "form")
    page.click("#tab-queue")
    expect(page.locator(".numero-suivi")).to_have_count(1, timeout=20_000)
    screenshot(page, "queue")
