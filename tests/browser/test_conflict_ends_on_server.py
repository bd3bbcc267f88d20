"""A conflict the agent resolves on the tablet ends on the server too: the refused edit's task
is cancelled as `conflict_resolved`, linked to the edit that won, and never a failure again."""

import pytest
from django.test import Client as WebClient
from playwright.sync_api import expect

from server.cargo import services
from server.cargo.models import Colis
from sync.models import ColisTask, Status
from tests.workers import wait_for

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_cancels_the_refused_edit_when_the_tablet_keeps_its_version(server, page, alice):
    login(page, server.url)
    open_lot(page)
    save_colis(page, poids="10")
    expect(completed(page)).to_have_count(1, timeout=20_000)
    colis = Colis.objects.get()
    services.update_colis(colis.pk, colis.version, {"poids": "11"}, alice)  # the office edits
    page.locator('.item[data-kind="create"] [data-action="edit"]').click()
    page.fill("#f-poids", "12")
    page.click("#save")
    page.locator('[data-action="resolve"]').click(timeout=20_000)
    page.click("#keep-local")

    refused = ColisTask.objects.get(operation="update", error_code="version_conflict")
    wait_for(lambda: ColisTask.objects.get(pk=refused.pk).status == Status.CANCELLED, timeout=20)
    refused.refresh_from_db()
    winner = ColisTask.objects.exclude(pk=refused.pk).get(operation="update")
    assert refused.cancel_reason == "conflict_resolved"
    assert refused.superseded_by == winner.op_id
    web = WebClient()
    web.force_login(alice)
    board = web.get("/taches/")
    assert board.context["counts"]["failed"] == 0
    assert str(refused.task_id) not in board.content.decode()
