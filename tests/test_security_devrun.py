"""`make run` listens on this machine only (127.0.0.1) unless HOST says otherwise."""

import os
import subprocess
from pathlib import Path

import pytest

from server.embedded_redis import stop
from tests.security_helpers import free_port, wait_listening
from tests.workers import child_env

ROOT = Path(__file__).resolve().parent.parent
HONCHO = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "honcho"


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on `port` (from /proc/net/tcp)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:  # 0A: LISTEN
                found.add(address if width == 32 else ".".join(
                    str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


@pytest.mark.parametrize(("host", "expected"), [(None, "127.0.0.1"), ("0.0.0.0", "0.0.0.0")])
def test_it_binds_the_web_process_to_host(db, host, expected):
    port = free_port()
    env = child_env(PORT=str(port))
    env.pop("HOST", None)
    if host:
        env["HOST"] = host
    proc = subprocess.Popen([str(HONCHO), "start", "-f", "Procfile", "-p", str(port), "web"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_listening(port)
        assert listening_addresses(port) == {expected}
    finally:
        stop(proc)


def test_it_defaults_make_run_to_loopback():
    dry = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if k != "HOST"})
    assert 'HOST="127.0.0.1"' in dry.stdout


def test_it_accepts_only_loopback_host_headers_by_default():
    from server.devrun import listen_here

    env: dict = {}
    assert listen_here(env) == "127.0.0.1"
    assert env["ALLOWED_HOSTS"] == "127.0.0.1,localhost,[::1]"
    opened = {"HOST": "0.0.0.0"}
    assert listen_here(opened) == "0.0.0.0" and "ALLOWED_HOSTS" not in opened
