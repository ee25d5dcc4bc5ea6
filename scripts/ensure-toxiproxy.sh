#!/usr/bin/env bash
# Makes sure toxiproxy-server (the network faults' proxy, chaos/toxiproxy/) is
# built and prints where it is. Builds the pinned release with Go from the Go
# module proxy through the wrapper module in tools/toxiproxy, into a cache
# keyed by version; a second run finds the cached binary. No registry image:
# none can be pulled here. Prints the binary's path as the last line on stdout
# (for callers: the tests' TOXIPROXY_BIN).
source "$(dirname "$0")/lib.sh"

toxiproxy_bin="$CACHE_DIR/toxiproxy/$TOXIPROXY_VERSION/toxiproxy-server"

step "toxiproxy: toxiproxy-server $TOXIPROXY_VERSION" >&2
if [ -x "$toxiproxy_bin" ]; then
  skip "cached build: $toxiproxy_bin" >&2
else
  info "building it from the Go module proxy (first time: about 30 s, ~130 MB module cache)" >&2
  # Its releases set the version it reports (--version, GET /version) this way; otherwise "git".
  build_go_tool toxiproxy toxiproxy github.com/Shopify/toxiproxy/v2/cmd/server "$toxiproxy_bin" \
    "-X github.com/Shopify/toxiproxy/v2.Version=$TOXIPROXY_VERSION"
fi
"$toxiproxy_bin" --version >&2
echo "$toxiproxy_bin"
