#!/usr/bin/env bash
# Checks make's settings before anything is built or started: one line naming
# what is wrong, exit 2. Reads PROFILE and HELLO_REPLICAS from the environment
# (the Makefile exports them).
set -euo pipefail

refuse() {
  printf 'error: [%s] %s\n' "$1" "$2" >&2
  exit 2
}

case "${PROFILE:-single}" in
  single | ha | multi-dc) ;;
  *) refuse profile "unknown PROFILE \"$PROFILE\" (known: single, ha, multi-dc)" ;;
esac

# The most instances measured to come up healthy here (2 cores): 50, in 42 s
# of make up (docs/idle-cost.md). Memory is not what binds (about 37 MiB an
# instance); starting them is: every instance starts Node at once, and past
# what was measured nothing says two cores bring them to health in time.
MAX_HELLO_REPLICAS=50
replicas="${HELLO_REPLICAS:-3}"
[[ "$replicas" =~ ^[0-9]+$ ]] || refuse replicas "HELLO_REPLICAS must be a whole number of instances from 1 to $MAX_HELLO_REPLICAS (got \"$replicas\")"
((10#$replicas >= 1)) || refuse replicas "HELLO_REPLICAS must be at least 1: the client needs an instance to call (got $replicas)"
((10#$replicas <= MAX_HELLO_REPLICAS)) ||
  refuse replicas "HELLO_REPLICAS=$replicas is more than this lab runs: at most $MAX_HELLO_REPLICAS instances (the most measured to come up healthy on 2 cores)"
