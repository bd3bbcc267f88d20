"""Helpers of the dashboard tests: tasks made through the real sync endpoint."""

from django.test import Client as WebClient

from sync.models import ColisTask
from tests.conftest import device_client, item


def send(user, data: dict, n: int = 1, api=None) -> list[ColisTask]:
    """POST `n` create items for `user` to /api/v1/sync/; return their tasks, in order."""
    api = api or device_client(user)
    items = [item(**data) for _ in range(n)]
    answers = api.post("/api/v1/sync/", {"items": items}, format="json").json()["items"]
    ids = [a["task"]["task_id"] for a in answers]
    tasks = {str(t.task_id): t for t in ColisTask.objects.filter(task_id__in=ids)}
    return [tasks[i] for i in ids]


def set_status(tasks: list[ColisTask], status: str, **fields) -> None:
    """Put tasks in a status directly (what the worker would have done)."""
    ColisTask.objects.filter(pk__in=[t.pk for t in tasks]).update(status=status, **fields)


def web(user=None) -> WebClient:
    """A browser-like client with a session for `user` (anonymous when None)."""
    client = WebClient()
    if user is not None:
        client.force_login(user)
    return client
