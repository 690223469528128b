#!/usr/bin/env bash
# Installs PostgreSQL, Redis or the browser of the console's tests (Chromium with the Nanum fonts for Korean) from
# Debian's packages when missing, and prints where its binaries are.
# Usage: debian.sh postgres|redis|chromium
source "$(dirname "$0")/common.sh"

apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null \
      || die "installing $* needs root or password-less sudo: run 'sudo apt-get install -y $*' once, then retry"
    sudo=(sudo -n)
  fi
  need apt-get "this recipe installs Debian packages; on another system install $* yourself"
  # Two recipes may run at once; apt allows one install at a time.
  exec 9>"$HEIMDALL_CACHE/apt.lock"
  flock 9
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

postgres_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

case "${1:-}" in
  postgres)
    bin=$(postgres_bin)
    if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
      apt_install postgresql
      bin=$(postgres_bin)
    fi
    [ -x "$bin/postgres" ] || die "PostgreSQL binaries not found under /usr/lib/postgresql after install"
    id postgres >/dev/null 2>&1 || die "the Debian package did not create the postgres user"
    echo "$bin"
    ;;
  redis)
    command -v redis-server >/dev/null 2>&1 || apt_install redis-server
    command -v redis-server
    ;;
  chromium)
    # Playwright's own browser download cannot work here; Debian's Chromium is driven by playwright-core instead.
    if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi nanum; then
      apt_install chromium fonts-nanum
    fi
    command -v chromium
    ;;
  *) die "usage: debian.sh postgres|redis|chromium" ;;
esac
