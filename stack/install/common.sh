# Sourced by the install recipes: where downloads and builds are cached, and how a recipe fails.
# The cache lives outside the checkout because CI and new sessions clone afresh.
set -euo pipefail
HEIMDALL_CACHE="${HEIMDALL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/heimdall}"
mkdir -p "$HEIMDALL_CACHE"

die() { echo "heimdall install: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required: $2"; }

# Copies a Go module from the module cache into a writable build directory (the module cache is read-only).
go_module_dir() {
  local module="$1" version="$2" dest="$3"
  need go "install Go 1.24+ (https://go.dev/dl) and put it on PATH"
  local dir
  dir=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || die "go mod download $module@$version gave no directory"
  rm -rf "$dest.tmp"
  cp -r "$dir" "$dest.tmp"
  chmod -R u+w "$dest.tmp"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
}
