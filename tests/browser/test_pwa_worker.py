"""With a real RQ worker, the tablet follows each task through the changes feed to completion."""

import pytest
from playwright.sync_api import expect

from server.cargo.models import Colis
from tests.workers import flush_redis, start_worker, stop

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
