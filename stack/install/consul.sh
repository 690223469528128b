#!/usr/bin/env bash
# Builds Consul from its Go module (not in Debian; `go install` refuses its replace directives). SPEC §12.
source "$(dirname "$0")/common.sh"
VERSION="${CONSUL_VERSION:-1.22.7}"
BIN="$HEIMDALL_CACHE/bin/consul-$VERSION"
[ -x "$BIN" ] && { echo "$BIN"; exit 0; }
SRC="$HEIMDALL_CACHE/src/consul-$VERSION"
if [ ! -f "$SRC/.prepared" ]; then
  mkdir -p "$HEIMDALL_CACHE/src"
  go_module_dir github.com/hashicorp/consul "v$VERSION" "$SRC"
  (
    cd "$SRC"
    for m in api envoyextensions proto-public sdk troubleshoot; do
      go mod edit -dropreplace="github.com/hashicorp/consul/$m"
    done
    # Older api modules lack fields this Consul uses; v1.35 needs a newer Go than Debian's machines carry.
    go mod edit -require=github.com/hashicorp/consul/api@v1.34.1
  )
  touch "$SRC/.prepared"
fi
mkdir -p "$HEIMDALL_CACHE/bin"
(cd "$SRC" && CGO_ENABLED=0 go build -mod=mod -o "$BIN.tmp" .) >&2
mv "$BIN.tmp" "$BIN"
echo "$BIN"
