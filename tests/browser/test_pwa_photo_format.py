"""The tablet stores its photo as JPEG at the measured quality; the server keeps its bytes."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from server.cargo.models import Colis
from sync import jpeg

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STORED_PHOTOS = """async () => {
    const db = await new Promise((ok) => {
        const r = indexedDB.open('colis-sync'); r.onsuccess = () => ok(r.result); });
    const rows = await new Promise((ok) => {
        const r = db.transaction('photos').objectStore('photos').getAll();
        r.onsuccess = () => ok(r.result); });
    return Promise.all(rows.map(async (p) => ({ type: p.type, blobType: p.blob.type,
        bytes: Array.from(new Uint8Array(await p.blob.arrayBuffer())) })));
}"""


def test_it_sends_a_jpeg_and_the_server_keeps_its_bytes(server, context, page, photo_file):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    save_colis(page, photo=photo_file)
    (photo,) = page.evaluate(STORED_PHOTOS)
    sent = bytes(photo["bytes"])
    assert photo["type"] == photo["blobType"] == "image/jpeg" and sent[:2] == b"\xff\xd8"
    context.set_offline(False)
    expect(completed(page)).to_have_count(1, timeout=30_000)
    expect(page.locator(".photo-line")).to_have_text("Photo prête", timeout=30_000)
    colis = Colis.objects.get()
    with colis.image.open("rb") as stored:
        kept = stored.read()
    assert colis.image.name.endswith(".jpg") and max(Image.open(io.BytesIO(kept)).size) <= 1600
    # Not decoded and encoded again: the tablet's own image data, only its metadata dropped.
    assert kept == jpeg.strip(sent)
