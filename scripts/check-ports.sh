#!/usr/bin/env bash
# Fails early, with one line, when a port the stack publishes is taken by
# something other than the stack itself.
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_ROOT"

step "ports: published ports are free"
ours=$(docker compose ps -q 2>/dev/null || true)
for spec in "CONSUL_UI_PORT:${CONSUL_UI_PORT:-8501}" "CLIENT_STATS_PORT:${CLIENT_STATS_PORT:-9464}"; do
  name=${spec%%:*}
  port=${spec#*:}
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    [ -n "$ours" ] && { skip "port $port is the running stack's"; continue; }
    fail ports "port $port is already in use by another program; free it or run: make up $name=<free port>"
  fi
  info "port $port is free"
done
