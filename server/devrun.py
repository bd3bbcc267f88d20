"""`make run`: migrate, load demo data on an empty database, start every process.

Runs under server.embedded_redis, so REDIS_URL is set. The Procfile's processes
run under honcho; Ctrl-C stops them all, then the embedded Redis.
"""

import os
import subprocess
import sys


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True)


def listen_here(environ) -> str:
    """DEBUG and the demo passwords: this machine only (HOST 127.0.0.1, and no other Host
    header, which DNS rebinding would send) unless HOST says otherwise. Returns HOST."""
    host = environ.setdefault("HOST", "127.0.0.1")
    if host in ("127.0.0.1", "localhost", "::1"):
        environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
    return host


def main() -> int:
    os.environ.setdefault("DEBUG", "1")
    host = listen_here(os.environ)
    port = os.environ.get("PORT", "8000")
    manage("migrate", "--noinput", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")
    manage("demo", "--if-empty")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"\nColis sync: http://{shown}:{port}/  (app /app/, admin /admin/, API /api/docs/)\n",
          flush=True)
    honcho = os.path.join(os.path.dirname(sys.executable), "honcho")
    return subprocess.call([honcho, "start", "-f", "Procfile", "-p", port])


if __name__ == "__main__":
    sys.exit(main())
