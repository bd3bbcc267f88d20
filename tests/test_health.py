"""GET /api/v1/health/: the pipeline's state, and which node answered."""

import socket


def test_it_names_the_node_that_answered(client, db, redis_clean, settings):
    settings.NODE_NAME = "web-2"
    answer = client.get("/api/v1/health/").json()
    assert answer["node"] == "web-2" and answer["ok"]


def test_it_names_the_host_by_default(monkeypatch):
    import importlib

    from server import settings as defaults

    monkeypatch.delenv("NODE_NAME", raising=False)
    importlib.reload(defaults)
    assert defaults.NODE_NAME == socket.gethostname()
