#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432, starting an installed cluster if stopped.
set -euo pipefail

if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then exit 0; fi
if command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done
fi
echo "error: no PostgreSQL server on 127.0.0.1:5432 (install postgresql, or set TEST_POSTGRES)" >&2
exit 1
