"""The tablet stores its photo as WebP where Chromium encodes it; the server keeps a JPEG."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from server.cargo.models import Colis

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STORED_PHOTOS = """async () => {
    const db = await new Promise((ok) => {
        const r = indexedDB.open('colis-sync'); r.onsuccess = () => ok(r.result); });
    const rows = await new Promise((ok) => {
        const r = db.transaction('photos').objectStore('photos').getAll();
        r.onsuccess = () => ok(r.result); });
    return Promise.all(rows.map(async (p) => ({ type: p.type, blobType: p.blob.type,
        head: Array.from(new Uint8Array(await p.blob.slice(0, 12).arrayBuffer())) })));
}"""


def test_it_sends_webp_and_the_server_stores_a_jpeg(server, context, page, photo_file):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    save_colis(page, photo=photo_file)
    (photo,) = page.evaluate(STORED_PHOTOS)
    head = bytes(photo["head"])
    assert photo["type"] == photo["blobType"] == "image/webp"
    assert head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    context.set_offline(False)
    expect(completed(page)).to_have_count(1, timeout=30_000)
    expect(page.locator(".photo-line")).to_have_text("Photo prête", timeout=30_000)
    colis = Colis.objects.get()
    with colis.image.open("rb") as stored:
        image = Image.open(io.BytesIO(stored.read()))
    assert image.format == "JPEG" and max(image.size) <= 1600
    assert colis.image.name.endswith(".jpg")
