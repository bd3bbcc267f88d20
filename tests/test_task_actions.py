import uuid

import pytest

from server.cargo import services
from sync.models import ColisTask, Status
from tests.conftest import item


def make_task(api, colis_data) -> str:
    answer = api.post("/api/v1/sync/", {"items": [item(**colis_data)]}, format="json")
    return answer.json()["items"][0]["task"]["task_id"]


def set_status(task_id, status):
    ColisTask.objects.filter(task_id=task_id).update(status=status)


@pytest.mark.parametrize("status", ["failed", "failed_retry", "failed_final"])
def test_it_retries_a_failed_task(alice_api, colis_data, redis_clean, status):
    task_id = make_task(alice_api, colis_data)
    set_status(task_id, status)
    response = alice_api.post(f"/api/v1/tasks/{task_id}/retry/")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert ColisTask.objects.get(task_id=task_id).events.last().message == "retried"


@pytest.mark.parametrize("status", ["pending", "processing", "completed", "cancelled"])
def test_it_refuses_to_retry_a_task_that_did_not_fail(alice_api, colis_data, redis_clean, status):
    task_id = make_task(alice_api, colis_data)
    set_status(task_id, status)
    assert alice_api.post(f"/api/v1/tasks/{task_id}/retry/").status_code == 409


def test_it_checks_corrected_data_like_a_new_item(alice_api, colis_data, redis_clean):
    task_id = make_task(alice_api, colis_data)
    set_status(task_id, Status.FAILED_FINAL)
    response = alice_api.post(f"/api/v1/tasks/{task_id}/retry/", {"data": {"poids": "0"}},
                              format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"poids": ["Doit être strictement positif."]}
    ok = alice_api.post(f"/api/v1/tasks/{task_id}/retry/", {"data": {"poids": "3"}},
                        format="json")
    assert ok.status_code == 200
    assert ColisTask.objects.get(task_id=task_id).colis_data["poids"] == "3"


@pytest.mark.parametrize("status,code", [("pending", 200), ("failed_final", 200),
                                         ("failed_retry", 200), ("processing", 409),
                                         ("price_calculating", 409), ("completed", 409),
                                         ("cancelled", 409)])
def test_it_cancels_only_before_processing_or_after_a_failure(alice_api, colis_data, redis_clean,
                                                              status, code):
    task_id = make_task(alice_api, colis_data)
    set_status(task_id, status)
    response = alice_api.post(f"/api/v1/tasks/{task_id}/cancel/")
    assert response.status_code == code
    if code == 200:
        assert response.json()["status"] == "cancelled"


def test_it_lists_tasks_with_filters(alice_api, colis_data, redis_clean):
    ids = [make_task(alice_api, colis_data) for _ in range(3)]
    set_status(ids[0], Status.COMPLETED)
    assert alice_api.get("/api/v1/tasks/").json()["count"] == 3
    assert alice_api.get("/api/v1/tasks/", {"active": "1"}).json()["count"] == 2
    rows = alice_api.get("/api/v1/tasks/", {"status": "completed"}).json()["results"]
    assert [r["task_id"] for r in rows] == [ids[0]]
    assert alice_api.get("/api/v1/tasks/", {"lot": colis_data["lot"]}).json()["count"] == 3
    assert alice_api.get("/api/v1/tasks/", {"lot": 999999}).json()["count"] == 0


def test_it_reports_health_without_secrets(db, client, redis_clean, settings):
    body = client.get("/api/v1/health/").json()
    assert body["database"] == "ok" and body["redis"] == "ok"
    assert set(body["queues"]) == {"colis", "notifications"}
    assert "redis://" not in str(body) and settings.SECRET_KEY not in str(body)


def test_it_lets_a_corrected_lot_replace_a_lot_opened_offline(alice, alice_api, colis_data,
                                                              redis_clean):
    from server.cargo import services

    lot_item = item(op="open_lot", type_lot="cargo")
    data = {k: v for k, v in colis_data.items() if k != "lot"}
    answers = alice_api.post("/api/v1/sync/", {"items": [lot_item, item(
        lot_op_id=lot_item["op_id"], **data)]}, format="json").json()["items"]
    task_id = answers[1]["task"]["task_id"]
    set_status(task_id, Status.FAILED_FINAL)  # a failed task no longer holds its lot open
    services.close_lot(services.open_lot(alice, "cargo", op_id=lot_item["op_id"]), alice)
    other = services.open_lot(alice, "cargo")
    response = alice_api.post(f"/api/v1/tasks/{task_id}/retry/", {"data": {"lot": other.pk}},
                              format="json")
    assert response.status_code == 200
    assert response.json()["lot"]["id"] == other.pk


def test_it_refuses_to_close_a_lot_with_active_tasks(alice, alice_api, colis_data, cargo_lot,
                                                     redis_clean):
    task_id = make_task(alice_api, colis_data)
    with pytest.raises(services.LotBusy) as busy:
        services.close_lot(cargo_lot, alice)
    assert busy.value.active == 1
    set_status(task_id, Status.COMPLETED)
    assert services.close_lot(cargo_lot, alice).statut == "ferme"


@pytest.mark.parametrize("params", [{"status": "\x00"}, {"status": "done"},
                                    {"lot": "9" * 30}, {"since": "\x00"},
                                    {"since": "2026-13-45T00:00:00Z"}])
def test_it_never_fails_on_odd_task_filters(alice_api, params):
    assert alice_api.get("/api/v1/tasks/", params).status_code in (200, 400)


def test_it_retries_in_bulk_by_chunks_each_with_one_job(alice_api, colis_data, charlie,
                                                        redis_clean):
    from sync import actions

    ids = [make_task(alice_api, colis_data) for _ in range(3)]
    ColisTask.objects.filter(task_id__in=ids).update(status=Status.FAILED_FINAL, retry_count=1)
    ColisTask.objects.filter(task_id=ids[0]).update(retry_count=3)
    assert actions.bulk_retry(ColisTask.objects.all(), charlie, chunk=2) == 3
    tasks = ColisTask.objects.filter(task_id__in=ids).order_by("pk")
    assert [t.status for t in tasks] == ["pending"] * 3
    assert [t.retry_count for t in tasks] == [4, 2, 2]
    assert len({t.rq_job_id for t in tasks}) == 2  # a job per chunk
    assert all(t.events.last().by == charlie for t in tasks)
    assert actions.bulk_retry(ColisTask.objects.all(), charlie) == 0  # nothing failed now


def test_it_cancels_a_resolved_conflict_with_its_reason_and_winner(alice_api, colis_data,
                                                                   redis_clean):
    task_id = make_task(alice_api, colis_data)
    set_status(task_id, Status.FAILED_FINAL)
    winner = str(uuid.uuid4())
    response = alice_api.post(f"/api/v1/tasks/{task_id}/cancel/", {
        "reason": "conflict_resolved", "superseded_by": winner}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled" and body["allowed_actions"] == []
    assert body["cancel_reason"] == "conflict_resolved" and body["superseded_by"] == winner
    task = ColisTask.objects.get(task_id=task_id)
    assert (task.cancel_reason, str(task.superseded_by)) == ("conflict_resolved", winner)
    event = task.events.last()
    assert (event.from_status, event.to_status, event.message) == (
        "failed_final", "cancelled", "conflict_resolved")


@pytest.mark.parametrize("reason", ["agent_cancelled", "moved_to_other_lot", "duplicate"])
def test_it_takes_each_reason_and_no_body_at_all(alice_api, colis_data, redis_clean, reason):
    with_reason, without = make_task(alice_api, colis_data), make_task(alice_api, colis_data)
    set_status(with_reason, Status.FAILED_RETRY)
    assert alice_api.post(f"/api/v1/tasks/{with_reason}/cancel/", {"reason": reason},
                          format="json").json()["cancel_reason"] == reason
    answer = alice_api.post(f"/api/v1/tasks/{without}/cancel/").json()
    assert answer["status"] == "cancelled" and answer["cancel_reason"] == ""


@pytest.mark.parametrize("body,field", [
    ({"reason": "because"}, "reason"), ({"reason": 3}, "reason"),
    ({"reason": "duplicate", "superseded_by": "not-a-uuid"}, "superseded_by"),
    ({"superseded_by": 12}, "superseded_by")])
def test_it_refuses_an_unknown_reason_or_link_with_field_errors(alice_api, colis_data,
                                                                redis_clean, body, field):
    task_id = make_task(alice_api, colis_data)
    set_status(task_id, Status.FAILED_FINAL)
    response = alice_api.post(f"/api/v1/tasks/{task_id}/cancel/", body, format="json")
    assert response.status_code == 400 and list(response.json()) == [field]
    assert ColisTask.objects.get(task_id=task_id).status == Status.FAILED_FINAL


def test_it_never_lets_a_task_supersede_itself(alice_api, colis_data, redis_clean):
    task_id = make_task(alice_api, colis_data)
    own = str(ColisTask.objects.get(task_id=task_id).op_id)
    response = alice_api.post(f"/api/v1/tasks/{task_id}/cancel/", {"superseded_by": own},
                              format="json")
    assert response.status_code == 400 and "superseded_by" in response.json()


def test_it_answers_409_with_a_reason_to_a_retry_of_a_cancelled_task(alice_api, colis_data,
                                                                     redis_clean):
    task_id = make_task(alice_api, colis_data)
    set_status(task_id, Status.FAILED_FINAL)
    alice_api.post(f"/api/v1/tasks/{task_id}/cancel/", {"reason": "conflict_resolved"},
                   format="json")
    response = alice_api.post(f"/api/v1/tasks/{task_id}/retry/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert response.json()["code"] == "cancelled"
    assert "cancelled" in response.json()["detail"] and "définitif" not in response.json()["detail"]
    assert ColisTask.objects.get(task_id=task_id).status == Status.CANCELLED


def test_it_refuses_to_retry_a_version_conflict_that_would_fail_again(alice_api, colis_data,
                                                                      redis_clean):
    task_id = make_task(alice_api, colis_data)
    ColisTask.objects.filter(task_id=task_id).update(status=Status.FAILED_FINAL,
                                                     error_code="version_conflict")
    response = alice_api.post(f"/api/v1/tasks/{task_id}/retry/")
    assert response.status_code == 409 and response.json()["code"] == "version_conflict"
    assert alice_api.post(f"/api/v1/tasks/{task_id}/cancel/", {
        "reason": "conflict_resolved"}, format="json").status_code == 200


def test_it_never_shows_a_cancelled_task_as_a_failure_again(alice, alice_api, charlie,
                                                            colis_data, redis_clean):
    from tests.web_helpers import web

    task_id = make_task(alice_api, colis_data)
    set_status(task_id, Status.FAILED_FINAL)
    cursor = alice_api.get("/api/v1/sync/changes").json()["cursor"]
    alice_api.post(f"/api/v1/tasks/{task_id}/cancel/", {"reason": "conflict_resolved"},
                   format="json")
    changed = alice_api.get(f"/api/v1/sync/changes?since={cursor}").json()["items"]
    assert [(i["task_id"], i["status"]) for i in changed] == [(task_id, "cancelled")]
    board = web(alice).get("/taches/")
    assert board.context["counts"]["failed"] == 0
    assert list(board.context["sections"]["failed"]) == []
    supervision = web(charlie).get("/supervision/")
    assert supervision.context["n_failed"] == 0
    assert [row.failed for row in supervision.context["rows"]] == [0]
    assert task_id not in supervision.content.decode()
    # a re-login fetches the whole feed: the task comes back cancelled, not failed
    assert [i["status"] for i in alice_api.get("/api/v1/sync/changes").json()["items"]] == [
        "cancelled"]


def test_it_never_runs_the_scheduled_retry_of_a_cancelled_task(alice_api, colis_data,
                                                               redis_clean):
    from sync.jobs import materialise

    task_id = make_task(alice_api, colis_data)
    set_status(task_id, Status.FAILED_RETRY)
    alice_api.post(f"/api/v1/tasks/{task_id}/cancel/", {"reason": "agent_cancelled"},
                   format="json")
    assert materialise(task_id) == "skipped"  # the retry RQ had scheduled finds it cancelled
    task = ColisTask.objects.get(task_id=task_id)
    assert task.status == Status.CANCELLED and task.colis_id is None and task.next_retry_at is None
