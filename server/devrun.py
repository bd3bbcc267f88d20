"""`make run`: migrate, load demo data on an empty database, start every process.

Runs under server.embedded_redis, so REDIS_URL is set. The Procfile's processes
run under honcho; Ctrl-C stops them all, then the embedded Redis.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

DEMO_LOGINS = """Demo logins (password colis2026):
  agents       agent_guangzhou, agent_yiwu, agent_guangzhou2
  supervisor   superviseur
  admin        admin"""


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True)


def listen_here(environ) -> str:
    """DEBUG and the demo passwords: this machine only (HOST 127.0.0.1, and no other Host
    header, which DNS rebinding would send) unless HOST says otherwise. Returns HOST."""
    host = environ.setdefault("HOST", "127.0.0.1")
    if host in ("127.0.0.1", "localhost", "::1"):
        environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
    return host


def banner(url: str) -> str:
    return (f"\nColis sync: {url}  (app {url}app/, admin {url}admin/, API {url}api/docs/)\n"
            f"{DEMO_LOGINS}\n")


def announce_when_ready(url: str, timeout: float = 120) -> None:
    """Print the URL and the logins again once the web answers and a worker is up: the
    first banner has scrolled away under the processes' logs by then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}api/v1/health/", timeout=2) as response:
                if json.load(response).get("workers"):
                    print("=" * 72 + banner(url) + "Every process answers. Ctrl-C stops them all.\n"
                          + "=" * 72, flush=True)
                    return
        except (OSError, ValueError):
            pass
        time.sleep(1)
    print(f"\n{url} did not answer within {timeout:.0f} s: see the logs above.\n", flush=True)


def main() -> int:
    os.environ.setdefault("DEBUG", "1")
    host = listen_here(os.environ)
    port = os.environ.get("PORT", "8000")
    # One clock in every log line: the warehouses' (TIME_ZONE), which Django sets in its own
    # processes anyway; honcho and gunicorn's master would else print UTC beside them.
    os.environ.setdefault("TZ", os.environ.get("TIME_ZONE", "Asia/Shanghai"))
    time.tzset()
    manage("migrate", "--noinput", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")
    manage("demo", "--if-empty")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/"
    print(banner(url), flush=True)
    threading.Thread(target=announce_when_ready, args=(url,), daemon=True).start()
    honcho = os.path.join(os.path.dirname(sys.executable), "honcho")
    return subprocess.call([honcho, "start", "-f", "Procfile", "-p", port])


if __name__ == "__main__":
    sys.exit(main())
