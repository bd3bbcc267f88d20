"""The tablet works offline from the start and syncs each colis exactly once."""

import base64
import json

import pytest
from playwright.sync_api import expect

from server.cargo.models import Colis, Lot
from sync.models import ColisTask

from .pwa import completed, login, metrics, open_lot, queue_counts, save_colis, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CLIENTS = ["Diallo", "Traoré", "Koné", "Ouédraogo", "Diallo"]


@pytest.mark.screenshots
def test_it_keeps_five_colis_offline_and_syncs_them_once(server, context, page, photo_file):
    login(page, server.url)
    context.set_offline(True)
    page.reload()  # a navigation offline still opens the app
    expect(page.locator("#offline-banner")).to_be_visible()
    open_lot(page)
    for i, name in enumerate(CLIENTS):
        save_colis(page, client=name, poids=f"{3 + i}.5", photo=photo_file)
    page.reload()
    assert queue_counts(page)["device"] == 6  # the lot and its 5 colis
    expect(page.locator('.item[data-kind="create"]')).to_have_count(5)
    screenshot(page, "offline")
    assert Colis.objects.count() == 0

    context.set_offline(False)
    expect(completed(page)).to_have_count(5, timeout=30_000)
    expect(page.locator('.item[data-kind="create"] .numero-suivi')).to_have_count(5)
    assert Colis.objects.count() == 5
    assert Lot.objects.count() == 1
    assert set(Colis.objects.values_list("lot__op_id", flat=True)) == {Lot.objects.get().op_id}
    # The tablet's save time travels with each item: saved offline, before the server saw it.
    for saved, received in ColisTask.objects.values_list("saved_at", "created_at"):
        assert saved is not None and saved < received
    # The lot opened offline now shows its real number on each colis.
    expect(page.locator('.item[data-kind="create"]').filter(
        has_text=Lot.objects.get().numero_lot)).to_have_count(5)
    expect(page.locator(".photo-line").filter(has_text="envoi")).to_have_count(0, timeout=30_000)
    screenshot(page, "queue")
    print(f"\nPWA photo bytes per colis (stored on the tablet): {stored_photo_bytes(page)}")
    fill_for_screenshot(page, photo_file)
    screenshot(page, "form")


def fill_for_screenshot(page, photo_file):
    page.click("#tab-form")
    page.fill("#f-client-search", "Kon")
    page.locator(".client-pick").first.click()
    for name, value in [("poids", "7,5"), ("longueur", "60"), ("largeur", "50"), ("hauteur", "40")]:
        page.fill(f"#f-{name}", value)
    page.select_option("#f-paiement", "paye_chine")
    page.fill("#f-description", "Pièces de moto, 2 cartons")
    page.set_input_files("#f-photo", str(photo_file))
    expect(page.locator("#f-photo-info")).to_have_attribute("data-state", "ready")
    expect(page.locator("#f-estimate")).to_contain_text("170")


STORED_PHOTO_BYTES = """async () => {
    const db = await new Promise((ok) => {
        const r = indexedDB.open('colis-sync'); r.onsuccess = () => ok(r.result); });
    const rows = await new Promise((ok) => {
        const r = db.transaction('photos').objectStore('photos').getAll();
        r.onsuccess = () => ok(r.result); });
    return rows.map((p) => p.blob.size);
}"""


def stored_photo_bytes(page) -> list[int]:
    return page.evaluate(STORED_PHOTO_BYTES)


def test_it_measures_save_latency_and_photo_size(server, context, page, photo_file):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    for name in CLIENTS:
        save_colis(page, client=name, photo=photo_file)
    figures = metrics(page)
    save_ms = sorted(f["ms"] for f in figures)
    photo = [f["photoBytes"] for f in figures]
    print(f"\nPWA save latency ms (IndexedDB write, photo included): median {save_ms[2]:.1f}, "
          f"max {save_ms[-1]:.1f}, all {[round(ms, 1) for ms in save_ms]}")
    print(f"PWA photo bytes per colis: {photo} from a {photo_file.stat().st_size}-byte 12 MP JPEG; "
          f"compression ms {[round(f['compressMs']) for f in figures]}")
    assert len(figures) == 5 and all(b > 0 for b in photo)


def test_it_exports_the_whole_outbox(server, context, page, photo_file):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    save_colis(page, photo=photo_file)
    page.click("#tab-queue")
    with page.expect_download() as download:
        page.click("#export")
    body = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert body["format"] == "colis-sync-outbox" and body["version"] == 1
    assert [i["op"] for i in body["items"]] == ["open_lot", "create"]
    (photo,) = body["photos"]
    assert len(base64.b64decode(photo["data_base64"])) == photo["size"]
    assert photo["op_id"] == body["items"][1]["op_id"]
