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
  single | ha) ;;
  *) refuse profile "unknown PROFILE \"$PROFILE\" (known: single, ha)" ;;
esac

# The most instances this 2-core machine serves healthy within 90 s of make up
# (measured with 50; docs/figures): more start more Node processes at once than
# two cores bring to health before compose's wait gives up.
MAX_HELLO_REPLICAS=60
replicas="${HELLO_REPLICAS:-3}"
[[ "$replicas" =~ ^[0-9]+$ ]] || refuse replicas "HELLO_REPLICAS must be a whole number of instances from 1 to $MAX_HELLO_REPLICAS (got \"$replicas\")"
((10#$replicas >= 1)) || refuse replicas "HELLO_REPLICAS must be at least 1: the client needs an instance to call (got $replicas)"
((10#$replicas <= MAX_HELLO_REPLICAS)) ||
  refuse replicas "HELLO_REPLICAS=$replicas is more than this lab runs: at most $MAX_HELLO_REPLICAS instances (on 2 cores more do not become healthy within compose's wait)"
