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
  command -v go >/dev/null 2>&1 ||
    fail consul "Go is not installed; install Go 1.25 or later (or put consul on PATH) and retry"
  info "building Consul $CONSUL_VERSION from the Go module proxy (first time: several minutes, ~1 GB module cache)" >&2
  mkdir -p "$(dirname "$consul_bin")"
  log="$LOG_DIR/consul-build.log"
  # CGO off gives a static binary that also runs in a minimal image.
  if ! (cd "$PROJECT_ROOT/tools/consul" &&
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" \
      -o "$consul_bin.partial" github.com/hashicorp/consul) >"$log" 2>&1; then
    rm -f "$consul_bin.partial"
    fail consul "go build of Consul $CONSUL_VERSION failed (log: $log); check the Go module proxy (GOPROXY) and disk space"
  fi
  mv "$consul_bin.partial" "$consul_bin"
fi
"$consul_bin" version | sed -n 1p >&2
echo "$consul_bin"
