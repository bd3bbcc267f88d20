"""The form: a lot the agent opens stays chosen once the server numbers it; a file that is
no image, or a picture of more pixels than the server takes, is refused in words."""

import base64
import io

import pytest
from PIL import Image
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


def test_a_photo_of_too_many_pixels_is_refused_before_it_is_decoded(server, page, tmp_path):
    panorama = tmp_path / "panorama.png"
    Image.new("L", (8000, 6000)).save(panorama)  # 48 MP: the server takes 40 at most
    login(page, server.url)
    open_lot(page)
    page.set_input_files("#f-photo", str(panorama))
    preview = page.locator("[data-state='error'] .error")
    expect(preview).to_have_text("La photo est trop grande (plus de 40 mégapixels).")
    page.set_input_files("#f-photo", str(_saved(tmp_path / "ok.png", Image.new("RGB", (6000, 6000)))))
    expect(page.locator("[data-state='ready']")).to_have_count(1)  # 36 MP: taken


def _saved(path, image, **options):
    image.save(path, **options)
    return path


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "QA-Camera " * 2000  # a camera's long EXIF before the frame header
    return exif.tobytes()


@pytest.mark.parametrize("fmt, options", [
    ("JPEG", {}), ("JPEG", {"progressive": True, "exif": _exif()}), ("PNG", {}), ("GIF", {}),
    ("BMP", {}), ("WEBP", {"quality": 50}), ("WEBP", {"lossless": True}),
    ("WEBP", {"lossless": True, "exif": _exif()}),
])
def test_it_reads_a_photos_size_from_its_header(server, page, fmt, options):
    """pwa/js/imagesize.js against Pillow's own files (VP8X: a WebP with EXIF)."""
    out = io.BytesIO()
    Image.new("RGB", (1234, 567), (90, 120, 200)).save(out, fmt, **options)
    page.goto(server.url + "/app/")
    size = page.evaluate("""async (data) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      return (await import('/app/js/imagesize.js')).imageSize(new Blob([bytes]));
    }""", base64.b64encode(out.getvalue()).decode())
    assert size == {"width": 1234, "height": 567}
    assert page.evaluate("async () => (await import('/app/js/imagesize.js'))"
                         ".imageSize(new Blob(['no photo at all']))") is None
