#!/usr/bin/env bash
# Builds Jaeger v2 (cmd/jaeger of the v1.76 module); `go install` refuses its replace directives. SPEC §12.
source "$(dirname "$0")/common.sh"
VERSION="${JAEGER_MODULE_VERSION:-1.76.0}"
BIN="$HEIMDALL_CACHE/bin/jaeger-$VERSION"
[ -x "$BIN" ] && { echo "$BIN"; exit 0; }
SRC="$HEIMDALL_CACHE/src/jaeger-$VERSION"
if [ ! -f "$SRC/.prepared" ]; then
  mkdir -p "$HEIMDALL_CACHE/src"
  go_module_dir github.com/jaegertracing/jaeger "v$VERSION" "$SRC"
  touch "$SRC/.prepared"
fi
mkdir -p "$HEIMDALL_CACHE/bin"
(cd "$SRC" && CGO_ENABLED=0 go build -mod=mod -o "$BIN.tmp" ./cmd/jaeger) >&2
mv "$BIN.tmp" "$BIN"
echo "$BIN"
