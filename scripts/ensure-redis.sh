#!/usr/bin/env bash
# Make sure Redis answers on 127.0.0.1:6379 (the rate-limit tests use database 15), starting it if needed.
set -euo pipefail

if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then exit 0; fi
if ! command -v redis-server >/dev/null; then
  echo "error: no Redis on 127.0.0.1:6379 and redis-server is not installed (apt-get install redis-server)" >&2
  exit 1
fi
echo "starting Redis"
mkdir -p /var/lib/redis /var/log/redis
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --dir /var/lib/redis --logfile /var/log/redis/exchange-tests.log
for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && exit 0; sleep 0.5; done
echo "error: Redis did not start" >&2
exit 1
