"""A retry with corrected data is checked as a new item: text the database cannot store,
a numéro not the agent's, a correction that would move onto another colis: each a 400 with
field errors, never a 500 nor a write."""

import json

import pytest

from server.cargo import leases, numbering, services
from server.cargo.models import Colis
from sync.models import ColisTask, Status
from tests.conftest import codes, item


def failed(api, **data) -> ColisTask:
    [answer] = api.post("/api/v1/sync/", {"items": [item(**data)]}, format="json").json()["items"]
    assert answer["result"] == "accepted", answer
    ColisTask.objects.filter(op_id=answer["op_id"]).update(status=Status.FAILED_FINAL)
    return ColisTask.objects.get(op_id=answer["op_id"])


def retry(api, task: ColisTask, data: dict):
    """JSON as a device sends it, \\u escapes included (a lone surrogate arrives as one)."""
    return api.post(f"/api/v1/tasks/{task.task_id}/retry/", json.dumps({"data": data}),
                    content_type="application/json")


def lease_numeros(device, n: int = 10) -> list[str]:
    lease = leases.lease(device, n)
    return [numbering.format_numero_suivi(lease.year, s) for s in range(lease.first, lease.last + 1)]


@pytest.mark.parametrize("data, field, code", [
    ({"description": "a\x00b"}, "description", "text_unstorable"),
    ({"description": "a\ud800b"}, "description", "text_unstorable"),
    ({"note": "\x00"}, "note", "text_unstorable"),
    ({"note\ud800": "x"}, "data", "text_unstorable"),
    ({"description": "x" * 100_000}, "description", "text_too_long"),
])
def test_it_answers_400_to_corrected_data_that_cannot_be_stored(alice_api, colis_data,
                                                                redis_clean, data, field, code):
    task = failed(alice_api, **colis_data)
    response = retry(alice_api, task, data)
    assert response.status_code == 400, response.content
    assert codes(response.json()["error_codes"]) == {field: [code]}
    task.refresh_from_db()
    assert task.status == Status.FAILED_FINAL and task.colis_data == colis_data


def test_it_keeps_the_tasks_own_leased_numero_on_a_retry(alice_api, colis_data, redis_clean):
    numero = lease_numeros(alice_api.device)[0]
    task = failed(alice_api, **colis_data, numero_suivi=numero)
    response = retry(alice_api, task, {"poids": "3"})
    assert response.status_code == 200, response.content
    task.refresh_from_db()
    assert task.colis_data["numero_suivi"] == numero and task.status == Status.PENDING


def test_it_checks_a_changed_numero_against_the_agents_leases(alice_api, bob_api, colis_data,
                                                             redis_clean):
    mine, theirs = lease_numeros(alice_api.device), lease_numeros(bob_api.device)
    task = failed(alice_api, **colis_data, numero_suivi=mine[0])
    failed(alice_api, **colis_data, numero_suivi=mine[1])  # failed: still holds its numéro?
    ColisTask.objects.exclude(pk=task.pk).update(status=Status.PENDING)  # live: it does
    for numero, code in [(theirs[0], "numero_not_leased"), (numbering.next_numero_suivi(),
                                                            "numero_not_leased"),
                         ("CS26-1-1", "numero_not_leased"), (mine[1], "numero_used")]:
        response = retry(alice_api, task, {"numero_suivi": numero})
        assert response.status_code == 400, (numero, response.content)
        assert codes(response.json()["error_codes"]) == {"numero_suivi": [code]}
    assert retry(alice_api, task, {"numero_suivi": mine[2]}).status_code == 200
    task.refresh_from_db()
    assert task.colis_data["numero_suivi"] == mine[2]


def test_it_keeps_a_correction_on_its_own_colis(alice, alice_api, colis_data, redis_clean):
    own = services.create_colis(alice, colis_data)
    other = services.create_colis(alice, {**colis_data, "poids": "7"})
    [answer] = alice_api.post("/api/v1/sync/", {"items": [item(
        op="update", colis=own.pk, base_version=own.version, poids="2")]},
        format="json").json()["items"]
    task = ColisTask.objects.get(op_id=answer["op_id"])
    ColisTask.objects.filter(pk=task.pk).update(status=Status.FAILED_FINAL)
    for colis in (other.pk, str(other.pk), None, "x"):
        response = retry(alice_api, task, {"colis": colis, "base_version": other.version})
        assert response.status_code == 400, (colis, response.content)
        assert "colis" in codes(response.json()["error_codes"])
    task.refresh_from_db()
    assert task.colis_data["colis"] == own.pk and task.status == Status.FAILED_FINAL
    assert retry(alice_api, task, {"colis": str(own.pk), "poids": "4"}).status_code == 200
    other.refresh_from_db()
    assert other.poids == 7 and Colis.objects.count() == 2
