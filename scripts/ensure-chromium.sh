#!/usr/bin/env bash
# The chaos report is tested in a real browser: makes sure headless Chromium
# is there (Debian's package on Debian as root) and prints its path last.
source "$(dirname "$0")/lib.sh"

step "browser: chromium for the report test" >&2
for candidate in "${CHROMIUM:-}" chromium chromium-browser google-chrome; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then
    skip "$(command -v "$candidate")" >&2
    command -v "$candidate"
    exit 0
  fi
done
is_debian_root || fail browser "Chromium is missing; install it (or set CHROMIUM=/path/to/chrome) and retry"
info "installing Debian's chromium (about a minute)" >&2
apt_install browser chromium
command -v chromium
