"""Offline, a save takes the next numéro leased to the tablet, shows it in large type, and
the label prints with a QR code of that numéro; synced, the colis has that very numéro."""

import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from server.cargo import numbering, services
from server.cargo.models import Colis, NumeroLease

from .pwa import SCREENSHOTS, completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PX_PER_MM = 96 / 25.4


def decode_qr(path) -> list[str]:
    """The QR codes zbarimg reads in an image (Debian's zbar-tools)."""
    zbarimg = shutil.which("zbarimg")
    assert zbarimg, "zbarimg is missing: apt-get install zbar-tools"
    out = subprocess.run([zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(path)],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.split()


@pytest.mark.screenshots
def test_it_numbers_and_labels_a_colis_offline(server, context, page):
    login(page, server.url)
    page.click("#tab-settings")  # the first sync cycle leased a block to this tablet
    expect(page.locator("#numeros-left")).to_have_attribute("data-left", "100")
    lease = NumeroLease.objects.get()

    context.set_offline(True)
    page.click("#tab-form")
    open_lot(page)
    save_colis(page, client="Diallo", poids="12.5")
    expect(page.locator("#saved-numero-text")).to_have_text(lease.first_numero)
    numero = lease.first_numero

    page.click("#print-label")  # headless: the print dialog returns at once
    label = page.locator("#print-area .parcel-label")
    expect(label).to_have_attribute("data-numero", numero)
    page.emulate_media(media="print")  # what the printer gets: the label alone
    expect(page.locator("#colis-form")).to_be_hidden()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "pwa-label.png"
    label.screenshot(path=str(shot), scale="device")
    assert decode_qr(shot) == [numero]
    text = label.inner_text()
    for part in (numero, "Diallo Aminata", "Dakar", "12,5 kg", "Cargo"):
        assert part in text, (part, text)
    # A 100 × 150 mm page, filled by the label (96 CSS pixels to the inch).
    assert page.evaluate("""[...document.styleSheets].flatMap((s) => [...s.cssRules])
        .filter((r) => r instanceof CSSPageRule).map((r) => r.style.size)""") == ["100mm 150mm"]
    box = label.bounding_box()
    assert (round(box["width"] / PX_PER_MM), round(box["height"] / PX_PER_MM)) == (100, 150)
    page.emulate_media(media="screen")

    page.click("#tab-queue")
    queued = page.locator('.item[data-kind="create"]')
    expect(queued.locator(".numero-leased")).to_have_text(numero)
    expect(queued.locator('button[data-action="print"]')).to_be_visible()
    assert Colis.objects.count() == 0

    context.set_offline(False)
    expect(completed(page)).to_have_count(1, timeout=30_000)
    assert Colis.objects.get().numero_suivi == numero
    expect(completed(page).locator(".numero-suivi")).to_have_text(numero)
    expect(completed(page).locator('button[data-action="print"]')).to_be_visible()
    page.click("#tab-settings")
    expect(page.locator("#numeros-left")).to_have_attribute("data-left", "99")

    # The setting: the label prints by itself after each save.
    page.check("#auto-print")
    page.click("#tab-form")
    save_colis(page, client="Koné", poids="3")
    second = numbering.format_numero_suivi(lease.year, lease.first + 1)
    expect(page.locator("#saved-numero-text")).to_have_text(second)
    expect(page.locator("#print-area .parcel-label")).to_have_attribute("data-numero", second)


def test_it_lets_the_server_number_a_colis_whose_leased_numero_it_refused(server, context, page,
                                                                        alice, colis_data):
    login(page, server.url)
    page.click("#tab-settings")
    expect(page.locator("#numeros-left")).to_have_attribute("data-left", "100")
    numero = NumeroLease.objects.get().first_numero
    context.set_offline(True)
    page.click("#tab-form")
    open_lot(page)
    save_colis(page, client="Traoré", poids="4")
    expect(page.locator("#saved-numero-text")).to_have_text(numero)
    services.create_colis(alice, {**colis_data, "numero_suivi": numero})  # a bug took it meanwhile

    context.set_offline(False)
    page.click("#tab-queue")
    failed = page.locator('.item[data-kind="create"][data-bucket="failed"]')
    expect(failed).to_contain_text("déjà utilisé", timeout=30_000)
    failed.locator('button[data-action="correct"]').click()
    page.click("#save")
    expect(completed(page).filter(has_text="Traoré")).to_have_count(1, timeout=30_000)
    made = Colis.objects.get(client__nom="Traoré")
    assert made.numero_suivi != numero and numbering.is_valid_numero_suivi(made.numero_suivi)
    expect(completed(page).filter(has_text="Traoré").locator(".numero-suivi")).to_have_text(made.numero_suivi)
