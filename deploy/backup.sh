#!/usr/bin/env bash
# Back up Colis: the database (pg_dump, custom format), then the photos (every object of the
# bucket, or MEDIA_ROOT when photos are on disk), into one new dated directory:
#
#   deploy/backup.sh [DEST]        # DEST defaults to /var/backups/colis
#
# Settings: /etc/colis/colis.env (COLIS_ENV=<file> for another), variables already set in the
# environment win. Needs pg_dump of the server's major version or newer, and the app's
# virtualenv (COLIS_PYTHON, default /srv/colis/app/.venv/bin/python) for the bucket.
# Order matters: the dump first, the photos after, so every photo the dump names is in the
# backup (a photo written meanwhile is extra, never missing). Prints the directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
load_env "${COLIS_ENV:-/etc/colis/colis.env}"

dest=${1:-/var/backups/colis}
dir="$dest/colis-$(date -u +%Y%m%dT%H%M%SZ)"
[ ! -e "$dir" ] || { echo "$dir exists" >&2; exit 1; }
mkdir -p "$dir"
chmod 700 "$dir"
: "${DATABASE_URL:?DATABASE_URL is not set}"

pg_dump --format=custom --no-owner --no-privileges --file="$dir/db.dump" "$DATABASE_URL"
if [ -n "${S3_BUCKET:-}" ]; then
  read -r objects bytes < <("$COLIS_PYTHON" "$here/bucket.py" download "$dir/bucket")
  photos="bucket $S3_BUCKET: $objects objects, $bytes bytes"
else
  media=${MEDIA_ROOT:-${VAR_DIR:-$here/../var}/media}
  tar -C "$media" -cf "$dir/media.tar" .
  photos="media $media: $(tar -tf "$dir/media.tar" | grep -vc '/$') files"
fi
{
  echo "created $(date -u +%FT%TZ)"
  echo "database $(pg_restore --list "$dir/db.dump" | grep -c 'TABLE DATA') tables"
  echo "$photos"
} > "$dir/MANIFEST"
echo "$dir"
