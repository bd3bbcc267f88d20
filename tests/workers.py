"""Real rqworker processes for the tests, on the test database and the test Redis."""

import os
import subprocess
import sys
import time
from pathlib import Path

import django_rq
from django.db import connection

from server import embedded_redis

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """The URL of the test database this process uses, for child processes."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    auth = f"{user}:{s['PASSWORD']}@" if s.get("PASSWORD") else f"{user}@"
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def child_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="server.settings_test", DATABASE_URL=test_database_url(),
               PYTHONUNBUFFERED="1", **extra)
    return env


def start_worker(*queues: str, burst: bool = False, **env: str) -> subprocess.Popen:
    """Start `manage.py rqworker` (SimpleWorker, as in the Procfile)."""
    cmd = [sys.executable, "manage.py", "rqworker", *(queues or ("colis", "notifications")),
           "--worker-class", "rq.worker.SimpleWorker"]
    if burst:
        cmd.append("--burst")
    quiet = None if os.environ.get("TEST_WORKER_LOG") else subprocess.DEVNULL
    return subprocess.Popen(cmd, cwd=ROOT, env=child_env(**env), stdout=quiet, stderr=quiet)


def run_burst(*queues: str, timeout: float = 120) -> None:
    """Run a burst worker until the queues are empty."""
    proc = start_worker(*queues, burst=True)
    proc.wait(timeout)


def stop(proc: subprocess.Popen) -> None:
    embedded_redis.stop(proc)


def wait_for(predicate, timeout: float = 60, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)


def flush_redis() -> None:
    django_rq.get_connection("colis").flushdb()
