"""A photo the server refuses: the colis completes, the queue shows why, in the agent's
language (the code in photo_error rendered by pwa/js/codes.js)."""

import pytest
from playwright.sync_api import expect

from server.cargo.models import Colis
from tests.test_images import bad_exif_jpeg

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_a_refused_photos_reason_in_english(server, context, page, photo_file):
    """The tablet's upload is swapped in flight for a JPEG whose EXIF makes Pillow raise
    struct.error, padded to the announced length (Pillow ignores bytes after the image)."""
    context.add_init_script("localStorage.setItem('colis.lang', 'en');")
    swapped = {}

    def swap(route):
        request = route.request
        if request.method not in ("POST", "PATCH") or not request.post_data_buffer:
            return route.continue_()
        headers = request.headers
        if request.method == "POST":
            length = int(headers["upload-length"])
            swapped["bytes"] = bad_exif_jpeg().ljust(length, b"\0")
        offset = int(headers.get("upload-offset", 0))
        chunk = swapped["bytes"][offset:offset + len(request.post_data_buffer)]
        route.continue_(post_data=chunk)

    context.route("**/api/v1/uploads/**", swap)
    login(page, server.url)
    open_lot(page)
    save_colis(page, photo=photo_file)
    expect(completed(page)).to_have_count(1, timeout=30_000)
    line = page.locator(".photo-line")
    expect(line).to_contain_text("The photo is truncated or unreadable: take it again.",
                                 timeout=30_000)
    colis = Colis.objects.get()
    assert (colis.photo_status, colis.photo_error) == ("failed", "photo_unreadable")
    assert colis.numero_suivi in completed(page).first.inner_text()
