"""An edit against a colis that changed on the server shows both versions; the agent chooses."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from server.cargo import services
from server.cargo.models import Colis

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_both_versions_and_keeps_the_one_chosen(server, page, alice):
    login(page, server.url)
    open_lot(page)
    save_colis(page, poids="10")
    expect(completed(page)).to_have_count(1, timeout=20_000)
    colis = Colis.objects.get()
    services.update_colis(colis.pk, colis.version, {"poids": "11"}, alice)  # the office edits

    page.locator('.item[data-kind="create"] [data-action="Modifier"]').click()
    page.fill("#f-poids", "12")
    page.click("#save")
    resolve = page.locator('[data-action="Résoudre le conflit"]')
    expect(resolve).to_be_visible(timeout=20_000)
    resolve.click()
    versions = page.locator("#conflict tr.differs")
    expect(versions.filter(has_text="Poids")).to_contain_text("12")
    expect(versions.filter(has_text="Poids")).to_contain_text("11")
    page.click("#keep-local")
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="update"][data-bucket="completed"]')).to_have_count(
        1, timeout=20_000)
    colis.refresh_from_db()
    assert colis.poids == Decimal("12") and colis.version == 3


def test_it_edits_in_place_a_colis_that_never_left_the_tablet(server, context, page):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    save_colis(page, poids="10")
    page.click("#tab-queue")
    page.locator('.item[data-kind="create"] [data-action="Modifier"]').click()
    page.fill("#f-poids", "14")
    page.click("#save")
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="create"]')).to_have_count(1)
    expect(page.locator('.item[data-kind="update"]')).to_have_count(0)
    context.set_offline(False)
    expect(completed(page)).to_have_count(1, timeout=20_000)
    assert Colis.objects.get().poids == Decimal("14")
