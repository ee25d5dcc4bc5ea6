#!/usr/bin/env bash
# Makes sure a Consul binary is available and prints where it is.
# Uses `consul` on PATH when present; otherwise builds the pinned release with
# Go from the Go module proxy through the wrapper module in tools/consul,
# into a cache keyed by version. A second run finds the cached binary.
# Prints the binary's path as the last line on stdout (for callers).
source "$(dirname "$0")/lib.sh"

consul_bin="$CACHE_DIR/consul/$CONSUL_VERSION/consul"

step "consul: binary $CONSUL_VERSION" >&2
if [ -z "${CONSUL_FORCE_BUILD:-}" ] && command -v consul >/dev/null 2>&1; then
  consul_bin=$(command -v consul)
  skip "consul on PATH: $consul_bin" >&2
elif [ -x "$consul_bin" ]; then
  skip "cached build: $consul_bin" >&2
else
  info "building Consul $CONSUL_VERSION from the Go module proxy (first time: several minutes, ~1 GB module cache)" >&2
  build_go_tool consul consul github.com/hashicorp/consul "$consul_bin"
fi
"$consul_bin" version | sed -n 1p >&2
echo "$consul_bin"
