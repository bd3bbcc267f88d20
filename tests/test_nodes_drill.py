"""The production shape on one machine: nginx (deploy/nginx/colis.conf, rendered on free ports
under a temporary prefix) in front of gunicorn nodes with their own VAR_DIRs, as machines
sharing the database, Redis and the S3 server (moto), with rqworkers and a sweeper.

- nginx serves static files, and private photos only through a node's X-Accel-Redirect;
- slow request bodies are nginx's business: 40 tablets sending 1.5 MB a few bytes per second
  do not slow the health check (p95 under 200 ms);
- the PWA in Chromium syncs 50 colis with photos while node A is SIGKILLed after the first
  photo chunk it answered, then restarted: nothing lost, nothing doubled, every photo ready,
  and the uploads node A had started are finished by node B (PostgreSQL only: two machines
  never share a SQLite file).

The machinery is bench/nodes.py's, which `python -m bench.run nodes` measures with figures.
"""

import re
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.db import connection

from bench.nodes import MIME_TYPES, NGINX, TEMPLATE, Nginx, Node, pwa_drill, stop, under_slow_bodies
from bench.stats import percentile
from server.accounts.models import Device as DeviceRow
from server.cargo.models import Client, Colis
from sync.models import ColisTask
from tests.workers import ROOT, child_env, start_worker, wait_for

from .s3 import keys, s3_client, s3_env, s3_server  # noqa: F401 - the fixture

pytestmark = [pytest.mark.nodes,
              pytest.mark.skipif(not (Path(NGINX).exists() and MIME_TYPES.exists()),
                                 reason="no nginx (apt-get install nginx)")]
JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
        + b"\xff\xd9")


@pytest.fixture(scope="module")
def static_root(tmp_path_factory) -> Path:
    """STATIC_ROOT after `manage.py collectstatic`, as a deployment has it."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                   env=child_env(STATIC_ROOT=str(root)), check=True, timeout=300,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return root


def node_env(static_root: Path, **extra: str) -> dict:
    """A web node behind one proxy of ours, as deploy/colis.env.example sets it."""
    return child_env(STATIC_ROOT=str(static_root), TRUSTED_PROXY_COUNT="1", PROXY_SSL_HEADER="1",
                     SECURE_COOKIES="0", LOG_LEVEL="WARNING", **extra)


@pytest.fixture
def stack(tmp_path):
    """Processes started by the test, stopped at its end (each by its pid)."""
    procs: list = []
    yield procs
    for proc in reversed(procs):
        proc.stop() if hasattr(proc, "stop") else stop(proc)
    if connection.vendor == "postgresql":  # their sessions gone before the test database is
        deadline = time.monotonic() + 10
        while other_sessions() and time.monotonic() < deadline:
            time.sleep(0.2)


def other_sessions() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()")
        return cur.fetchone()[0]


def sizes(template: str) -> dict[str, int]:
    """client_max_body_size per location ('' for the server's own) in bytes."""
    units = {"k": 1024, "m": 1024**2, "g": 1024**3, "": 1}
    out, where = {}, ""
    for line in template.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("location"):
            where = line.split()[-2]
        elif line == "}":
            where = ""
        m = re.match(r"client_max_body_size (\d+)([kmg]?);", line)
        if m:
            out[where] = int(m[1]) * units[m[2]]
    return out


def test_it_lets_through_the_bodies_the_app_accepts():
    limits = sizes(TEMPLATE.read_text())
    assert limits[""] >= django_settings.SYNC_MAX_BODY
    assert limits["/api/v1/uploads/"] >= django_settings.TUS_MAX_SIZE
    assert limits["/supervision/import/"] >= django_settings.IMPORT_MAX_BYTES


def test_it_lists_every_setting_in_the_example_env_file():
    source = (ROOT / "server" / "settings.py").read_text()
    read = set(re.findall(r'(?:envint|envbool|envlist|environ\.get|env\.get|env\[)\(?"([A-Z][A-Z0-9_]+)"',
                          source))
    example = (ROOT / "deploy" / "colis.env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.M))
    assert len(read) > 60 and read <= listed, sorted(read - listed)
    # The units' own: gunicorn's address and processes.
    assert {"HOST", "PORT", "WEB_CONCURRENCY"} <= listed


def test_it_gives_every_unit_the_env_file():
    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    assert [u.name for u in units] == ["colis-sweeper.service", "colis-web@.service",
                                       "colis-worker@.service"]
    for unit in units:
        assert "EnvironmentFile=/etc/colis/colis.env" in unit.read_text().splitlines()


@pytest.mark.django_db(transaction=True)
def test_it_serves_static_files_and_private_photos_only_through_nginx(
        alice, tariffs, colis_data, static_root, stack, tmp_path):
    import requests
    from django.core.files.storage import FileSystemStorage

    media = tmp_path / "media"
    name = FileSystemStorage(location=media).save("colis/drill.jpg", ContentFile(JPEG))
    colis = _colis_with_image(alice, colis_data, name)
    node = Node("node-a", node_env(static_root, MEDIA_ROOT=str(media), PHOTOS_X_ACCEL="/protected/"),
                tmp_path / "node-a").start()
    stack.append(node)
    nginx = Nginx([node.port], static_root=static_root, media_root=media,
                  prefix=tmp_path / "nginx").start()
    stack.append(nginx)
    token = DeviceRow.issue(alice, "tablette")[1]
    auth = {"Authorization": f"Token {token}"}

    photo = requests.get(f"{nginx.base}/photos/{colis.pk}/image", headers=auth, timeout=10)
    assert photo.status_code == 200 and photo.content == JPEG
    assert photo.headers["Content-Type"] == "image/jpeg"
    assert "X-Accel-Redirect" not in photo.headers
    # The node alone answers no bytes: nginx took them from the internal location.
    direct = requests.get(f"{node.base}/photos/{colis.pk}/image", headers=auth, timeout=10)
    assert direct.status_code == 200 and direct.content == b""
    assert direct.headers["X-Accel-Redirect"] == f"/protected/{name}"
    assert photo.headers["Cache-Control"] == direct.headers["Cache-Control"]  # the node's, once
    assert requests.get(f"{nginx.base}/photos/{colis.pk}/image", timeout=10).status_code == 401
    assert requests.get(f"{nginx.base}/protected/{name}", timeout=10).status_code == 404
    assert requests.get(f"{nginx.base}/media/{name}", timeout=10).status_code == 404

    node.stop()  # static files are nginx's own: no node needed
    static = requests.get(f"{nginx.base}/static/pwa/js/tus.js", timeout=10)
    assert static.status_code == 200 and "CHUNK_SIZE" in static.text
    assert requests.get(f"{nginx.base}/api/v1/health/", timeout=10).status_code == 502


def _colis_with_image(alice, colis_data: dict, name: str) -> Colis:
    """A colis whose photo was processed into `name` (the photo pipeline has its own tests)."""
    from server.cargo import services

    colis = services.create_colis(alice, colis_data)
    Colis.objects.filter(pk=colis.pk).update(image=name, photo_status="ready")
    colis.refresh_from_db()
    return colis


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_health_check_fast_while_40_clients_send_slow_bodies(
        alice, static_root, stack, tmp_path):
    nodes = [Node(f"node-{n}", node_env(static_root), tmp_path / f"node-{n}").start() for n in "ab"]
    stack.extend(nodes)
    nginx = Nginx([n.port for n in nodes], static_root=static_root, media_root=tmp_path / "media",
                  prefix=tmp_path / "nginx").start()
    stack.append(nginx)
    token = DeviceRow.issue(alice, "tablette lente")[1]

    result = under_slow_bodies(f"{nginx.base}/api/v1/health/", nginx.port, token, seconds=10)

    assert result["slow"]["connected"] == 40
    assert result["failed"] == 0 and set(result["statuses"]) == {200}, result["statuses"]
    assert len(result["ms"]) > 50
    assert percentile(result["ms"], 95) < 200, sorted(result["ms"])[-10:]
    # The slow bodies never reached a node: nginx was still reading them when they gave up.
    slow = wait_for(lambda: [r for r in nginx.log_lines() if r["path"] == "/api/v1/sync/"][39:]
                    and [r for r in nginx.log_lines() if r["path"] == "/api/v1/sync/"], timeout=10)
    assert len(slow) == 40 and {r["up"] for r in slow} == {"-"}


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_loses_nothing_when_a_node_dies_mid_upload(
        alice, tariffs, static_root, s3_server, stack, tmp_path, redis_clean):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("two web machines share PostgreSQL, never a SQLite file (runs in the "
                    "PostgreSQL pass of make test)")
    if not Path(shutil.which("chromium") or "/usr/bin/chromium").exists():
        pytest.skip("no Chromium")
    bucket = f"colis-{uuid.uuid4().hex[:12]}"
    client = s3_client(s3_server)
    client.create_bucket(Bucket=bucket)
    s3 = s3_env(s3_server, bucket)
    Client.objects.create(nom="Diallo", prenom="Aminata", telephone="+221770000001",
                          ville_destination="Dakar", pays_destination="Sénégal")
    env = node_env(static_root, **s3)
    node_a, node_b = (Node(f"node-{n}", env, tmp_path / f"node-{n}").start() for n in "ab")
    stack.extend([node_a, node_b])
    nginx = Nginx([node_a.port, node_b.port], static_root=static_root,
                  media_root=tmp_path / "media", prefix=tmp_path / "nginx").start()
    stack.append(nginx)
    stack.extend(start_worker(RETRY_BACKOFF="1", **s3) for _ in range(2))
    stack.append(subprocess.Popen([sys.executable, "manage.py", "monitor_sync", "--interval", "2"],
                                  cwd=ROOT, env=child_env(**s3), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True))
    photo = grainy_photo(tmp_path / "grainy.jpg")

    def done() -> bool:
        try:
            return Colis.objects.filter(created_by=alice, photo_status="ready").count() >= 50
        finally:
            connection.close()  # asked from playwright's greenlet: its own connection otherwise

    # In a thread of its own: in a full run the browser tests' session-wide playwright still
    # holds this thread's event loop, and playwright's sync API refuses to nest in it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        story = pool.submit(pwa_drill, base=nginx.base, nginx=nginx, node_a=node_a,
                            username="alice", photo=photo, done=done, timeout=240).result()

    tasks = ColisTask.objects.filter(initiated_by=alice, operation="create")
    colis = Colis.objects.filter(created_by=alice)
    assert story["done"], {**story, "tasks": dict(Counter(tasks.values_list("status", flat=True))),
                           "photos": dict(Counter(colis.values_list("photo_status", flat=True)))}
    assert tasks.count() == 50 and tasks.values("op_id").distinct().count() == 50
    assert set(tasks.values_list("status", flat=True)) == {"completed"}
    assert colis.count() == 50 and set(colis.values_list("photo_status", flat=True)) == {"ready"}
    assert tasks.exclude(colis__isnull=False).count() == 0
    assert tasks.values("colis").distinct().count() == 50
    stored = set(keys({"client": client, "bucket": bucket}, "media/"))
    assert {f"media/{c.image.name}" for c in colis} <= stored
    # Node A had started uploads when it died; node B finished them.
    assert story["resumed_elsewhere"] >= 1, story
    assert story["upload_requests_after_kill"] > 0
    # The tablet agrees: its 50 colis and the lot it opened, all completed, nothing left.
    assert story["device_queue"] == {**{k: 0 for k in story["device_queue"]}, "completed": 51}


def grainy_photo(path: Path) -> Path:
    """A 1600 × 1200 JPEG of colour noise: the tablet keeps its size and it stays ≈ 1 MB once
    compressed, four tus chunks (a camera's 12 MP photo costs the tablet more to compress)."""
    from PIL import Image

    size = (1600, 1200)
    Image.merge("RGB", [Image.effect_noise(size, 60) for _ in range(3)]).save(path, "JPEG", quality=92)
    return path
