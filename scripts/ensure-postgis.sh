#!/usr/bin/env bash
# Make the PostGIS server behind DATABASE_URL reachable. For a server on this host (the default)
# install PostgreSQL + PostGIS from Debian if missing, create or start the cluster, and wait for it.
# A remote DATABASE_URL is left alone: its server is somebody else's to run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
url="${DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/asset_registry}"
read -r host port < <(python3 - "$url" <<'PY'
import sys
from urllib.parse import urlsplit, parse_qs
u = urlsplit(sys.argv[1])
host = u.hostname or parse_qs(u.query).get("host", [""])[0] or "localhost"
print(host, u.port or 5432)
PY
)
case "$host" in
  127.*|localhost|::1|/*) ;;
  *) echo "DATABASE_URL points at $host: not managing that server"; exit 0 ;;
esac

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  "$here/apt-ensure.sh" postgresql
fi
version="$(pg_lsclusters -h | awk -v p="$port" '$3 == p {print $1; exit}')"
if [ -z "$version" ]; then
  version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  echo "postgres: creating cluster $version/main on port $port"
  pg_createcluster "$version" main --port "$port"
fi
"$here/apt-ensure.sh" "postgresql-$version-postgis-3"
cluster="$(pg_lsclusters -h | awk -v p="$port" '$3 == p {print $2; exit}')"
if pg_lsclusters -h | awk -v p="$port" '$3 == p && $4 != "online" {found=1} END {exit !found}'; then
  echo "postgres: starting cluster $version/$cluster"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start
fi
ready=0
for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "$port"; then ready=1; break; fi
  sleep 0.5
done
if [ "$ready" -ne 1 ]; then
  echo "postgres: the server on port $port did not become ready" >&2
  exit 1
fi

# Debian's own pg_hba.conf asks for a password over TCP, which the role `postgres` does not have.
# Where DATABASE_URL was not given and that bites, give the role a random password over the
# peer-authenticated socket and remember the URL in .state/ (not in git) for the Makefile.
if [ -z "${DATABASE_URL:-}" ] && ! psql "postgresql://postgres@127.0.0.1:$port/postgres" -tAc 'select 1' >/dev/null 2>&1; then
  mkdir -p .state
  if [ ! -s .state/database_url ]; then
    password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    runuser -u postgres -- psql -p "$port" -qc "ALTER ROLE postgres PASSWORD '$password'"
    umask 077
    echo "postgresql+psycopg://postgres:$password@127.0.0.1:$port/asset_registry" > .state/database_url
    echo "postgres: password set for role postgres; URL kept in .state/database_url"
  fi
fi
