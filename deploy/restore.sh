#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into a fresh, empty database and bucket:
#
#   createdb -h db.internal -U postgres -O colis colis_restored
#   DATABASE_URL=postgres://colis:...@db.internal:5432/colis_restored \
#   S3_BUCKET=colis-photos-restored deploy/restore.sh /var/backups/colis/colis-20261203T020000Z
#
# Settings as for backup.sh (/etc/colis/colis.env, the environment winning). The database must
# exist and be empty, the bucket must exist: this script never drops anything. Without
# S3_BUCKET a backup's media.tar goes back into MEDIA_ROOT. Then `manage.py migrate` (a no-op
# when the code is the backup's version) and a count of what came back.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
load_env "${COLIS_ENV:-/etc/colis/colis.env}"

dir=${1:?usage: restore.sh BACKUP_DIR}
[ -f "$dir/db.dump" ] || { echo "no $dir/db.dump" >&2; exit 1; }
: "${DATABASE_URL:?DATABASE_URL is not set}"
tables=$(psql -X -A -t -d "$DATABASE_URL" -c \
  "select count(*) from information_schema.tables where table_schema = 'public'")
[ "$tables" = 0 ] || { echo "the target database is not empty ($tables tables)" >&2; exit 1; }

pg_restore --no-owner --no-privileges --exit-on-error --dbname="$DATABASE_URL" "$dir/db.dump"
if [ -d "$dir/bucket" ]; then
  : "${S3_BUCKET:?S3_BUCKET is not set (the backup holds a bucket)}"
  "$COLIS_PYTHON" "$here/bucket.py" upload "$dir/bucket" >/dev/null
elif [ -f "$dir/media.tar" ]; then
  media=${MEDIA_ROOT:-${VAR_DIR:-$here/../var}/media}
  mkdir -p "$media"
  tar -C "$media" -xf "$dir/media.tar"
fi
(cd "$COLIS_APP" && "$COLIS_PYTHON" manage.py migrate --noinput -v 0)
psql -X -A -t -d "$DATABASE_URL" -c "select 'colis ' || count(*) from cargo_colis"
