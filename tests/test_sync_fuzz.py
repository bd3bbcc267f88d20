"""Hypothesis-made items and envelopes: the batch endpoint never answers 5xx."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.models import ColisTask

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(["1", "0", "-1", "1e400", "NaN", ""]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
fields = st.fixed_dictionaries({}, optional={
    k: values | st.just("12") for k in ["client", "lot", "lot_op_id", "poids", "longueur",
                                         "largeur", "hauteur", "mode_paiement", "description",
                                         "type_transport", "photo_id", "colis", "base_version",
                                         "type_lot"]})
items = st.one_of(values, st.fixed_dictionaries({
    "op_id": st.one_of(st.uuids().map(str), values),
    "op": st.one_of(st.sampled_from(["create", "update", "open_lot"]), values),
    "data": st.one_of(fields, values)}))
envelopes = st.one_of(values, st.fixed_dictionaries({"items": st.lists(items, max_size=6)},
                                                    optional={"device": values}))

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(envelope=envelopes)
def test_it_never_answers_5xx_to_any_envelope(alice_api, colis_data, redis_clean, envelope):
    body = json.dumps(envelope, allow_nan=True)
    response = alice_api.post("/api/v1/sync/", body, content_type="application/json")
    assert response.status_code in (200, 400, 413)
    if response.status_code == 200:
        answers = response.json()["items"]
        assert len(answers) == len(envelope["items"])
        assert {a["result"] for a in answers} <= {"accepted", "duplicate", "invalid", "conflict"}


@SETTINGS
@given(data=fields)
def test_it_answers_per_item_to_any_colis_data(alice_api, colis_data, redis_clean, data):
    before = ColisTask.objects.count()
    good = {"op_id": "6f1c1b8e-3f2a-4c55-9d7e-1a2b3c4d5e6f", "op": "create", "data": colis_data}
    body = {"items": [{"op_id": "0b7f6a1e-0000-4000-8000-000000000001", "op": "create",
                       "data": {**colis_data, **data}}, good]}
    response = alice_api.post("/api/v1/sync/", json.dumps(body, allow_nan=True),
                              content_type="application/json")
    assert response.status_code in (200, 400)  # 400: NaN or Infinity is not JSON
    if response.status_code == 200:
        assert response.json()["items"][1]["result"] in ("accepted", "duplicate")
    assert ColisTask.objects.count() - before <= 2
