# The lab's Consul server: one server (`make up PROFILE=ha` runs three), its
# state on a volume, HTTPS only, ACLs that deny by default. Every secret it
# reads is in /run/secrets: `make up` writes them once to .secrets/ (never
# committed), and the ACL bootstrap (consul/acl-bootstrap.sh) creates the
# policies and tokens. The file with the management token and the gossip key,
# consul-acl.hcl, is one of those secrets.
datacenter = "dc1"
server = true
bootstrap_expect = 1
data_dir = "/consul/data"
client_addr = "0.0.0.0"
log_level = "warn"
ui_config {
  enabled = true
}

# Production's Raft timing: a lost leader is replaced in about a second, not five.
performance {
  raft_multiplier = 1
}

# HTTPS on 8501 and nothing else an outsider could use: no plain HTTP, no DNS, no xDS.
ports {
  http = -1
  https = 8501
  dns = -1
  grpc = -1
  grpc_tls = -1
}

tls {
  defaults {
    ca_file = "/run/secrets/ca.pem"
    cert_file = "/run/secrets/consul.pem"
    key_file = "/run/secrets/consul-key.pem"
    verify_incoming = true
    verify_outgoing = true
  }
  # API callers prove who they are with ACL tokens; a browser has no client certificate.
  https {
    verify_incoming = false
  }
  internal_rpc {
    verify_server_hostname = true
  }
}
# Consul's gRPC checks of the HelloService instances present this agent's
# certificate: the instances accept only clients with one from our CA.
enable_agent_tls_for_checks = true

acl {
  enabled = true
  default_policy = "deny"
  # The agent token set by the bootstrap survives restarts.
  enable_token_persistence = true
  # Without a leader, tokens already resolved keep working.
  down_policy = "extend-cache"
}
