"""Every failure has a way out, and the tablet and the server agree: a closed lot, a
resolved conflict, an edit that synced, an edit racing a send, and errors that are shown."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from server.cargo import services
from server.cargo.models import Colis, Lot
from sync.models import FAILED_STATES, ColisTask, Status
from tests.web_helpers import web
from tests.workers import wait_for

from .pwa import completed, edit_against_the_office, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
OUTBOX = "(await import('/app/js/outbox.js'))"


def edit_weight(page, poids: str) -> None:
    page.click("#tab-queue")
    page.locator('.item[data-kind="create"] [data-action="edit"]').click()
    page.fill("#f-poids", poids)
    page.click("#save")


def test_it_ends_a_resolved_conflict_on_the_server_too(server, page, alice):
    login(page, server.url)
    open_lot(page)
    colis = edit_against_the_office(page, alice)
    page.locator('[data-action="resolve"]').click(timeout=20_000)
    differs = page.locator("#conflict tr.differs")
    expect(differs).to_have_count(1)  # only the weight: 10 vs "10.000" is no difference
    page.click("#keep-local")
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="update"][data-bucket="completed"]')).to_have_count(
        1, timeout=20_000)
    loser = ColisTask.objects.get(operation="update", error_code="version_conflict")
    wait_for(lambda: ColisTask.objects.get(pk=loser.pk).status == Status.CANCELLED, timeout=20)
    loser.refresh_from_db()
    winner = ColisTask.objects.exclude(pk=loser.pk).get(operation="update")
    assert loser.cancel_reason == "conflict_resolved" and loser.superseded_by == winner.op_id
    assert not ColisTask.objects.filter(status__in=FAILED_STATES).exists()
    board = web(alice).get("/taches/")  # the pages agree
    assert board.context["counts"]["failed"] == 0
    assert str(loser.task_id) not in board.content.decode()
    expect(page.locator('[data-action="resolve"]')).to_have_count(0)
    # A new login reads the whole feed again: nothing comes back as a failure.
    page.evaluate("async () => (await import('/app/js/db.js')).kvDelete('cursor')")
    page.click("#sync-now")
    page.wait_for_timeout(1500)
    expect(page.locator('.item[data-bucket="failed"]')).to_have_count(0)
    colis.refresh_from_db()
    assert colis.poids == Decimal("12")


def test_it_keeps_the_servers_version_and_says_so_to_the_server(server, page, alice):
    login(page, server.url)
    open_lot(page)
    edit_against_the_office(page, alice)
    page.locator('[data-action="resolve"]').click(timeout=20_000)
    page.click("#keep-server")
    wait_for(lambda: ColisTask.objects.filter(operation="update", status=Status.CANCELLED).exists(),
             timeout=20)
    page.click("#tab-queue")
    expect(page.locator('.item[data-bucket="failed"]')).to_have_count(0, timeout=10_000)
    assert Colis.objects.get().poids == Decimal("11")


def test_it_moves_a_colis_of_a_lot_closed_meanwhile_to_a_new_lot(server, context, page, alice):
    login(page, server.url)
    open_lot(page)
    wait_for(Lot.objects.exists, timeout=20)
    first = Lot.objects.get()
    page.evaluate("async () => (await import('/app/js/sync.js')).refreshReference({ force: true })")
    context.set_offline(True)
    page.reload()
    save_colis(page, poids="7")
    services.close_lot(first, alice)  # a supervisor closes it while the tablet is offline
    context.set_offline(False)
    page.click("#tab-queue")
    refused = page.locator('.item[data-bucket="failed"]')
    expect(refused).to_have_count(1, timeout=20_000)
    page.click("#tab-form")
    expect(page.locator("#f-lot option", has_text=first.numero_lot)).to_have_count(0)
    page.click("#tab-queue")
    refused.locator('[data-action="move"]').click()
    page.click("#move-new-lot")
    expect(completed(page)).to_have_count(1, timeout=20_000)
    colis = Colis.objects.get()
    assert colis.lot != first and colis.lot.type_lot == first.type_lot
    expect(page.locator('.item[data-bucket="failed"]')).to_have_count(0)


def test_it_shows_the_servers_colis_after_an_edit_synced(server, page):
    login(page, server.url)
    open_lot(page)
    save_colis(page, poids="10")
    expect(completed(page)).to_have_count(1, timeout=20_000)
    edit_weight(page, "14")
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="update"][data-bucket="completed"]')).to_have_count(
        1, timeout=20_000)
    created = page.locator('.item[data-kind="create"]')
    expect(created.locator(".item-title")).to_contain_text("14,0 kg")
    price = Colis.objects.get().prix_calcule
    expect(created.locator(".numero")).to_contain_text(f"{int(price):,}".replace(",", "\u202f"))
    created.locator('[data-action="edit"]').click()
    assert page.input_value("#f-poids").startswith("14")


def test_it_never_sends_stale_data_when_an_edit_races_the_send(server, context, page):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    save_colis(page, poids="10")
    lost = page.evaluate(f"""async () => {{
      const outbox = {OUTBOX};
      const db = await import('/app/js/db.js');
      const item = (await outbox.all()).find((i) => i.op === 'create');
      const lost = [];
      for (let round = 0; round < 40; round++) {{
        await db.updateItems([item.op_id], (i) => ({{ ...i, attempts: 0 }}));
        const [claim, edited] = await Promise.all([
          outbox.claimBatch({{ maxItems: 50, maxBytes: 1e6 }}),
          outbox.editQueued(item.op_id, {{ description: `round ${{round}}` }})]);
        const sent = claim.batch.find((w) => w.op_id === item.op_id);
        if (edited && sent.data.description !== `round ${{round}}`) {{
          const stored = await db.getOne('items', item.op_id);
          if (stored.attempts) lost.push(round);  // edited in place after the send was taken
        }}
      }}
      return lost;
    }}""")
    assert lost == []


def test_it_lists_caught_errors_in_the_journal(server, page):
    login(page, server.url)
    page.route("**/api/v1/tariffs/", lambda route: route.fulfill(status=500, body="boom"))
    page.click("#tab-queue")
    journal = page.locator("#journal")
    for _ in range(20):  # a cycle already running may refresh the reference data first
        page.evaluate("async () => (await import('/app/js/db.js'))"
                      ".kvSet('reference_at', '2000-01-01T00:00:00Z')")
        page.click("#sync-now")
        page.wait_for_timeout(500)
        if journal.locator("summary").inner_text() != "Journal (0)":
            break
    expect(journal.locator("summary")).not_to_have_text("Journal (0)", timeout=15_000)
    journal.locator("summary").click()
    expect(journal).to_contain_text("reference")


def test_it_links_the_failure_banner_to_the_first_failure(server, context, page, alice):
    login(page, server.url)
    open_lot(page)
    wait_for(Lot.objects.exists, timeout=20)
    page.evaluate("async () => (await import('/app/js/sync.js')).refreshReference({ force: true })")
    context.set_offline(True)
    page.reload()
    save_colis(page, poids="7")
    services.close_lot(Lot.objects.get(), alice)
    context.set_offline(False)
    page.click("#tab-form")
    page.locator("#show-failure").click(timeout=20_000)
    expect(page.locator("#first-failure")).to_be_focused()
    expect(page.locator("#first-failure")).to_have_attribute("data-bucket", "failed")


def test_it_offers_a_reload_when_a_new_version_takes_over(server, page):
    login(page, server.url)
    expect(page.locator("#update-banner")).to_have_count(0)
    page.evaluate("navigator.serviceWorker.dispatchEvent(new Event('controllerchange'))")
    expect(page.locator("#update-banner")).to_be_visible()
    with page.expect_navigation():
        page.click("#reload-app")
