"""A real S3 API for the tests: moto's standalone server, started once per session as the
embedded Redis is, and a fresh bucket per test that STORAGES points at (photos and raw
uploads, as server/settings.py sets them from S3_*)."""

import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest

from server.settings import s3_storages

KEYS = {"S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test", "S3_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto_server did not start")


@pytest.fixture(scope="session")
def s3_server():
    """moto_server on a free port; its endpoint URL."""
    binary = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    port = free_port()
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def s3_env(endpoint: str, bucket: str) -> dict:
    return {**KEYS, "S3_ENDPOINT_URL": endpoint, "S3_BUCKET": bucket}


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test",
                        aws_secret_access_key="test", region_name="us-east-1")


@pytest.fixture
def s3(s3_server, settings):
    """A fresh bucket holding photos and raw uploads for this test: {env, client, bucket}."""
    bucket = f"colis-{uuid.uuid4().hex[:12]}"
    client = s3_client(s3_server)
    client.create_bucket(Bucket=bucket)
    env = s3_env(s3_server, bucket)
    settings.STORAGES = {**settings.STORAGES, **s3_storages(env, settings.PHOTO_URL_EXPIRES)}
    return {"env": env, "client": client, "bucket": bucket}


def keys(s3: dict, prefix: str = "") -> list[str]:
    """The bucket's object keys under `prefix`."""
    answer = s3["client"].list_objects_v2(Bucket=s3["bucket"], Prefix=prefix)
    return sorted(obj["Key"] for obj in answer.get("Contents", []))
