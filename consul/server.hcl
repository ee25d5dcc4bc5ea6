# The lab's Consul servers, whatever the profile: state on a volume, HTTPS
# only, ACLs that deny by default. How many servers there are is the
# profile's (consul/profile-single.hcl, consul/profile-ha.hcl). Every secret
# a server reads is in /run/secrets: `make up` writes them once to .secrets/
# (never committed), and the ACL bootstrap (consul/acl-bootstrap.sh) creates
# the policies and tokens. The file with the management token and the gossip
# key, consul-acl.hcl, is one of those secrets.
datacenter = "dc1"
server = true
data_dir = "/consul/data"
client_addr = "0.0.0.0"
log_level = "warn"
# Offline lab: no calls home to check for a newer version.
disable_update_check = true
ui_config {
  enabled = true
}

# Raft's timing: production's raft_multiplier of 1 (a lost leader replaced in
# about a second) unless RAFT_MULTIPLIER says otherwise on the command line.

# Raft's log in segments of 4 MiB (Consul's default is 64), each preallocated
# when it starts: this lab's whole state is well under 1 MiB, and a data
# directory made small on purpose (make up CONSUL_DATA_SIZE=16m, for the
# disk-full fault) must hold a segment and the next.
raft_logstore {
  wal {
    segment_size_mb = 4
  }
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
