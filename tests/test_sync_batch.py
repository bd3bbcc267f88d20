import json
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from server.cargo.models import Colis, Lot
from sync import ingest
from sync.models import ColisTask, TaskEvent
from tests.conftest import codes, device_client, item

URL = "/api/v1/sync/"


def post(api, items, **extra):
    return api.post(URL, {"items": items, **extra}, format="json")


def test_it_accepts_four_and_reports_the_invalid_one(alice_api, colis_data, redis_clean):
    items = [item(**colis_data) for _ in range(4)]
    items.insert(2, item(**{**colis_data, "poids": "-3"}))
    response = post(alice_api, items)
    assert response.status_code == 200
    answers = response.json()["items"]
    assert [a["op_id"] for a in answers] == [i["op_id"] for i in items]
    assert [a["result"] for a in answers] == ["accepted"] * 2 + ["invalid"] + ["accepted"] * 2
    assert answers[2]["errors"] == {"poids": ["Doit être strictement positif."]}
    assert answers[2]["task"] is None
    assert ColisTask.objects.count() == 4
    assert {a["task"]["status"] for a in answers if a["task"]} == {"pending"}
    assert TaskEvent.objects.filter(to_status="pending").count() == 4


def test_it_creates_nothing_new_when_a_batch_is_sent_again(alice_api, colis_data, redis_clean):
    items = [item(**colis_data) for _ in range(3)]
    first = post(alice_api, items).json()["items"]
    for _ in range(5):
        again = post(alice_api, items).json()["items"]
        assert [a["result"] for a in again] == ["duplicate"] * 3
        assert [a["task"]["task_id"] for a in again] == [a["task"]["task_id"] for a in first]
    assert ColisTask.objects.count() == 3


def test_it_calls_a_reused_op_id_with_another_payload_a_conflict(alice_api, colis_data,
                                                                  redis_clean):
    one = item(**colis_data)
    post(alice_api, [one])
    changed = {**one, "data": {**one["data"], "poids": "99"}}
    answer = post(alice_api, [changed]).json()["items"][0]
    assert answer["result"] == "conflict"
    assert codes(answer["error_codes"]) == {"op_id": ["op_id_reused"]}
    assert answer["task"]["op_id"] == one["op_id"]  # the caller's own task, to edit instead
    assert ColisTask.objects.count() == 1


def test_it_does_not_show_another_agents_task_for_a_reused_op_id(alice_api, bob, colis_data,
                                                                  redis_clean):
    one = item(**colis_data)
    post(alice_api, [one])
    answer = post(device_client(bob), [one]).json()["items"][0]
    assert answer["result"] == "conflict" and answer["task"] is None


def test_it_resolves_a_lot_opened_in_the_same_batch(alice_api, colis_data, redis_clean):
    lot_item = item(op="open_lot", type_lot="express")
    data = {k: v for k, v in colis_data.items() if k != "lot"}
    answers = post(alice_api, [lot_item, item(lot_op_id=lot_item["op_id"], **data)]).json()["items"]
    assert answers[0]["result"] == "accepted"
    assert answers[0]["lot"]["numero_lot"].startswith("EXPRESS-")
    assert answers[1]["result"] == "accepted"
    assert answers[1]["task"]["lot"]["numero_lot"] == answers[0]["lot"]["numero_lot"]
    again = post(alice_api, [lot_item]).json()["items"][0]
    assert again["result"] == "duplicate" and again["lot"] == answers[0]["lot"]
    assert Lot.objects.filter(type_lot="express").count() == 1


def test_it_resolves_a_lot_opened_in_an_earlier_batch(alice_api, colis_data, redis_clean):
    lot_item = item(op="open_lot", type_lot="cargo")
    post(alice_api, [lot_item])
    data = {k: v for k, v in colis_data.items() if k != "lot"}
    answer = post(alice_api, [item(lot_op_id=lot_item["op_id"], **data)]).json()["items"][0]
    assert answer["result"] == "accepted"


def test_it_reports_an_unknown_lot_op_id(alice_api, colis_data, redis_clean):
    data = {k: v for k, v in colis_data.items() if k != "lot"}
    answer = post(alice_api, [item(lot_op_id=str(uuid.uuid4()), **data)]).json()["items"][0]
    assert answer["result"] == "invalid"
    assert codes(answer["error_codes"]) == {"lot_op_id": ["lot_not_found"]}


def test_it_reports_a_closed_lot_as_a_field_error(alice, alice_api, colis_data, cargo_lot,
                                                   redis_clean):
    from server.cargo import services

    services.close_lot(cargo_lot, alice)
    answer = post(alice_api, [item(**colis_data)]).json()["items"][0]
    assert answer["result"] == "invalid" and codes(answer["error_codes"]) == {"lot": ["lot_closed"]}


def test_it_refuses_201_items_with_413(alice_api, colis_data):
    response = post(alice_api, [item(**colis_data) for _ in range(201)])
    assert response.status_code == 413
    assert response.json()["max_items"] == 200
    assert ColisTask.objects.count() == 0


def test_it_refuses_a_body_over_the_byte_limit(alice_api, settings):
    settings.SYNC_MAX_BODY = 1000
    response = post(alice_api, [item(description="x" * 2000)])
    assert response.status_code == 413 and response.json()["max_bytes"] == 1000


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"items": {}}', b'{"nope": []}',
                                  b'"items"', b"null"])
def test_it_answers_400_to_a_bad_envelope(alice_api, body):
    response = alice_api.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.parametrize("bad", [None, 3, "x", {"op": "create", "data": {}},
                                 {"op_id": "nope", "op": "create", "data": {}},
                                 {"op_id": str(uuid.uuid4()), "op": "delete", "data": {}},
                                 {"op_id": str(uuid.uuid4()), "op": "create", "data": []}])
def test_it_reports_malformed_items_and_keeps_the_rest(alice_api, colis_data, bad, redis_clean):
    answers = post(alice_api, [bad, item(**colis_data)]).json()["items"]
    assert answers[0]["result"] == "invalid" and answers[0]["errors"]
    assert answers[1]["result"] == "accepted"


def test_it_stores_the_outbox_backlog_the_device_reports(alice_api, redis_clean):
    post(alice_api, [], device={"outbox_pending": 7, "oldest_pending_at": "2026-11-25T08:00:00Z"})
    alice_api.device.refresh_from_db()
    assert alice_api.device.outbox_pending == 7
    assert alice_api.device.oldest_pending_at.isoformat().startswith("2026-11-25T08:00")


def test_it_forbids_supervisors_to_write(charlie_api, colis_data):
    assert post(charlie_api, [item(**colis_data)]).status_code == 403


def test_it_needs_a_token(db):
    assert APIClient().post(URL, {"items": []}, format="json").status_code in (401, 403)


@pytest.mark.django_db(transaction=True)
def test_it_materialises_inline_when_async_is_off(alice_api, colis_data, tariffs, inline_jobs):
    answer = post(alice_api, [item(**colis_data)]).json()["items"][0]
    assert answer["result"] == "accepted"
    task = answer["task"]
    assert task["status"] == "completed" and task["progress_percentage"] == 100
    assert task["colis"]["numero_suivi"].startswith("CS")
    assert task["colis"]["prix_calcule"] == "106250.00"
    assert Colis.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_updates_a_colis_and_refuses_a_stale_version(alice_api, colis_data, tariffs,
                                                        inline_jobs):
    created = post(alice_api, [item(**colis_data)]).json()["items"][0]["task"]["colis"]
    update = item(op="update", colis=created["id"], base_version=1, poids="20")
    done = post(alice_api, [update]).json()["items"][0]["task"]
    assert done["status"] == "completed" and done["colis"]["version"] == 2
    stale = item(op="update", colis=created["id"], base_version=1, poids="30")
    failed = post(alice_api, [stale]).json()["items"][0]["task"]
    assert failed["status"] == "failed_final" and failed["error_code"] == "version_conflict"
    assert failed["errors"]["current"]["version"] == 2
    assert Colis.objects.get().poids == 20


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_update_another_agents_colis(alice_api, bob_api, colis_data, tariffs,
                                                   inline_jobs):
    created = post(alice_api, [item(**colis_data)]).json()["items"][0]["task"]["colis"]
    answer = post(bob_api, [item(op="update", colis=created["id"], base_version=1,
                                 poids="2")]).json()["items"][0]
    assert answer["result"] == "invalid"
    assert codes(answer["error_codes"]) == {"colis": ["colis_not_found"]}


@pytest.mark.django_db(transaction=True)
def test_it_makes_one_task_per_op_id_when_the_batch_arrives_5_times_at_once(
        django_user_model, redis_clean):
    from server.cargo import services
    from server.cargo.models import Client

    agent = django_user_model.objects.create_user("li", password="x", role="agent_chine")
    client = Client.objects.create(nom="Koné", telephone="1", ville_destination="Abidjan",
                                   pays_destination="CI")
    lot = services.open_lot(agent, "cargo")
    items = [item(client=client.pk, lot=lot.pk, poids="2", longueur="10", largeur="10",
                  hauteur="10") for _ in range(10)]
    api = device_client(agent)
    token = api.token
    codes, results = [], []
    barrier = threading.Barrier(5)

    def send():
        barrier.wait()
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = c.post(URL, {"items": items}, format="json")
        codes.append(response.status_code)
        results.append([a["result"] for a in response.json()["items"]])
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 5
    assert ColisTask.objects.count() == 10
    assert sum(r.count("accepted") for r in results) == 10
    assert all(set(r) <= {"accepted", "duplicate"} for r in results)


def test_its_answer_is_json_serialisable_with_every_result(alice_api, colis_data, redis_clean):
    one = item(**colis_data)
    answers = post(alice_api, [one, one, {**one, "data": {}}, item(poids="x")]).json()["items"]
    assert [a["result"] for a in answers] == ["accepted", "duplicate", "conflict", "invalid"]
    json.dumps(answers)


@pytest.mark.parametrize("data", [{"colis": 10**20, "base_version": 1, "poids": "1"},
                                  {"colis": 1, "base_version": 10**20, "poids": "1"},
                                  {"colis": 1, "base_version": True, "poids": "1"}])
def test_it_reports_out_of_range_ids_as_field_errors(alice_api, data, redis_clean):
    answer = post(alice_api, [item(op="update", **data)]).json()["items"][0]
    assert answer["result"] == "invalid"


def test_it_reports_out_of_range_client_and_lot_ids(alice_api, colis_data, redis_clean):
    answer = post(alice_api, [item(**{**colis_data, "client": 10**20, "lot": 10**20})])
    assert {"client", "lot"} <= answer.json()["items"][0]["errors"].keys()


def test_it_keeps_when_the_agent_saved_the_item(alice_api, colis_data, redis_clean):
    three_days_ago = timezone.localtime() - timedelta(days=3)  # offline for three days
    saved = {**item(**colis_data), "saved_at": three_days_ago.isoformat()}
    future = {**item(**colis_data), "saved_at": "2999-01-01T00:00:00Z"}
    answers = post(alice_api, [saved, future]).json()["items"]
    from django.utils.dateparse import parse_datetime

    assert parse_datetime(answers[0]["task"]["saved_at"]) == parse_datetime(saved["saved_at"])
    clamped = ColisTask.objects.get(op_id=future["op_id"]).saved_at
    assert clamped <= ColisTask.objects.get(op_id=future["op_id"]).created_at


@pytest.mark.parametrize("claimed", [
    "0001-01-01T00:00:00Z", "1970-01-01T00:00:00+08:00",
    (timezone.now() - ingest.SAVED_AT_MAX_AGE - timedelta(minutes=1)).isoformat()])
def test_it_accepts_an_item_from_a_wrong_clock_and_takes_its_receipt_as_its_save(
        alice_api, colis_data, claimed, redis_clean):
    answer = post(alice_api, [{**item(**colis_data), "saved_at": claimed}]).json()["items"][0]
    assert answer["result"] == "accepted"
    task = ColisTask.objects.get(op_id=answer["op_id"])
    assert task.saved_at is None and task.saved_or_received_at == task.created_at


@pytest.mark.parametrize("bad", ["yesterday", "2026-11-26T08:00:00", 12])
def test_it_reports_a_bad_saved_at(alice_api, colis_data, redis_clean, bad):
    answer = post(alice_api, [{**item(**colis_data), "saved_at": bad}]).json()["items"][0]
    assert answer["result"] == "invalid" and "saved_at" in answer["errors"]


@pytest.mark.parametrize("pending", [10**28, -1, True, "3", 2.5])
def test_it_ignores_an_impossible_backlog_report(alice_api, pending, redis_clean):
    report = {"outbox_pending": pending, "oldest_pending_at": "2026-13-45T00:00:00Z"}
    assert post(alice_api, [], device=report).status_code == 200
    alice_api.device.refresh_from_db()
    assert alice_api.device.outbox_pending is None


@pytest.mark.parametrize("when", ["0214-01-20T11:26:59.68+23:36", "0001-01-01T00:00:00+05:00"])
def test_it_stores_odd_but_valid_times_in_utc_or_not_at_all(alice_api, colis_data, when,
                                                            redis_clean):
    report = {"outbox_pending": 1, "oldest_pending_at": when}
    answer = post(alice_api, [{**item(**colis_data), "saved_at": when}], device=report)
    assert answer.status_code == 200

