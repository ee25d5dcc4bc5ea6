#!/bin/sh
# await-wan.sh DC...: waits until every named datacenter answers across the
# WAN of the Consul server at CONSUL_HTTP_ADDR (PROFILE=multi-dc: dc2 joined
# to dc1): its server alive in the WAN gossip pool (which needs the same
# gossip key) and a query forwarded to it answered (server RPC over mutual
# TLS, which needs a certificate of the same CA naming server.<dc>.consul).
# One that does not within WAN_JOIN_TIMEOUT_S (default 60) gets one line
# naming it, and exit 1: nothing after it could work.
set -eu
: "${CONSUL_HTTP_ADDR:?}"
timeout=${WAN_JOIN_TIMEOUT_S:-60}
start=$(date +%s)

# `consul members -wan`: Node Address Status Type Build Protocol DC ...
in_wan_pool() { consul members -wan 2>/dev/null | awk -v dc="$1" '$3 == "alive" && $7 == dc { found = 1 } END { exit !found }'; }
answers_rpc() { consul catalog nodes -datacenter "$1" >/dev/null 2>&1; }

for dc in "$@"; do
  until in_wan_pool "$dc" && answers_rpc "$dc"; do
    if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
      if in_wan_pool "$dc"; then why="its server gossips but does not answer over TLS: its certificate is not from this CA or does not name server.$dc.consul"; else why="its server is not in the WAN pool: its gossip key is not this one's, or it cannot be reached"; fi
      echo "error: [wan] datacenter $dc has not joined the WAN of $CONSUL_HTTP_ADDR in ${timeout} s: $why (its server's log says more)" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "await-wan: datacenter $dc answers across the WAN"
done
