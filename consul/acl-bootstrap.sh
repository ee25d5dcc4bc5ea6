#!/bin/sh
# Creates the lab's ACL policies and tokens, once: run with the consul CLI
# (in the consul image) against a Consul whose ACLs are on, with the
# management token. Each role gets only what its job needs (consul/policies/);
# each token's secret was chosen by `make up` (.secrets/, mounted in
# /run/secrets), so the programs have their tokens before Consul does.
# Running it again changes nothing.
set -eu
: "${CONSUL_HTTP_ADDR:?}" "${CONSUL_HTTP_TOKEN_FILE:?}"
POLICIES=${POLICIES_DIR:-/consul/policies}
SECRETS=${SECRETS_DIR:-/run/secrets}

# within_a_minute FAILURE COMMAND...: COMMAND every 0.5 s until it succeeds;
# after a minute, "acl-bootstrap: FAILURE" on stderr and exit 1.
within_a_minute() {
  failure=$1
  shift
  tries=0
  until "$@"; do
    tries=$((tries + 1))
    [ "$tries" -lt 120 ] || { echo "acl-bootstrap: $failure" >&2; exit 1; }
    sleep 0.5
  done
}

has_leader() { consul operator raft list-peers >/dev/null 2>&1; }
echo "acl-bootstrap: waiting for a Consul leader"
within_a_minute "no Consul leader after 60 s" has_leader

# role: policy file, token file, description. ACL_EXTRA_ROLES: roles only a
# profile needs (PROFILE=multi-dc: replication, for dc2's server).
roles="agent hello-server hello-client chaos-runner ui-read ${ACL_EXTRA_ROLES:-}"
for role in $roles; do
  if ! consul acl policy read -name "$role" >/dev/null 2>&1; then
    consul acl policy create -name "$role" -rules "@$POLICIES/$role.hcl" >/dev/null
    echo "acl-bootstrap: policy $role created"
  fi
  secret=$(cat "$SECRETS/$role.token")
  if ! CONSUL_HTTP_TOKEN="$secret" CONSUL_HTTP_TOKEN_FILE= consul acl token read -self >/dev/null 2>&1; then
    consul acl token create -secret "$secret" -policy-name "$role" -description "grpc-consul-lab $role" >/dev/null
    echo "acl-bootstrap: token for $role created"
  fi
done

# PROFILE=multi-dc: every datacenter in WAN_DATACENTERS joined over the WAN
# (one line naming one that does not, exit 1). After the tokens above: dc2's
# server replicates ACLs with the replication token, and each of its
# attempts without it fails and backs its next one off further.
[ -z "${WAN_DATACENTERS:-}" ] || sh /consul/await-wan.sh $(echo "$WAN_DATACENTERS" | tr "," " ")

# Each agent registers its node with the agent token from now on (it is also in
# their config, for restarts); setting it here makes them sync at once.
# A server of another datacenter (PROFILE=multi-dc) resolves the management
# token through dc1 once the WAN has joined them: until then it refuses, so it
# is asked again for up to a minute.
takes_agent_token() { CONSUL_HTTP_ADDR="$1" consul acl set-agent-token agent "$(cat "$SECRETS/agent.token")" >/dev/null 2>&1; }
# Every agent holds every role's token itself before a program starts: a
# server of another datacenter (PROFILE=multi-dc) replicates them from dc1,
# and until it has, it resolves them through dc1, so losing dc1 then would
# refuse its instances' heartbeats. Its token list is its own replicated
# copy (a secondary with token replication answers it locally).
holds_every_token() {
  listed=$(CONSUL_HTTP_ADDR="$1" consul acl token list 2>/dev/null) || return 1
  for role in $roles; do
    echo "$listed" | grep -qx "Description: *grpc-consul-lab $role" || return 1
  done
}
agents=$(echo "${CONSUL_AGENTS:-$CONSUL_HTTP_ADDR}" | tr ',' ' ')
for agent in $agents; do
  within_a_minute "$agent refused the agent token for 60 s" takes_agent_token "$agent"
  echo "acl-bootstrap: agent token set on $agent"
done
for agent in $agents; do
  within_a_minute "$agent has not replicated the tokens in 60 s (its /v1/acl/replication says why)" holds_every_token "$agent"
  echo "acl-bootstrap: $agent holds every token"
done
echo "acl-bootstrap: done"
