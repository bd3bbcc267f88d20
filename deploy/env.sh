# Sourced by backup.sh and restore.sh: read a systemd EnvironmentFile (KEY=value lines) without
# evaluating it as shell (values may hold $, quotes, spaces). Variables already set win.
COLIS_APP=${COLIS_APP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
COLIS_PYTHON=${COLIS_PYTHON:-$COLIS_APP/.venv/bin/python}

load_env() {
  local file=$1 line key value
  [ -r "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    case "$value" in \"*\" | \'*\') value=${value:1:${#value}-2} ;; esac  # systemd strips them too
    [[ $key =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
    [ -n "${!key+x}" ] || export "$key=$value"
  done < "$file"
}
