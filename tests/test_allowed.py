"""One table of statuses × actions: the actions obey it, and the pages show its buttons only."""

import pytest

from sync import actions, allowed
from sync.models import ColisTask, Status
from tests.web_helpers import send, set_status, web

PAIRS = [(status, action) for status in Status.values for action in allowed.ACTIONS]


def test_it_has_a_row_for_every_status():
    assert set(allowed.TABLE) == set(Status.values)
    assert all(set(row) <= set(allowed.ACTIONS) for row in allowed.TABLE.values())
    assert allowed.TABLE[Status.CANCELLED] == allowed.TABLE[Status.COMPLETED] == frozenset()


def act(task: ColisTask, action: str, user):
    if action == allowed.CANCEL:
        return actions.cancel_task(task.task_id, user, "agent_cancelled")
    data = {"poids": "3"} if action == allowed.RETRY_WITH_DATA else None
    return actions.retry_task(task.task_id, user, data)


@pytest.mark.parametrize("status,action", PAIRS)
def test_it_allows_an_action_exactly_where_the_table_says(alice, colis_data, redis_clean,
                                                          status, action):
    task = send(alice, colis_data)[0]
    set_status([task], status)
    task.refresh_from_db()
    if action in allowed.TABLE[status]:
        assert task.allows(action)
        assert act(task, action, alice).status in (Status.PENDING, Status.CANCELLED)
    else:
        assert not task.allows(action)
        with pytest.raises(actions.NotAllowed) as refused:
            act(task, action, alice)
        assert refused.value.code == status and refused.value.message
        task.refresh_from_db()
        assert task.status == status


@pytest.mark.parametrize("status", Status.values)
def test_it_shows_only_the_buttons_the_table_allows(alice, colis_data, redis_clean, status):
    task = send(alice, colis_data)[0]
    set_status([task], status)
    detail = web(alice).get(f"/taches/{task.task_id}/").content.decode()
    row = allowed.TABLE[status]
    assert ("Annuler la tâche" in detail) == (allowed.CANCEL in row)
    assert ("Relancer avec ces données" in detail) == (allowed.RETRY_WITH_DATA in row)
    board = web(alice).get("/taches/")
    if task.pk in [t.pk for t in board.context["sections"]["failed"]]:
        html = board.content.decode()
        assert (f"/taches/{task.task_id}/relancer/" in html) == (allowed.RETRY in row)
        assert (f"/taches/{task.task_id}/annuler/" in html) == (allowed.CANCEL in row)


def test_it_offers_only_a_cancel_for_a_version_conflict(alice, charlie, colis_data,
                                                        redis_clean):
    task = send(alice, colis_data)[0]
    set_status([task], Status.FAILED_FINAL, error_code="version_conflict")
    task.refresh_from_db()
    assert task.allowed_actions == {allowed.CANCEL}
    for page in (web(alice).get("/taches/"), web(charlie).get("/supervision/")):
        html = page.content.decode()
        assert f"/taches/{task.task_id}/annuler/" in html
        assert f"/taches/{task.task_id}/relancer/" not in html
        assert f'value="{task.task_id}"' not in html  # not in the bulk retry selection
    assert actions.bulk_retry(ColisTask.objects.all(), charlie) == 0


def test_it_says_why_a_retry_from_the_page_is_refused(alice, colis_data, redis_clean):
    task = send(alice, colis_data)[0]
    set_status([task], Status.CANCELLED)
    response = web(alice).post(f"/taches/{task.task_id}/relancer/", follow=True)
    html = response.content.decode()
    assert "Tâche relancée." not in html and "annulée : c&#x27;est définitif" in html
    task.refresh_from_db()
    assert task.status == Status.CANCELLED
