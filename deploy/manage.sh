#!/usr/bin/env bash
# `manage.py` with the settings of /etc/colis/colis.env (COLIS_ENV=<file> for another), as the
# systemd units have them:  deploy/manage.sh migrate ; deploy/manage.sh collectstatic --noinput
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
load_env "${COLIS_ENV:-/etc/colis/colis.env}"
cd "$COLIS_APP"
exec "$COLIS_PYTHON" manage.py "$@"
