"""The form: a lot the agent opens stays chosen once the server numbers it; a file that is
no image is refused in words."""

import pytest
from playwright.sync_api import expect

from server.cargo.models import Lot

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lot_opened_online_stays_chosen_after_it_syncs(server, page, cargo_lot):
    login(page, server.url)
    # The reference list of lots not refreshed yet (a slow link): only the item knows the
    # lot's server id. The form lost the lot then, its key still the item's op_id.
    page.route("**/api/v1/lots/**", lambda route: route.abort())
    open_lot(page, "bateau")
    page.click("#tab-queue")
    numbered = page.locator('.item[data-kind="open_lot"][data-bucket="completed"]')
    expect(numbered).to_have_count(1, timeout=30_000)
    lot = Lot.objects.get(type_lot="bateau")
    page.click("#tab-form")
    expect(page.locator("#f-lot")).to_have_value(f"id:{lot.pk}")
    save_colis(page)
    expect(completed(page)).to_have_count(1, timeout=30_000)
    assert lot.colis.count() == 1


def test_a_file_that_is_no_image_is_refused_in_words(server, page, tmp_path):
    not_a_photo = tmp_path / "facture.jpg"
    not_a_photo.write_text("ceci n'est pas une photo")
    login(page, server.url)
    open_lot(page)
    page.set_input_files("#f-photo", str(not_a_photo))
    preview = page.locator(".photo-preview .error, [data-state='error'] .error").first
    expect(preview).to_contain_text("Photo illisible : ce fichier n'est pas une image")
    expect(preview).not_to_contain_text("Error")
