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
    assert ColisTask.objects.get(task_id=task_id).events.last().message == "Relancée"


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
