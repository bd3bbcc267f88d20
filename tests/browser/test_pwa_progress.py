"""Live progress during a long sync, and the heartbeat that tells the server « à jour »."""

import json

import pytest
from playwright.sync_api import expect

from server.accounts.models import Device
from tests.workers import wait_for

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_live_progress_and_reports_an_empty_outbox(server, context, page,
                                                            noisy_photo_file):
    # The page's own loop syncs (no Background Sync), so the throttle below applies to it.
    config = json.dumps(json.dumps({"baseMs": 300, "idleMs": 1500, "maxMs": 1500, "bgsync": False}))
    page.add_init_script(f"localStorage.setItem('colis.config', {config});")
    login(page, server.url)
    open_lot(page)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 50,
                                                  "downloadThroughput": 400_000,
                                                  "uploadThroughput": 60_000})
    save_colis(page, photo=noisy_photo_file)
    live = page.locator("#live-progress")
    expect(live).to_contain_text("photo", timeout=30_000)
    page.click("#tab-queue")
    expect(page.locator(".photo-line")).to_contain_text("restants", timeout=30_000)
    expect(page.locator(".photo-line")).to_contain_text("environ", timeout=30_000)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                  "downloadThroughput": -1, "uploadThroughput": -1})
    expect(completed(page)).to_have_count(1, timeout=60_000)
    expect(live).to_have_count(0, timeout=20_000)

    def reported_empty() -> bool:
        device = Device.objects.get()
        return device.outbox_pending == 0 and device.outbox_photos == 0
    wait_for(reported_empty, timeout=30)
    assert Device.objects.get().is_up_to_date
