"""Who may do what: anonymous, agent A, agent B, supervisor, revoked device × every endpoint."""

import uuid

import pytest
from rest_framework.test import APIClient

from sync.models import ColisTask, Status
from tests.conftest import device_client, item

ACTORS = ["anonymous", "alice", "bob", "charlie", "revoked"]


@pytest.fixture
def world(alice, bob, charlie, colis_data, redis_clean):
    apis = {"alice": device_client(alice), "bob": device_client(bob),
            "charlie": device_client(charlie), "anonymous": APIClient()}
    revoked = device_client(alice, "ancienne tablette")
    revoked.device.revoke()
    apis["revoked"] = revoked
    answer = apis["alice"].post("/api/v1/sync/", {"items": [item(**colis_data)]}, format="json")
    task_id = answer.json()["items"][0]["task"]["task_id"]
    ColisTask.objects.filter(task_id=task_id).update(status=Status.FAILED_FINAL)
    return apis, task_id, colis_data


EXPECTED = {  # endpoint → status per actor (alice owns the task)
    "sync": {"anonymous": 401, "alice": 200, "bob": 200, "charlie": 403, "revoked": 401},
    "changes": {"anonymous": 401, "alice": 200, "bob": 200, "charlie": 200, "revoked": 401},
    "list": {"anonymous": 401, "alice": 200, "bob": 200, "charlie": 200, "revoked": 401},
    "detail": {"anonymous": 401, "alice": 200, "bob": 404, "charlie": 200, "revoked": 401},
    "retry": {"anonymous": 401, "alice": 200, "bob": 404, "charlie": 200, "revoked": 401},
    "cancel": {"anonymous": 401, "alice": 200, "bob": 404, "charlie": 200, "revoked": 401},
    "clients": {"anonymous": 401, "alice": 200, "bob": 200, "charlie": 200, "revoked": 401},
}


def call(api, endpoint, task_id, colis_data):
    return {
        "sync": lambda: api.post("/api/v1/sync/", {"items": []}, format="json"),
        "changes": lambda: api.get("/api/v1/sync/changes"),
        "list": lambda: api.get("/api/v1/tasks/"),
        "detail": lambda: api.get(f"/api/v1/tasks/{task_id}/"),
        "retry": lambda: api.post(f"/api/v1/tasks/{task_id}/retry/"),
        "cancel": lambda: api.post(f"/api/v1/tasks/{task_id}/cancel/"),
        "clients": lambda: api.get("/api/v1/clients/"),
    }[endpoint]()


@pytest.mark.parametrize("endpoint", list(EXPECTED))
@pytest.mark.parametrize("actor", ACTORS)
def test_it_answers_each_actor_as_the_rules_say(world, endpoint, actor):
    apis, task_id, colis_data = world
    if endpoint == "cancel" and actor in ("alice", "charlie"):
        ColisTask.objects.filter(task_id=task_id).update(status=Status.FAILED_FINAL)
    response = call(apis[actor], endpoint, task_id, colis_data)
    assert response.status_code == EXPECTED[endpoint][actor]


NOT_FOUND = {"fr": "Introuvable, ou hors de ce que votre compte peut voir.",
             "en": "Not found, or not visible to your account.",
             "zh-hans": "未找到，或您的账户无权查看。"}


@pytest.mark.parametrize("language", NOT_FOUND)
@pytest.mark.parametrize("endpoint", ["detail", "retry", "cancel"])
def test_it_says_not_found_in_the_callers_language_and_names_no_model(world, endpoint,
                                                                      language):
    """Another agent's task and a task that never was get the same answer."""
    apis, task_id, colis_data = world
    apis["bob"].defaults["HTTP_ACCEPT_LANGUAGE"] = language
    for task in (task_id, uuid.uuid4()):
        response = call(apis["bob"], endpoint, task, colis_data)
        assert response.status_code == 404
        assert response.json() == {"detail": NOT_FOUND[language]}


def test_it_hides_another_agents_tasks_from_lists_and_the_feed(world):
    apis, task_id, _ = world
    assert apis["bob"].get("/api/v1/tasks/").json()["count"] == 0
    assert apis["bob"].get("/api/v1/sync/changes").json()["items"] == []
    assert apis["charlie"].get("/api/v1/tasks/").json()["count"] == 1
