"""With a real RQ worker, the tablet follows each task through the changes feed to completion."""

import json

import pytest
from playwright.sync_api import expect

from server.cargo.models import Colis
from sync.models import ColisTask
from tests.workers import flush_redis, run_burst, start_worker, stop

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(server, settings):
    settings.COLIS_ASYNC = True
    flush_redis()
    proc = start_worker("colis", "notifications")
    yield proc
    stop(proc)


def test_it_follows_tasks_run_by_a_worker(server, worker, page, photo_file):
    login(page, server.url)
    open_lot(page)
    save_colis(page, client="Koné", photo=photo_file)
    save_colis(page, client="Traoré")
    expect(completed(page)).to_have_count(2, timeout=60_000)
    expect(page.locator(".numero-suivi")).to_have_count(2)
    assert Colis.objects.count() == 2


# The changes feed's requests and when they began, and the page's clock (ms).
FEED_TIMES = """() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/api/v1/sync/changes')).map((e) => e.startTime)"""


def test_it_reads_the_changes_feed_while_a_long_photo_backlog_goes(server, settings, context, page,
                                                                   photo_file):
    """Three colis saved offline, then online: their photos go, held by the test as a slow
    link would hold them, and meanwhile the worker completes the colis. The tablet shows them
    completed before their photos are up (it read the feed again only after the photos: an
    hour of backlog, an hour of items shown pending). The reads are paced: one per
    `changesMs` at most, beside the one at the cycle's start."""
    settings.COLIS_ASYNC = True
    flush_redis()  # no worker yet: the tasks wait, pending
    config = {"baseMs": 300, "idleMs": 1500, "maxMs": 1500, "bgsync": False, "changesMs": 1000}
    page.add_init_script(f"localStorage.setItem('colis.config', {json.dumps(json.dumps(config))});")
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    for n in range(3):
        save_colis(page, photo=photo_file, description=f"Colis {n}")
    held = []
    context.route("**/api/v1/uploads/**", lambda route: held.append(route))
    online_at = page.evaluate("performance.now()")
    context.set_offline(False)
    for _ in range(400):
        if len(held) == 3:
            break
        page.wait_for_timeout(50)
    assert len(held) == 3, "the three photos are on their way"
    assert ColisTask.objects.filter(status="pending").count() == 3
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="create"][data-bucket="sent"]')).to_have_count(3)

    run_burst("colis", "notifications")
    expect(completed(page)).to_have_count(3, timeout=15_000)
    expect(page.locator(".numero-suivi")).to_have_count(3)
    held_for = page.evaluate("performance.now()") - online_at
    reads = [t for t in page.evaluate(FEED_TIMES) if t >= online_at]
    assert 2 <= len(reads) <= 2 + held_for // config["changesMs"], (len(reads), held_for)

    assert len(held) == 3 and set(Colis.objects.values_list("photo_status", flat=True)) == {"awaiting"}
    for route in held:
        route.continue_()
    context.unroute("**/api/v1/uploads/**")
    expect(page.locator(".photo-line")).to_have_text(["Photo envoyée"] * 3, timeout=30_000)
    run_burst("colis", "notifications")  # the photos' own jobs
    expect(page.locator(".photo-line")).to_have_text(["Photo prête"] * 3, timeout=30_000)
