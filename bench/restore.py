"""Scenario `restore`: the backup and restore of deploy/backup.sh and deploy/restore.sh, drilled.

A seeded PostgreSQL database (agents, lots, colis with their tasks) whose photos live in an
S3 bucket (moto's server, as tests/s3.py runs it) is backed up by deploy/backup.sh; a fresh
database and a fresh bucket receive it through deploy/restore.sh; then every colis and every
photo is looked for in the copy: the same rows (numéro, price, version) and the same bytes.

    python -m bench.run restore [--quick]
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from . import report
from .env import ROOT, create_database, db_url, psql, seed, start_redis, stop_redis, truncate_all
from .nodes import free_port, stop, wait_port
from .stats import table

SRC, DST = "colis_bench_restore_src", "colis_bench_restore_dst"
KEYS = {"S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test", "S3_REGION": "us-east-1"}


def start_moto() -> tuple[subprocess.Popen, str]:
    """moto's standalone S3 server on a free loopback port; its endpoint."""
    port = free_port()
    binary = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    wait_port(port, proc, "moto_server")
    return proc, f"http://127.0.0.1:{port}"


def s3_client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test",
                        aws_secret_access_key="test", region_name="us-east-1")


def objects(client, bucket: str) -> dict[str, str]:
    """key → sha256 of every object in the bucket."""
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            out[obj["Key"]] = hashlib.sha256(body).hexdigest()
    return out


def seed_colis(count: int, with_photo: int) -> None:
    """`count` colis through the domain function, `with_photo` of them with a processed photo
    (image and thumbnail) stored through the app's storage: the bucket."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from server.accounts.models import User
    from server.cargo import services
    from server.cargo.models import Colis
    from sync import images

    from .photos import device_jpeg

    s = seed(agents=2)
    processed = images.process(device_jpeg())
    agent = User.objects.get(pk=s.user_ids[0])
    for n in range(count):
        colis = services.create_colis(agent, s.item(0)["data"])
        if n < with_photo:
            image = default_storage.save(f"colis/{uuid.uuid4().hex}.jpg", ContentFile(processed.image))
            thumb = default_storage.save(f"colis/thumbs/{uuid.uuid4().hex}.jpg",
                                         ContentFile(processed.thumbnail))
            Colis.objects.filter(pk=colis.pk).update(image=image, thumbnail=thumb, photo_status="ready")


def colis_rows(db: str) -> list[str]:
    return psql(db, "select numero_suivi || ' ' || coalesce(prix_calcule::text, '-') || ' ' || version "
                    "|| ' ' || image || ' ' || thumbnail || ' ' || photo_status from cargo_colis "
                    "order by numero_suivi").splitlines()


def run(quick: bool = False) -> str:
    count, with_photo = (300, 60) if quick else (1000, 150)
    redis, redis_url = start_redis()
    moto, endpoint = start_moto()
    work = Path(tempfile.mkdtemp(prefix="colis-restore-"))
    client = s3_client(endpoint)
    src_bucket, dst_bucket = (f"colis-{kind}-{uuid.uuid4().hex[:8]}" for kind in ("src", "dst"))
    try:
        for bucket in (src_bucket, dst_bucket):
            client.create_bucket(Bucket=bucket)
        s3 = {**KEYS, "S3_ENDPOINT_URL": endpoint}
        os.environ.update(s3, S3_BUCKET=src_bucket)  # the app's storage: the source bucket
        create_database(SRC, redis_url)
        from .env import use_django

        use_django(SRC, redis_url)
        truncate_all()
        t0 = time.monotonic()
        seed_colis(count, with_photo)
        seed_s = time.monotonic() - t0
        from django.db import connections

        connections.close_all()
        script_env = {**os.environ, **s3, "COLIS_ENV": "/nonexistent", "COLIS_PYTHON": sys.executable}

        t0 = time.monotonic()
        out = subprocess.run(["bash", str(ROOT / "deploy" / "backup.sh"), str(work)], check=True,
                             capture_output=True, text=True, timeout=600,
                             env={**script_env, "DATABASE_URL": db_url(SRC), "S3_BUCKET": src_bucket})
        backup_s = time.monotonic() - t0
        backup_dir = Path(out.stdout.strip().splitlines()[-1])
        manifest = (backup_dir / "MANIFEST").read_text().strip().replace("\n", "; ")
        size = sum(p.stat().st_size for p in backup_dir.rglob("*") if p.is_file())

        psql("postgres", f'DROP DATABASE IF EXISTS "{DST}" WITH (FORCE)')
        psql("postgres", f'CREATE DATABASE "{DST}"')
        t0 = time.monotonic()
        subprocess.run(["bash", str(ROOT / "deploy" / "restore.sh"), str(backup_dir)], check=True,
                       capture_output=True, text=True, timeout=600,
                       env={**script_env, "DATABASE_URL": db_url(DST), "S3_BUCKET": dst_bucket,
                            "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "server.settings",
                            "SECRET_KEY": "restore-drill"})
        restore_s = time.monotonic() - t0
        return _check(client, src_bucket, dst_bucket, count, with_photo, manifest, size,
                      seed_s, backup_s, restore_s)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        stop(moto)
        stop_redis(redis)


def _check(client, src_bucket, dst_bucket, count, with_photo, manifest, size, seed_s, backup_s,
           restore_s) -> str:
    src_rows, dst_rows = colis_rows(SRC), colis_rows(DST)
    src_objects, dst_objects = objects(client, src_bucket), objects(client, dst_bucket)
    named = {f"media/{name}" for row in dst_rows for name in row.split()[3:5] if name != "ready"
             and name.startswith("colis/")}
    missing_photos = sorted(k for k in named if k not in dst_objects)
    changed = sorted(k for k in src_objects if dst_objects.get(k) != src_objects[k])
    tables = {t: (psql(SRC, f"select count(*) from {t}"), psql(DST, f"select count(*) from {t}"))
              for t in ("cargo_colis", "cargo_lot", "cargo_client", "sync_colistask", "accounts_user",
                        "accounts_device")}
    ok = (src_rows == dst_rows and len(dst_rows) == count and len(named) == 2 * with_photo
          and not missing_photos and not changed and all(a == b for a, b in tables.values()))
    rows = [[t, a, b, "ok" if a == b else "DIFFERENT"] for t, (a, b) in tables.items()]
    rows.append(["photo objects (image + thumbnail)", len(src_objects), len(dst_objects),
                 "ok" if not changed else f"{len(changed)} differ"])
    md = f"""## Backup and restore drill

`deploy/backup.sh` on a seeded PostgreSQL database ({count} colis through
`services.create_colis`, {with_photo} of them with a processed photo and thumbnail stored
through the app's storage in an S3 bucket: moto's server), then `deploy/restore.sh` into a
fresh database and a fresh bucket (`createdb`, `create_bucket`), then a look for every colis
and every photo in the copy: each colis row (numéro, price, version, photo names, photo
status) equal, each photo a colis names present in the new bucket, every object's SHA-256
equal, the tables' row counts equal.

{table(["what", "source", "restored", "check"], rows)}

Backup: {backup_s:.1f} s, {size / 2**20:.1f} MiB ({manifest}). Restore (pg_restore, the
bucket upload, `manage.py migrate`): {restore_s:.1f} s. Seeding took {seed_s:.0f} s.
Colis rows equal: {"yes" if src_rows == dst_rows else "NO"}; photos named by a colis and
missing from the restored bucket: {len(missing_photos)}.

**{"Restore drill: every colis and every photo came back." if ok else "Restore drill FAILED."}**
"""
    report.write_section("restore", md)
    if not ok:
        raise SystemExit(md)
    return md
