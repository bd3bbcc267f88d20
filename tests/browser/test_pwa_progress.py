"""Live progress during a long sync, and the heartbeat that tells the server « à jour »."""

import json
import re

import pytest
from playwright.sync_api import expect

from server.accounts.models import Device
from sync.models import Upload
from tests.workers import wait_for

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# The page's own loop syncs (no Background Sync): its requests are the ones routed here.
PAGE_LOOP = json.dumps(json.dumps({"baseMs": 300, "idleMs": 1500, "maxMs": 1500, "bgsync": False}))
# Every text the top bar's live progress shows, in order.
RECORD_LIVE = """() => {
  window.liveTexts = [];
  const note = () => {
    const text = document.getElementById('live-progress')?.textContent;
    if (text && text !== window.liveTexts.at(-1)) window.liveTexts.push(text);
  };
  new MutationObserver(note).observe(document.getElementById('topbar'),
    { childList: true, subtree: true, characterData: true });
}"""
PHOTO_PART = re.compile(r"photos? (?:(\d+)/(\d+)\D*?)?(\d+) %")


def wait_held(page, held: list, n: int) -> None:
    """Wait (pumping the browser's events) until `n` routed requests are held."""
    for _ in range(400):
        if len(held) >= n:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"{len(held)} requests held, expected {n}")


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


def test_it_counts_the_photo_progress_over_every_photo_of_the_cycle(server, context, page, photo_file):
    """Four photos, three at a time, each answered when the test lets it: the top bar counts
    the cycle's photos and bytes from the start, and says 100 % only once the last has gone.
    (It showed the percentage of the photo that last answered: « photo 1/4 100 % » with three
    photos still on their way.)"""
    page.add_init_script(f"localStorage.setItem('colis.config', {PAGE_LOOP});")
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    for n in range(4):
        save_colis(page, photo=photo_file, description=f"Colis {n}")
    held = []
    context.route("**/api/v1/uploads/**", lambda route: held.append(route))
    page.evaluate(RECORD_LIVE)
    context.set_offline(False)
    live = page.locator("#live-progress")
    wait_held(page, held, 3)
    expect(live).to_contain_text("0/4")  # the whole work, before any photo answered
    for _ in range(100):
        if Upload.objects.filter(completed_at__isnull=False).count() == 4:
            break
        if held:
            held.pop(0).continue_()
        page.wait_for_timeout(400)  # the top bar redraws at most every 250 ms
    expect(completed(page)).to_have_count(4, timeout=30_000)
    expect(live).to_have_count(0, timeout=20_000)

    shown = [m.groups() for text in page.evaluate("window.liveTexts")
             if (m := PHOTO_PART.search(text))]
    counts = [(int(done), int(n), int(pct)) for done, n, pct in shown if n]
    assert any(0 < done < n for done, n, _ in counts), shown  # seen on its way
    early = [(done, n, pct) for done, n, pct in counts if pct == 100 and done < n]
    assert early == [], f"100 % with photos still to send: {shown}"
    pcts = [pct for _, _, pct in counts]
    assert pcts == sorted(pcts), f"the progress went back: {shown}"


def test_it_says_the_server_answers_again_before_the_photos_end(server, context, page, photo_file):
    """A cycle offline leaves « Dernier essai : Hors ligne » in the queue. Back online, the next
    cycle's first answer takes it away and moves « Dernière synchronisation réussie », while
    its photos still go (here held by the test); it stayed until the whole cycle ended."""
    page.add_init_script(f"localStorage.setItem('colis.config', {PAGE_LOOP});")
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    for n in range(2):
        save_colis(page, photo=photo_file, description=f"Colis {n}")
    page.click("#tab-queue")
    error = page.locator("#sync-error")
    expect(error).to_have_text("Dernier essai : Hors ligne")
    page.wait_for_timeout(1100)  # « Dernière synchronisation réussie » is written to the second
    before = page.locator("#last-sync").text_content()
    held = []
    context.route("**/api/v1/uploads/**", lambda route: held.append(route))
    context.set_offline(False)
    wait_held(page, held, 2)
    expect(error).to_have_count(0)
    expect(page.locator("#last-sync")).not_to_have_text(before)
    assert page.evaluate("import('/app/js/sync.js').then((m) => m.status.running)")
    assert len(held) == 2, "the photos are still on their way"
    for route in held:
        route.continue_()
    context.unroute("**/api/v1/uploads/**")
    expect(completed(page)).to_have_count(2, timeout=30_000)
    expect(error).to_have_count(0)
