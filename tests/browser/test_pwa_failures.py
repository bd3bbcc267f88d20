"""Nothing is lost or doubled when the link drops, the server fails or the token is revoked."""

import pytest
from playwright.sync_api import expect

from server.accounts.models import Device
from server.cargo.models import Colis
from sync.models import ColisTask

from .pwa import completed, login, open_lot, queue_counts, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CLIENTS = ["Diallo", "Traoré", "Koné", "Ouédraogo", "Diallo"]


def save_five_offline(context, page, server):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    for i, name in enumerate(CLIENTS):
        save_colis(page, client=name, poids=f"{2 + i}")


def test_it_makes_no_duplicate_when_the_answer_is_lost(server, context, page):
    save_five_offline(context, page, server)
    cuts = []

    def lose_first_answer(route):
        if route.request.method == "POST" and not cuts:
            cuts.append(route.request.url)  # first: a second POST meanwhile goes through
            route.fetch()  # the server records the batch...
            route.abort("connectionreset")  # ...and the answer never reaches the tablet
        else:
            route.continue_()

    context.route("**/api/v1/sync/", lose_first_answer)
    context.set_offline(False)
    expect(completed(page)).to_have_count(5, timeout=30_000)
    assert cuts, "the first batch went through the cut"
    assert Colis.objects.count() == 5
    assert ColisTask.objects.count() == 5


def test_it_keeps_everything_after_a_server_error(server, context, page):
    save_five_offline(context, page, server)
    failures = []

    def fail_first_batch(route):
        if route.request.method == "POST" and not failures:
            failures.append(route.request.post_data_json["items"])
            route.fulfill(status=500, body="boom")
        else:
            route.continue_()

    context.route("**/api/v1/sync/", fail_first_batch)
    context.set_offline(False)
    expect(completed(page)).to_have_count(5, timeout=30_000)
    assert len(failures[0]) == 6  # the lot and its colis, all in that first batch
    assert Colis.objects.count() == 5
    counts = queue_counts(page)
    assert counts["completed"] == 6 and counts["device"] == counts["failed"] == 0


def test_it_syncs_queued_colis_after_a_new_login(server, context, page):
    save_five_offline(context, page, server)
    Device.objects.get().revoke()
    context.set_offline(False)
    expect(page.locator("#relogin-note")).to_be_visible(timeout=15_000)
    expect(page.locator("#relogin-note")).to_contain_text("6")
    page.reload()  # still asks, still holds them
    expect(page.locator("#relogin-note")).to_contain_text("6")
    assert Colis.objects.count() == 0
    page.fill("#login-password", "password")
    page.click("#login-submit")
    expect(completed(page)).to_have_count(5, timeout=30_000)
    assert Colis.objects.count() == 5


def test_it_does_not_back_off_for_saves_made_offline(server, context, page):
    """Offline is no failure: after a day of offline saves the first sync is not delayed."""
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    for name in ("Diallo", "Koné", "Traoré"):
        save_colis(page, client=name)
    failures = page.evaluate("async () => (await import('/app/js/sync.js')).status.failures")
    assert failures == 0
    context.set_offline(False)
    expect(completed(page)).to_have_count(3, timeout=20_000)
