"""The board's polling endpoint: only the rows that changed after the cursor."""

from django.utils import timezone

from sync import actions
from sync.models import Status
from tests.web_helpers import send, set_status, web


def poll(client, since, **params):
    response = client.get("/taches/changes.json", {"since": since, **params})
    assert response.status_code == 200
    return response.json()


def test_it_returns_only_the_rows_changed_after_the_cursor(alice, colis_data):
    tasks = send(alice, colis_data, n=3)
    client = web(alice)
    cursor = client.get("/taches/").context["cursor"]
    assert poll(client, cursor)["items"] == []
    set_status(tasks[1:2], Status.FAILED_FINAL)
    actions.cancel_task(tasks[1].task_id, alice)
    body = poll(client, cursor)
    assert [i["task_id"] for i in body["items"]] == [str(tasks[1].task_id)]
    assert body["items"][0]["status"] == "cancelled" and body["items"][0]["section"] is None
    assert int(body["cursor"]) > cursor
    assert poll(client, body["cursor"])["items"] == []


def test_it_renders_the_row_for_its_section_and_sends_counts(alice, colis_data):
    task = send(alice, colis_data)[0]
    set_status([task], Status.FAILED_FINAL, error_message="Données invalides")
    actions.retry_task(task.task_id, alice)
    item = poll(web(alice), 0)["items"][0]
    assert item["section"] == "active"
    assert item["html"].startswith(f'<tr data-task-id="{task.task_id}"')
    assert poll(web(alice), 0)["counts"]["pending"] == 1


def test_it_never_sends_another_agents_rows(alice, bob, colis_data):
    send(bob, colis_data, n=2)
    mine = send(alice, colis_data)
    items = poll(web(alice), 0)["items"]
    assert [i["task_id"] for i in items] == [str(mine[0].task_id)]


def test_it_hides_rows_outside_the_pages_filters(alice, colis_data):
    task = send(alice, colis_data)[0]
    item = poll(web(alice), 0, status="failed_final")["items"][0]
    assert item["task_id"] == str(task.task_id) and item["section"] is None


def test_it_puts_a_task_completed_today_in_the_completed_section(alice, colis_data):
    task = send(alice, colis_data)[0]
    set_status([task], Status.FAILED_FINAL)
    task.refresh_from_db()
    # A real completion goes through the state machine, which moves the cursor.
    from django.db import transaction

    from sync import states

    with transaction.atomic():
        states.transition(task, Status.PENDING)
        states.transition(task, Status.COMPLETED)
    item = poll(web(alice), 0)["items"][0]
    assert item["section"] == "completed" and item["status"] == "completed"
    assert task.completed_at <= timezone.now()


def test_it_refuses_a_bad_cursor(alice):
    assert web(alice).get("/taches/changes.json", {"since": "-1"}).status_code == 400


def test_it_keeps_the_lot_filter_of_the_page(alice, colis_data, cargo_lot):
    from server.cargo import services

    other = services.open_lot(alice, "cargo")
    inside = send(alice, colis_data)[0]
    outside = send(alice, {**colis_data, "lot": other.pk})[0]
    sections = {i["task_id"]: i["section"] for i in poll(web(alice), 0, lot=cargo_lot.pk)["items"]}
    assert sections == {str(inside.task_id): "active", str(outside.task_id): None}
