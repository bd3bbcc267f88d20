"""Steps the PWA tests share: log in, open a lot, fill and save a colis, read the queue."""

import os
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect

# Screenshots go to a temporary folder; `make screenshots` points SCREENSHOTS_DIR at
# docs/screenshots to refresh the committed ones (ordinary runs never touch them).
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR")
                   or Path(tempfile.gettempdir()) / "colis-screenshots")


def screenshot(page: Page, name: str, **options) -> Path:
    """Save <SCREENSHOTS>/pwa-<name>.png; return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"pwa-{name}.png"
    page.screenshot(path=str(path), **options)
    return path


def login(page: Page, base: str, username: str = "alice", password: str = "password",
          device: str = "Tablette test") -> None:
    page.goto(f"{base}/app/")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.fill("#login-device", device)
    page.click("#login-submit")
    expect(page.locator("#colis-form")).to_be_visible()
    page.wait_for_function("document.body.dataset.refReady === '1'")
    # The shell must be cached and the page controlled before any offline step.
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    # The first sync cycle has ended: a test that goes offline next does not cut it mid-way
    # (a fetch failing under it would count as a failure, not as being offline).
    page.wait_for_function(IDLE)


def open_lot(page: Page, type_lot: str = "cargo") -> None:
    page.click("#tab-lots")
    page.select_option("#lot-type", type_lot)
    page.click("#open-lot")
    expect(page.locator("#colis-form")).to_be_visible()


def save_colis(page: Page, *, client: str = "Diallo", poids: str = "12.5", dims=("40", "30", "20"),
               photo=None, description: str = "Pièces détachées") -> None:
    saved = int(page.locator("#save-status").get_attribute("data-saved") or 0)
    page.fill("#f-client-search", client)
    page.locator(".client-pick").first.click()
    page.fill("#f-poids", poids)
    for name, value in zip(("longueur", "largeur", "hauteur"), dims, strict=True):
        page.fill(f"#f-{name}", value)
    page.fill("#f-description", description)
    if photo is not None:
        page.set_input_files("#f-photo", str(photo))
        info = page.locator("#f-photo-info")
        expect(info).to_have_attribute("data-state", "ready", timeout=20_000)
    page.click("#save")
    expect(page.locator("#save-status")).to_have_attribute("data-saved", str(saved + 1))


def queue_counts(page: Page) -> dict[str, int]:
    page.click("#tab-queue")
    cells = page.locator("#queue-counts .count")
    return {cells.nth(i).get_attribute("data-bucket"): int(cells.nth(i).get_attribute("data-count"))
            for i in range(cells.count())}


def metrics(page: Page) -> list[dict]:
    return page.evaluate("globalThis.colisMetrics.saves")


IDLE = "import('/app/js/sync.js').then((m) => !m.status.running)"


def offline_and_idle(page: Page) -> None:
    """Cut the tablet's link and wait until no sync cycle runs: a changes feed read already
    in flight could otherwise bring the server's next edit (made by the test) to the tablet."""
    page.context.set_offline(True)
    page.wait_for_function(IDLE)


def completed(page: Page):
    """The colis items the queue shows as completed (stay on the queue tab)."""
    page.click("#tab-queue")
    return page.locator('.item[data-kind="create"][data-bucket="completed"]')


def edit_against_the_office(page: Page, user, *, saved: str = "10", office: str = "11",
                            tablet: str = "12"):
    """Save a colis and let it sync; the office edits its weight on the server meanwhile,
    then the tablet edits it too: a version conflict. Returns the colis."""
    from server.cargo import services
    from server.cargo.models import Colis

    save_colis(page, poids=saved)
    expect(completed(page)).to_have_count(1, timeout=20_000)
    colis = Colis.objects.get()
    offline_and_idle(page)  # the tablet edits before the changes feed brings the office's edit
    services.update_colis(colis.pk, colis.version, {"poids": office}, user)
    page.locator('.item[data-kind="create"] [data-action="edit"]').click()
    page.fill("#f-poids", tablet)
    page.click("#save")
    page.context.set_offline(False)
    return colis
