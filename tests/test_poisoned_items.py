"""An item's content can only make that item invalid: text the database cannot store,
non-ASCII digits, exponent tricks and deep nesting never cost the rest of a batch, and no
filter of the API or of the pages answers 5xx. Runs on SQLite and on PostgreSQL (CI)."""

import base64
import json
import uuid

import pytest
from rest_framework.test import APIClient

from server.cargo.models import Colis
from sync.models import ColisTask, Status
from tests.conftest import codes, item
from tests.web_helpers import send, set_status, web

URL = "/api/v1/sync/"
BAD_TEXT = ["a\x00b", "\ud800", "ok\udfff"]
NUMERALS = ["²", "٣", "１２", "1e-25", "1E2", "NaN", "Infinity", "-Infinity", "0x10", " 1 2"]


def post_raw(api: APIClient, body: dict):
    """POST the body as json.dumps writes it: lone surrogates and NUL escaped, as a tablet
    would send them."""
    api.raise_request_exception = False
    return api.post(URL, json.dumps(body), content_type="application/json")


def good_bad_good(api, colis_data, bad_data: dict, op="create"):
    items = [item(**colis_data), item(op=op, **bad_data), item(**colis_data)]
    response = post_raw(api, {"items": items})
    assert response.status_code == 200, response.content[:300]
    answers = response.json()["items"]
    assert [a["result"] for a in answers] == ["accepted", "invalid", "accepted"]
    return codes(answers[1]["error_codes"])


@pytest.mark.parametrize("text", BAD_TEXT)
@pytest.mark.parametrize("field", ["description", "mode_paiement", "type_transport", "client",
                                   "photo_id", "lot_op_id", "unknown"])
def test_it_refuses_unstorable_text_in_one_item_only(alice_api, colis_data, redis_clean, field,
                                                     text):
    errors = good_bad_good(alice_api, colis_data, {**colis_data, field: f"x{text}"})
    assert list(errors) == [field]
    assert ColisTask.objects.count() == 2


def test_it_refuses_unstorable_text_in_keys_and_nested_values(alice_api, colis_data,
                                                              redis_clean):
    errors = good_bad_good(alice_api, colis_data, {**colis_data, "x\x00": 1})
    assert list(errors) == ["data"]
    errors = good_bad_good(alice_api, colis_data, {**colis_data, "extra": {"a": ["\ud800"]}})
    assert list(errors) == ["extra"]


@pytest.mark.parametrize("text", BAD_TEXT)
def test_it_answers_an_unstorable_op_id_without_echoing_it(alice_api, colis_data, redis_clean,
                                                          text):
    bad = {"op_id": text, "op": "create", "data": colis_data}
    response = post_raw(alice_api, {"items": [item(**colis_data), bad]})
    assert response.status_code == 200
    answer = response.json()["items"][1]
    assert answer["result"] == "invalid" and answer["op_id"] == ""


@pytest.mark.parametrize("raw", NUMERALS)
@pytest.mark.parametrize("field", ["client", "lot"])
def test_it_refuses_ids_that_are_not_ascii_digits(alice_api, colis_data, redis_clean, field, raw):
    errors = good_bad_good(alice_api, colis_data, {**colis_data, field: raw})
    assert errors[field] == [f"{field}_not_found"]  # codes


@pytest.mark.parametrize("raw", NUMERALS)
def test_it_refuses_an_update_of_a_colis_named_by_other_digits(alice_api, colis_data,
                                                               redis_clean, raw):
    errors = good_bad_good(alice_api, colis_data, {"colis": raw, "base_version": 1,
                                                   "poids": "3"}, op="update")
    assert errors == {"colis": ["colis_id_required"]}


@pytest.mark.parametrize("raw", ["1e-25", "1E3", "NaN", "Infinity", "٣", "²", "0.001", "2000.5",
                                 "12.3456", 1e-25, "0"])
def test_it_refuses_weights_no_scale_can_show(alice_api, colis_data, redis_clean, raw):
    errors = good_bad_good(alice_api, colis_data, {**colis_data, "poids": raw})
    assert list(errors) == ["poids"]


def test_it_stores_a_weight_as_typed(alice_api, colis_data, inline_jobs,
                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(alice_api, {"items": [item(**{**colis_data, "poids": "0.015"})]})
    assert response.json()["items"][0]["result"] == "accepted"
    assert str(Colis.objects.get().poids) == "0.015"


@pytest.mark.parametrize("depth", [17, 200, 1000, 100_000])
def test_it_answers_400_to_deeply_nested_json(alice_api, redis_clean, depth):
    body = '{"items": [' + "[" * depth + "]" * depth + "]}"
    alice_api.raise_request_exception = False
    response = alice_api.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert "imbriqué" in response.json()["detail"]


def test_it_answers_400_to_malformed_json(alice_api, redis_clean):
    alice_api.raise_request_exception = False
    for body in [b'{"items": [', b"\xff\xfe", b'{"items": [NaN]}', b"1" * 5000]:
        response = alice_api.post(URL, body, content_type="application/json")
        assert response.status_code == 400, body


def test_it_checks_corrected_data_on_retry(alice, alice_api, colis_data, redis_clean):
    [task] = send(alice, colis_data, api=alice_api)
    set_status([task], Status.FAILED_FINAL)
    alice_api.raise_request_exception = False
    response = alice_api.post(f"/api/v1/tasks/{task.task_id}/retry/",
                              json.dumps({"data": {"description": "a\x00", "client": "²"}}),
                              content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"description", "client"}


@pytest.mark.parametrize("value", ["²", "٣", "\x00", "1e3", "-1", "9" * 40])
def test_it_never_answers_5xx_to_a_filter(alice, charlie, alice_api, colis_data, redis_clean,
                                         value):
    send(alice, colis_data, api=alice_api)
    alice_api.raise_request_exception = False
    for url, param in [("/api/v1/tasks/", "lot"), ("/api/v1/tasks/", "status"),
                       ("/api/v1/tasks/", "since"), ("/api/v1/tasks/", "active"),
                       ("/api/v1/tasks/", "page"), ("/api/v1/clients/", "search"),
                       ("/api/v1/clients/", "updated_since"), ("/api/v1/lots/", "statut"),
                       ("/api/v1/sync/changes", "since")]:
        response = alice_api.get(url, {param: value})
        assert response.status_code in (200, 400, 404), (url, param, response.status_code)
    agent, supervisor = web(alice), web(charlie)
    for client in (agent, supervisor):
        client.raise_request_exception = False
    pages = [(agent, "/taches/", p) for p in ("lot", "client", "status", "q", "since", "p_failed")]
    pages += [(agent, "/taches/changes.json", p) for p in ("lot", "since", "client", "status")]
    pages += [(supervisor, "/supervision/recherche/", "q"), (agent, "/lots/", "page"),
              (supervisor, "/supervision/", "page")]
    for client, url, param in pages:
        response = client.get(url, {param: value})
        assert response.status_code in (200, 400, 404), (url, param, response.status_code)
    for field in ("agent", "lot", "task"):
        response = supervisor.post("/supervision/relancer/", {field: value})
        assert response.status_code in (200, 302, 400), (field, response.status_code)


def test_it_refuses_a_nul_in_upload_metadata(alice_api):
    alice_api.raise_request_exception = False
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                    for k, v in {"photo_id": str(uuid.uuid4()), "filename": "a\x00.jpg"}.items())
    response = alice_api.generic("POST", "/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0",
                                 HTTP_UPLOAD_LENGTH="10", HTTP_UPLOAD_METADATA=meta)
    assert response.status_code == 400



@pytest.mark.parametrize("field", ["username", "password", "device_name"])
@pytest.mark.parametrize("text", BAD_TEXT)
def test_it_refuses_unstorable_text_at_device_login(alice, field, text):
    api = APIClient(raise_request_exception=False)
    body = {"username": "alice", "password": "password", "device_name": "Tablette", field: text}
    response = api.post("/api/v1/auth/device/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()
