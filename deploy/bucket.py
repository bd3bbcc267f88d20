"""Copy a bucket's objects to a directory and back (deploy/backup.sh, deploy/restore.sh).

    python deploy/bucket.py download DIR     # every object of S3_BUCKET → DIR/<key>
    python deploy/bucket.py upload DIR       # DIR/<key> → S3_BUCKET, same keys

The bucket and its credentials come from the same S3_* settings as the app's
(deploy/colis.env.example). A key is a file path under DIR; keys the app writes are
`<prefix>/colis/<name>.jpg` and `<prefix>/<uuid>` (no `..`, no leading `/`), and a key that
would leave DIR is refused. Prints `objects bytes` on success.
"""

import os
import sys
from pathlib import Path

import boto3


def client():
    return boto3.client(
        "s3", endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
        aws_access_key_id=os.environ.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        region_name=os.environ.get("S3_REGION") or None)


def inside(root: Path, key: str) -> Path:
    path = (root / key).resolve()
    if not path.is_relative_to(root.resolve()) or key.endswith("/"):
        raise ValueError(f"refusing key {key!r}")
    return path


def download(s3, bucket: str, root: Path) -> tuple[int, int]:
    count = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            path = inside(root, obj["Key"])
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(path))
            count, size = count + 1, size + obj["Size"]
    return count, size


def upload(s3, bucket: str, root: Path) -> tuple[int, int]:
    count = size = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, path.relative_to(root).as_posix())
        count, size = count + 1, size + path.stat().st_size
    return count, size


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("download", "upload"):
        print(__doc__, file=sys.stderr)
        return 2
    bucket = os.environ.get("S3_BUCKET")
    if not bucket:
        print("S3_BUCKET is not set", file=sys.stderr)
        return 2
    root = Path(argv[1])
    root.mkdir(parents=True, exist_ok=True)
    count, size = (download if argv[0] == "download" else upload)(client(), bucket, root)
    print(count, size)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
