#!/usr/bin/env bash
# Measures a cold install: the stack brought up from empty caches (Heimdall's, Go's module and build caches,
# Maven's repository) and a fresh clone, on ports of its own so a running stack is not disturbed.
# Usage: bash bench/cold-install.sh   (takes 15-30 minutes on 2 cores; prints the wall time)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/heimdall-cold-XXXXXX)"
git clone -q "$repo" "$work/clone"
export HEIMDALL_CACHE="$work/cache/heimdall" GOMODCACHE="$work/cache/gomod" GOCACHE="$work/cache/gobuild"
export MAVEN_OPTS="-Dmaven.repo.local=$work/cache/m2"
export CONSUL_PORT=28500 CONSUL_SERVER_PORT=28300 CONSUL_SERF_LAN_PORT=28301 ES_PORT=29200 ES_TRANSPORT_PORT=29300 \
  JAEGER_QUERY_PORT=26686 JAEGER_QUERY_GRPC_PORT=26685 JAEGER_OTLP_GRPC_PORT=24317 JAEGER_OTLP_HTTP_PORT=24318 \
  JAEGER_THRIFT_HTTP_PORT=24268 JAEGER_THRIFT_COMPACT_PORT=26831 JAEGER_THRIFT_BINARY_PORT=26832 \
  JAEGER_HEALTH_PORT=23133 POSTGRES_PORT=25432 REDIS_PORT=26379
cd "$work/clone"
start=$(date +%s)
npm run stack -- up
end=$(date +%s)
npm run stack -- down
echo "cold install and start: $((end - start)) s (npm install included)"
chmod -R u+w "$work/cache/gomod" 2>/dev/null || true
rm -rf "$work"
