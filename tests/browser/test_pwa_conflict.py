"""An edit against a colis that changed on the server shows both versions; the agent chooses."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from server.cargo.models import Colis, Lot
from sync.models import ColisTask
from tests.conftest import device_client
from tests.workers import run_burst, wait_for

from .pwa import completed, edit_against_the_office, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_both_versions_and_keeps_the_one_chosen(server, page, alice):
    login(page, server.url)
    open_lot(page)
    colis = edit_against_the_office(page, alice)
    resolve = page.locator('[data-action="resolve"]')
    expect(resolve).to_be_visible(timeout=20_000)
    resolve.click()
    versions = page.locator("#conflict tr.differs")
    expect(versions.filter(has_text="Poids")).to_contain_text("12")
    expect(versions.filter(has_text="Poids")).to_contain_text("11")
    page.click("#keep-local")
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="update"][data-bucket="completed"]')).to_have_count(
        1, timeout=20_000)
    colis.refresh_from_db()
    assert colis.poids == Decimal("12") and colis.version == 3


def test_it_edits_in_place_a_colis_that_never_left_the_tablet(server, context, page):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    save_colis(page, poids="10")
    page.click("#tab-queue")
    page.locator('.item[data-kind="create"] [data-action="edit"]').click()
    page.fill("#f-poids", "14")
    page.click("#save")
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="create"]')).to_have_count(1)
    expect(page.locator('.item[data-kind="update"]')).to_have_count(0)
    context.set_offline(False)
    expect(completed(page)).to_have_count(1, timeout=20_000)
    assert Colis.objects.get().poids == Decimal("14")


def server_got_it_first(server, context, page, user, settings=None) -> dict:
    """Save a colis offline, then send its op_id to the server with other data (99 kg)
    before the tablet does, as a first send whose answer was lost would have; return the
    server's answer to that send. With `settings`, a real worker makes the server's colis."""
    login(page, server.url)
    open_lot(page)
    wait_for(Lot.objects.exists, timeout=20)
    context.set_offline(True)
    page.click("#tab-form")
    save_colis(page, poids="10")
    item = page.evaluate("""async () => (await (await import('/app/js/outbox.js')).all())
        .find((i) => i.op === 'create')""")
    if settings is not None:
        settings.COLIS_ASYNC = True
    first_send = {"op_id": item["op_id"], "op": "create", "data": {**item["data"], "poids": "99"}}
    answer = device_client(user).post("/api/v1/sync/", {"items": [first_send]}, format="json")
    context.set_offline(False)
    page.click("#tab-queue")
    return answer.json()["items"][0]


def test_it_edits_the_servers_colis_when_its_op_id_came_back_with_other_data(
        server, context, page, alice):
    """Keeping the tablet's version edits the server's colis; it never makes a second one."""
    assert server_got_it_first(server, context, page, alice)["task"]["status"] == "completed"
    resolve = page.locator('[data-action="resolve"]')
    expect(resolve).to_be_visible(timeout=20_000)
    resolve.click()
    poids = page.locator("#conflict tr.differs").filter(has_text="Poids")
    expect(poids).to_contain_text("10")
    expect(poids).to_contain_text("99")
    page.click("#keep-local")
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="update"][data-bucket="completed"]')).to_have_count(
        1, timeout=20_000)
    assert Colis.objects.count() == 1
    assert Colis.objects.get().poids == Decimal("10")


def test_it_waits_for_the_servers_colis_before_editing_it(server, context, page, alice, settings,
                                                          redis_clean):
    """As above, while the server has not made its colis yet: the edit waits for it."""
    answer = server_got_it_first(server, context, page, alice, settings=settings)
    assert answer["task"]["status"] == "pending"
    page.locator('[data-action="resolve"]').click(timeout=20_000)
    page.click("#keep-local")
    run_burst()  # the server's colis (99 kg)
    wait_for(lambda: ColisTask.objects.filter(operation="update").exists(), timeout=30)
    run_burst()  # the tablet's edit of it (10 kg)
    page.click("#tab-queue")
    expect(page.locator('.item[data-kind="update"][data-bucket="completed"]')).to_have_count(
        1, timeout=20_000)
    assert Colis.objects.count() == 1
    assert Colis.objects.get().poids == Decimal("10")
