"""Photos go after the metadata by tus, in 256 KB chunks, resuming after a cut."""

import pytest
from playwright.sync_api import expect

from server.cargo.models import Colis

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHUNK = 256 * 1024


def test_it_resumes_a_photo_upload_from_the_server_offset(server, context, page, noisy_photo_file):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    save_colis(page, photo=noisy_photo_file)
    seen = []

    def cut_second_chunk(route):
        request = route.request
        seen.append((request.method, len(request.post_data_buffer or b"")))
        if request.method == "PATCH" and not any(m == "cut" for m, _ in seen):
            route.fetch()  # the server writes the chunk, the answer is lost
            seen.append(("cut", 0))
            route.abort("connectionreset")
        else:
            route.continue_()

    context.route("**/api/v1/uploads/**", cut_second_chunk)
    context.set_offline(False)
    expect(completed(page)).to_have_count(1, timeout=30_000)
    expect(page.locator(".photo-line")).to_have_text("Photo prête", timeout=30_000)
    colis = Colis.objects.get()
    assert colis.photo_status == "ready" and colis.image
    methods = [m for m, _ in seen]
    sent = sum(size for m, size in seen if m in ("POST", "PATCH"))
    size = page.evaluate("globalThis.colisMetrics.saves[0].photoBytes")
    assert size > 2 * CHUNK, "the photo takes several chunks"
    assert methods[0] == "POST" and "cut" in methods and "HEAD" in methods
    assert all(n <= CHUNK for m, n in seen if m in ("POST", "PATCH"))
    assert sent < size + 2 * CHUNK, "resumed from the server's offset, not from zero"
