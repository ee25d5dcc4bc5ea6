#!/usr/bin/env bash
# Checks make's settings before anything is built or started: one line naming
# what is wrong, exit 2. Reads PROFILE, HELLO_REPLICAS and CONSUL_DATA_SIZE from
# the environment (the Makefile exports them).
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

# CONSUL_DATA_SIZE: each Consul server's data on a tmpfs of that size
# (docker-compose.consul-data-size.yml), held in memory. At least 16m: a
# fresh server takes 4.1 MiB (a preallocated 4 MiB Raft log segment, well
# under 1 MiB of state; consul/server.hcl), and the next segment and a Raft
# snapshot need room beside it. At most 1g: the memory it may take.
size="${CONSUL_DATA_SIZE:-}"
if [[ -n "$size" ]]; then
  [[ "$size" =~ ^([1-9][0-9]*)([mg])$ ]] || refuse consul-data-size "CONSUL_DATA_SIZE must be a size such as 64m or 1g, from 16m to 1g (got \"$size\")"
  mib=$((10#${BASH_REMATCH[1]}))
  [[ "${BASH_REMATCH[2]}" == g ]] && mib=$((mib * 1024))
  ((mib >= 16 && mib <= 1024)) || refuse consul-data-size "CONSUL_DATA_SIZE=$size is out of range: from 16m to 1g"
fi
