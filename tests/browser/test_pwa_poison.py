"""One item the server fails on (a 500, twice) is split off and refused on the tablet;
every other item of its batches syncs, and the refused one can be corrected or cancelled."""

import pytest
from playwright.sync_api import expect

import sync.api
from server.cargo.models import Colis
from sync.models import ColisTask

from .pwa import completed, login, open_lot, queue_counts, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
POISON = "POISON"


@pytest.fixture
def poisoned_server(server, monkeypatch):
    """The live server, made to answer 500 to any batch that holds the poisoned item."""
    real = sync.api.ingest_batch
    seen = {"batches": 0, "failed": 0}

    def ingest_batch(user, device, items):
        seen["batches"] += 1
        if any(isinstance(i, dict) and isinstance(i.get("data"), dict)
               and i["data"].get("description") == POISON for i in items):
            seen["failed"] += 1
            raise RuntimeError("a bug this item alone triggers")
        return real(user, device, items)

    monkeypatch.setattr(sync.api, "ingest_batch", ingest_batch)
    server.seen = seen
    return server


def save_with_poison(context, page, server):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    for i, name in enumerate(["Diallo", "Traoré", "Koné", "Ouédraogo", "Diallo"]):
        save_colis(page, client=name, poids=f"{2 + i}", description=POISON if i == 2 else "Pièces")
    context.set_offline(False)


def test_it_splits_off_the_item_the_server_fails_on(poisoned_server, context, page):
    save_with_poison(context, page, poisoned_server)
    expect(completed(page)).to_have_count(4, timeout=40_000)
    refused = page.locator('.item[data-bucket="failed"]')
    expect(refused).to_have_count(1, timeout=20_000)
    expect(refused).to_contain_text("Le serveur refuse cet élément")
    expect(page.locator('#queue-items .item').first).to_have_attribute("data-bucket", "failed")
    assert Colis.objects.count() == 4
    assert not Colis.objects.filter(description=POISON).exists()
    assert poisoned_server.seen["failed"] >= 3  # twice whole, then halves, then alone
    counts = queue_counts(page)
    assert counts == {**counts, "device": 0, "failed": 1, "completed": 5}

    # Corrected, it goes through as a new item; nothing is doubled.
    refused.locator('[data-action="correct"]').click()
    page.fill("#f-description", "Pièces, corrigé")
    page.click("#save")
    expect(completed(page)).to_have_count(5, timeout=20_000)
    assert Colis.objects.count() == 5 and ColisTask.objects.count() == 5
    assert Colis.objects.filter(description="Pièces, corrigé").count() == 1


def test_it_cancels_a_refused_item_on_the_tablet(poisoned_server, context, page):
    save_with_poison(context, page, poisoned_server)
    page.click("#tab-queue")
    refused = page.locator('.item[data-bucket="failed"]')
    expect(refused).to_have_count(1, timeout=40_000)
    expect(completed(page)).to_have_count(4, timeout=20_000)
    refused.locator('[data-action="discard"]').click()
    page.click('#cancel-item [data-reason="agent_cancelled"]')
    expect(page.locator('.item[data-bucket="cancelled"]')).to_have_count(1)
    page.reload()
    expect(page.locator('.item[data-bucket="failed"]')).to_have_count(0)
    assert Colis.objects.count() == 4
