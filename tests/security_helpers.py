"""Helpers of the security tests: the cache's counters in the test Redis, a gunicorn node."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import redis
from django.conf import settings

from tests.workers import ROOT, child_env

PREFIX = "colis:"  # CACHES["default"]["KEY_PREFIX"]


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def cache_keys(pattern: str = "*") -> dict[str, bytes]:
    """The cache's keys in Redis matching `pattern` (after the prefix), with their values."""
    r = redis_client()
    return {key.decode(): r.get(key) for key in r.scan_iter(f"{PREFIX}*{pattern}")}


def forget_counters() -> None:
    """Delete every throttle and lockout counter (the cache's keys), leaving RQ's alone."""
    r = redis_client()
    for key in r.scan_iter(f"{PREFIX}*"):
        r.delete(key)


@pytest.fixture
def counters():
    """No counter before the test; none left after it for the next tests' logins."""
    forget_counters()
    yield
    forget_counters()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def start_gunicorn(port: int, **env: str) -> subprocess.Popen:
    """A second web node: gunicorn on the test database and the test Redis."""
    cmd = [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "server.wsgi",
           "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    quiet = None if os.environ.get("TEST_WORKER_LOG") else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env(**env), stdout=quiet, stderr=quiet,
                            start_new_session=True)
    wait_listening(port)
    return proc


def post_json(url: str, data: dict, headers: dict | None = None) -> int:
    """POST `data` as JSON to `url`; the status code."""
    import json

    body = json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def redis_down(settings):
    """The cache pointed at a port where nothing listens; axes made to pick it up."""
    from axes.handlers.proxy import AxesProxyHandler

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
                                   "KEY_PREFIX": "colis"}}
    AxesProxyHandler.implementation = None
    yield
    AxesProxyHandler.implementation = None
