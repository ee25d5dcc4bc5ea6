#!/usr/bin/env bash
# Fails early, with one line, when a port the stack publishes is taken by
# something other than the stack itself.
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_ROOT"

step "ports: published ports are free"
# The stack's own ports are not in the way: make up's, or a swarm stack's (SWARM_STACK).
if [ -n "${SWARM_STACK:-}" ]; then
  ours=$(docker ps -q --filter "label=com.docker.stack.namespace=$SWARM_STACK" 2>/dev/null || true)
else
  ours=$(docker compose ps -q 2>/dev/null || true)
fi
specs=("CONSUL_UI_PORT:${CONSUL_UI_PORT:-8501}" "CLIENT_STATS_PORT:${CLIENT_STATS_PORT:-9464}")
[ "${PROFILE:-single}" != ha ] || specs+=("CONSUL_2_PORT:${CONSUL_2_PORT:-8502}" "CONSUL_3_PORT:${CONSUL_3_PORT:-8503}")
[ "${PROFILE:-single}" != multi-dc ] || specs+=("CONSUL_DC2_PORT:${CONSUL_DC2_PORT:-8504}")
for spec in "${specs[@]}"; do
  name=${spec%%:*}
  port=${spec#*:}
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    [ -n "$ours" ] && { skip "port $port is the running stack's"; continue; }
    fail ports "port $port is already in use by another program; free it or run: make ${SWARM_STACK:+swarm-}up $name=<free port>"
  fi
  info "port $port is free"
done
