"""Hypothesis-made items, envelopes, filters and upload headers: nothing answers 5xx.

The strategies (tests/strategies.py) hold what breaks naive code: NUL and other control
characters, lone surrogates, non-ASCII digits, huge and tiny exponents, deep nesting. The
suite runs on SQLite and on PostgreSQL (CI), which refuses more text than SQLite does.
"""

import base64
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.models import ColisTask
from tests.strategies import nasty_text, query, values
from tests.web_helpers import web

fields = st.fixed_dictionaries({}, optional={
    k: values | st.just("12") for k in ["client", "lot", "lot_op_id", "poids", "longueur",
                                         "largeur", "hauteur", "mode_paiement", "description",
                                         "type_transport", "photo_id", "colis", "base_version",
                                         "type_lot"]})
items = st.one_of(values, st.fixed_dictionaries({
    "op_id": st.one_of(st.uuids().map(str), values),
    "op": st.one_of(st.sampled_from(["create", "update", "open_lot"]), values),
    "data": st.one_of(fields, values)}, optional={"saved_at": values}))
envelopes = st.one_of(values, st.fixed_dictionaries({"items": st.lists(items, max_size=6)},
                                                    optional={"device": values}))
# Every filter parameter the API and the pages read, with the role that reads it.
API_FILTERS = [("/api/v1/tasks/", p) for p in ("lot", "status", "active", "since", "page",
                                               "limit", "offset")]
API_FILTERS += [("/api/v1/clients/", p) for p in ("search", "updated_since", "limit", "offset")]
API_FILTERS += [("/api/v1/lots/", p) for p in ("statut", "limit", "offset")]
API_FILTERS += [("/api/v1/sync/changes", "since")]
PAGE_FILTERS = [("/taches/", p) for p in ("lot", "client", "status", "q", "since", "p_failed",
                                          "p_active", "p_done")]
PAGE_FILTERS += [("/taches/changes.json", p) for p in ("lot", "since", "client", "status")]
PAGE_FILTERS += [("/lots/", "page"), ("/supervision/", "page"), ("/supervision/recherche/", "q")]

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def dumps(body) -> str:
    """JSON as a client may write it: NaN allowed, lone surrogates escaped."""
    return json.dumps(body, allow_nan=True)


@SETTINGS
@given(envelope=envelopes)
def test_it_never_answers_5xx_to_any_envelope(alice_api, colis_data, redis_clean, envelope):
    alice_api.raise_request_exception = False
    response = alice_api.post("/api/v1/sync/", dumps(envelope), content_type="application/json")
    assert response.status_code in (200, 400, 413)
    if response.status_code == 200:
        answers = response.json()["items"]
        assert len(answers) == len(envelope["items"])
        assert {a["result"] for a in answers} <= {"accepted", "duplicate", "invalid", "conflict"}


@SETTINGS
@given(data=fields)
def test_it_answers_per_item_to_any_colis_data(alice_api, colis_data, redis_clean, data):
    alice_api.raise_request_exception = False
    before = ColisTask.objects.count()
    good = {"op_id": "6f1c1b8e-3f2a-4c55-9d7e-1a2b3c4d5e6f", "op": "create", "data": colis_data}
    body = {"items": [{"op_id": "0b7f6a1e-0000-4000-8000-000000000001", "op": "create",
                       "data": {**colis_data, **data}}, good]}
    response = alice_api.post("/api/v1/sync/", dumps(body), content_type="application/json")
    assert response.status_code in (200, 400)  # 400: NaN, Infinity or too deep is not JSON
    if response.status_code == 200:
        assert response.json()["items"][1]["result"] in ("accepted", "duplicate")
    assert ColisTask.objects.count() - before <= 2


@settings(SETTINGS, max_examples=60)
@given(value=nasty_text, which=st.integers(min_value=0, max_value=10**6))
def test_it_never_answers_5xx_to_any_filter(alice, charlie, alice_api, redis_clean, value, which):
    alice_api.raise_request_exception = False
    url, param = API_FILTERS[which % len(API_FILTERS)]
    response = alice_api.get(f"{url}?{param}={query(value)}")
    assert response.status_code < 500, (url, param, value)
    url, param = PAGE_FILTERS[which % len(PAGE_FILTERS)]
    client = web(charlie if url.startswith("/supervision") else alice)
    client.raise_request_exception = False
    response = client.get(f"{url}?{param}={query(value)}")
    assert response.status_code < 500, (url, param, value)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@settings(SETTINGS, max_examples=80)
@given(length=st.one_of(nasty_text, st.integers(min_value=-5, max_value=2**70).map(str)),
       keys=st.lists(nasty_text, max_size=3),
       raw_values=st.lists(st.binary(max_size=24) | nasty_text.map(
           lambda t: t.encode("utf-8", "surrogatepass")), max_size=3),
       photo_id=st.one_of(st.uuids().map(str), nasty_text),
       offset=nasty_text, body=st.binary(max_size=64))
def test_it_never_answers_5xx_to_any_upload_header(alice_api, redis_clean, length, keys,
                                                   raw_values, photo_id, offset, body):
    alice_api.raise_request_exception = False
    pairs = [f"photo_id {b64(photo_id.encode('utf-8', 'surrogatepass'))}"]
    pairs += [f"{k.replace(',', '').replace(' ', '')} {b64(v)}"
              for k, v in zip(keys, raw_values, strict=False)]
    headers = {"HTTP_TUS_RESUMABLE": "1.0.0", "HTTP_UPLOAD_LENGTH": length,
               "HTTP_UPLOAD_METADATA": ",".join(pairs)}
    headers = {k: v.encode("utf-8", "surrogatepass").decode("latin-1", "replace")
               for k, v in headers.items()}
    response = alice_api.generic("POST", "/api/v1/uploads/", **headers)
    assert response.status_code < 500
    if response.status_code == 201:
        response = alice_api.generic(
            "PATCH", response["Location"], data=body,
            content_type="application/offset+octet-stream", HTTP_TUS_RESUMABLE="1.0.0",
            HTTP_UPLOAD_OFFSET=offset.encode("utf-8", "surrogatepass").decode("latin-1"))
        assert response.status_code < 500
