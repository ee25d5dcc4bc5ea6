#!/usr/bin/env bash
# Makes sure grpc-health-probe (the hello containers' healthcheck) is built,
# from the Go module proxy through tools/grpc-health-probe, cached by version,
# and staged in build/bin/ where Dockerfile.server copies it from.
source "$(dirname "$0")/lib.sh"

probe_bin="$CACHE_DIR/grpc-health-probe/$GRPC_HEALTH_PROBE_VERSION/grpc_health_probe"
staged="$PROJECT_ROOT/build/bin/grpc_health_probe"

step "health probe: grpc-health-probe $GRPC_HEALTH_PROBE_VERSION"
if [ -x "$probe_bin" ]; then
  skip "cached build: $probe_bin"
else
  info "building it from the Go module proxy (first time: about a minute)"
  build_go_tool health-probe grpc-health-probe github.com/grpc-ecosystem/grpc-health-probe "$probe_bin"
fi
if ! cmp -s "$probe_bin" "$staged"; then
  mkdir -p "$(dirname "$staged")"
  cp "$probe_bin" "$staged.partial" && mv "$staged.partial" "$staged"
  info "staged in build/bin/ for the images"
fi
