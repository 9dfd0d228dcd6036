#!/usr/bin/env bash
# Run a command with the local settings kept in .state/ (never in git) where the caller set none:
# DATABASE_URL written by ensure-postgis.sh, and a SECRET_KEY made once for this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DATABASE_URL:-}" ] && [ -s .state/database_url ]; then
  DATABASE_URL="$(cat .state/database_url)"
  export DATABASE_URL
fi
if [ -z "${SECRET_KEY:-}" ]; then
  mkdir -p .state
  [ -s .state/secret_key ] || (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(32))' > .state/secret_key)
  SECRET_KEY="$(cat .state/secret_key)"
  export SECRET_KEY
fi
exec "$@"
