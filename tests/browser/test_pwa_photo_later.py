"""A photo added or replaced after the save: from the queue or the edit form, sent as an
update; the server keeps the old photo until the new one is ready."""

import pytest
from playwright.sync_api import expect

from server.cargo.models import Colis

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_photo_from_the_queue(page, photo_file):
    page.click("#tab-queue")
    page.locator('.item[data-kind="create"] [data-action="photo"]').click()
    page.set_input_files("#f-photo", str(photo_file))
    expect(page.locator("#f-photo-info")).to_have_attribute("data-state", "ready", timeout=20_000)
    page.click("#save")


def test_it_adds_a_forgotten_photo_then_replaces_it(server, page, photo_file, noisy_photo_file):
    login(page, server.url)
    open_lot(page)
    save_colis(page, poids="8")
    expect(completed(page)).to_have_count(1, timeout=20_000)
    colis = Colis.objects.get()
    assert colis.photo_status == "none"

    add_photo_from_the_queue(page, photo_file)
    page.click("#tab-queue")
    update = page.locator('.item[data-kind="update"]')
    expect(update).to_have_attribute("data-bucket", "completed", timeout=30_000)
    expect(update.locator(".photo-line")).to_contain_text("Photo prête", timeout=30_000)
    colis.refresh_from_db()
    first = colis.photo_id
    assert colis.photo_status == "ready" and first and colis.image

    add_photo_from_the_queue(page, noisy_photo_file)
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="update"][data-bucket="completed"]')).to_have_count(
        2, timeout=30_000)
    expect(page.locator('.item[data-kind="update"] .photo-line').first).to_contain_text(
        "Photo prête", timeout=30_000)
    colis.refresh_from_db()
    assert colis.photo_status == "ready" and colis.photo_id != first
    assert Colis.objects.count() == 1


def test_it_replaces_the_photo_of_a_colis_still_on_the_tablet(server, context, page, photo_file,
                                                               noisy_photo_file):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    save_colis(page, poids="8", photo=photo_file)
    page.click("#tab-queue")
    page.locator('.item[data-kind="create"] [data-action="edit"]').click()
    page.set_input_files("#f-photo", str(noisy_photo_file))
    expect(page.locator("#f-photo-info")).to_have_attribute("data-state", "ready", timeout=20_000)
    page.click("#save")
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="update"]')).to_have_count(0)  # changed in place
    photos = page.evaluate("async () => Object.keys(await (await import('/app/js/outbox.js')).photoStates())")
    assert len(photos) == 1  # the first photo went with the edit
    context.set_offline(False)
    expect(completed(page)).to_have_count(1, timeout=30_000)
    expect(page.locator('.item[data-kind="create"] .photo-line')).to_contain_text("Photo prête",
                                                                                   timeout=30_000)
    assert str(Colis.objects.get().photo_id) == photos[0]
