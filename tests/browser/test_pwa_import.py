"""A tablet takes over another one's outbox from its export file: each colis reaches the server once."""

import json

import pytest
from playwright.sync_api import expect

from server.cargo.models import Colis, Lot
from sync.models import ColisTask
from tests.workers import wait_for

from .conftest import FAST_SYNC
from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tablet_b(browser):
    """A second tablet: its own browser context, so its own IndexedDB."""
    ctx = browser.new_context(viewport={"width": 1024, "height": 900}, locale="fr-FR",
                              bypass_csp=True)
    config = json.dumps(json.dumps(FAST_SYNC))
    ctx.add_init_script(f"localStorage.setItem('colis.config', {config});")
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda e: print(f"[pageerror B] {e}"))
    yield page
    ctx.close()


def export_outbox(page, tmp_path):
    page.click("#tab-queue")
    with page.expect_download() as download:
        page.click("#export")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    return path


def import_file(page, path):
    page.click("#tab-settings")
    page.set_input_files("#import-file", str(path))


def test_it_takes_over_another_tablets_outbox_and_syncs_each_colis_once(
        server, context, page, tablet_b, photo_file, tmp_path):
    login(page, server.url, device="Tablette A")
    context.set_offline(True)
    open_lot(page)
    save_colis(page, client="Diallo", poids="4.5", photo=photo_file)
    save_colis(page, client="Koné", poids="7.5")
    path = export_outbox(page, tmp_path)
    assert json.loads(path.read_text(encoding="utf-8"))["user"] == "alice"

    login(tablet_b, server.url, device="Tablette B")
    import_file(tablet_b, path)
    expect(tablet_b.locator("#toast")).to_contain_text("3 éléments ajoutés, 0 ignorés, 1 photos")
    expect(completed(tablet_b)).to_have_count(2, timeout=30_000)
    assert Colis.objects.count() == 2 and Lot.objects.count() == 1
    assert set(Colis.objects.values_list("created_by__username", flat=True)) == {"alice"}
    # B uploads the photo that came in the file; it is attached to its colis.
    wait_for(lambda: Colis.objects.filter(poids="4.5", photo_status=Colis.Photo.READY).exists())

    # The same file again on B adds nothing; tablet A coming back online sends its copies:
    # the server answers duplicate, and still holds each colis once.
    import_file(tablet_b, path)
    expect(tablet_b.locator("#toast")).to_contain_text("0 éléments ajoutés, 3 ignorés")
    context.set_offline(False)
    expect(completed(page)).to_have_count(2, timeout=30_000)
    assert Colis.objects.count() == 2 and Lot.objects.count() == 1
    assert ColisTask.objects.count() == 2


def test_it_refuses_a_file_that_is_not_this_agents_outbox(server, page, tmp_path):
    login(page, server.url)
    path = tmp_path / "notes.json"
    path.write_text(json.dumps({"format": "colis-sync-outbox", "version": 7, "items": [],
                                "photos": []}), encoding="utf-8")
    import_file(page, path)
    expect(page.locator("#toast")).to_contain_text("Version de fichier inconnue (7)")
    path.write_text("not json", encoding="utf-8")
    import_file(page, path)
    expect(page.locator("#toast")).to_contain_text("n'est pas du JSON lisible")
    path.write_text(json.dumps({"format": "colis-sync-outbox", "version": 1, "user": "bob",
                                "items": [], "photos": []}), encoding="utf-8")
    import_file(page, path)
    expect(page.locator("#toast")).to_contain_text("Ce fichier est la file de « bob »")
