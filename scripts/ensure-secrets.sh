#!/usr/bin/env bash
# Makes sure the lab's secrets exist in .secrets/ (git-ignored, readable only
# by you): a CA made by `consul tls ca create`, certificates for the Consul
# server(s), the HelloService instances and their client, a gossip key, and
# one ACL token per role. Made once and kept; a certificate that expires
# within a day is made again (the CA too, and then everything it signed).
# Nothing secret is printed.
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_ROOT"

dir="${SECRETS_DIR:-$PROJECT_ROOT/.secrets}"
consul_bin=$("$PROJECT_ROOT/scripts/ensure-consul.sh" | tail -n 1)

step "secrets: CA, certificates, gossip key, ACL tokens in ${dir#"$PROJECT_ROOT"/}"
mkdir -p "$dir" && chmod 700 "$dir"

# expires_soon FILE: true when the certificate is missing or ends within a day.
expires_soon() {
  [ -s "$1" ] || return 0
  ! node -e 'const { X509Certificate } = require("node:crypto");
    const end = Date.parse(new X509Certificate(require("node:fs").readFileSync(process.argv[1])).validTo);
    process.exit(end - Date.now() > 86400000 ? 0 : 1)' "$1"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# cert NAME KIND [extra args]: a certificate signed by our CA, kept as NAME.pem / NAME-key.pem.
# DC (default dc1) is the datacenter a server certificate names: server.DC.consul.
cert() {
  local name="$1" kind="$2" dc="${DC:-dc1}"
  shift 2
  if expires_soon "$dir/$name.pem"; then
    (cd "$work" && rm -f ./*-consul-*.pem &&
      "$consul_bin" tls cert create "$kind" -dc "$dc" -days 365 -ca "$dir/ca.pem" -key "$dir/ca-key.pem" "$@" >/dev/null) ||
      fail secrets "consul tls cert create $kind for $name failed"
    mv "$work"/"$dc"-*-consul-0.pem "$dir/$name.pem"
    mv "$work"/"$dc"-*-consul-0-key.pem "$dir/$name-key.pem"
    info "certificate $name made"
  fi
}

renewed_ca=0
if expires_soon "$dir/ca.pem"; then
  (cd "$work" && "$consul_bin" tls ca create -days 1825 >/dev/null) || fail secrets "consul tls ca create failed"
  mv "$work/consul-agent-ca.pem" "$dir/ca.pem"
  mv "$work/consul-agent-ca-key.pem" "$dir/ca-key.pem"
  renewed_ca=1
  info "CA made (5 years)"
fi
# A new CA invalidates every certificate signed by the old one.
[ "$renewed_ca" = 0 ] || rm -f "$dir"/consul*.pem "$dir"/hello*.pem "$dir"/client*.pem

# The Consul server(s): every name a client or another server may use, and loopback.
cert consul -server -additional-dnsname consul -additional-dnsname consul-1 -additional-dnsname consul-2 \
  -additional-dnsname consul-3 -additional-dnsname localhost
# PROFILE=multi-dc's second datacenter: its server proves server.dc2.consul to dc1's over the WAN.
DC=dc2 cert consul-dc2 -server -additional-dnsname consul-dc2 -additional-dnsname localhost
# HelloService instances: one name that does not depend on the address (what
# clients and Consul's check verify), server and client use (the container
# healthcheck calls its own instance with it).
cert hello -client -additional-dnsname HelloService
# The HelloService client: a client certificate only.
cert client -cli

[ -s "$dir/gossip.key" ] || { "$consul_bin" keygen >"$dir/gossip.key" && info "gossip key made"; }
# replication: dc2's server copies dc1's ACLs with it (created in Consul by PROFILE=multi-dc only).
for role in management agent hello-server hello-client chaos-runner ui-read replication; do
  [ -s "$dir/$role.token" ] || { node -p 'crypto.randomUUID()' >"$dir/$role.token" && info "token $role made"; }
done
# Consul reads its management token and gossip key from config, not from files.
cat >"$dir/consul-acl.hcl.partial" <<HCL
# Written by scripts/ensure-secrets.sh. Secret.
encrypt = "$(cat "$dir/gossip.key")"
acl {
  tokens {
    initial_management = "$(cat "$dir/management.token")"
    agent = "$(cat "$dir/agent.token")"
  }
}
HCL
mv "$dir/consul-acl.hcl.partial" "$dir/consul-acl.hcl"
# dc2's server (PROFILE=multi-dc): the same gossip key (one key for LAN and
# WAN), no management token of its own (ACLs are dc1's), the token it
# replicates them with.
cat >"$dir/consul-dc2-acl.hcl.partial" <<HCL
# Written by scripts/ensure-secrets.sh. Secret.
encrypt = "$(cat "$dir/gossip.key")"
acl {
  tokens {
    agent = "$(cat "$dir/agent.token")"
    replication = "$(cat "$dir/replication.token")"
  }
}
HCL
mv "$dir/consul-dc2-acl.hcl.partial" "$dir/consul-dc2-acl.hcl"
# The directory keeps others out; the files are readable by the containers' own users.
chmod 644 "$dir"/*
skip_or_done=$(ls "$dir" | wc -l)
info "$skip_or_done files in ${dir#"$PROJECT_ROOT"/} (CA valid until $(node -p 'new (require("node:crypto").X509Certificate)(require("node:fs").readFileSync(process.argv[1])).validTo' "$dir/ca.pem"))"
