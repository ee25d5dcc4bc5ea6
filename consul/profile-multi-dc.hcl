# PROFILE=multi-dc, datacenter dc1: the primary. One server, its own quorum,
# federated over the WAN with dc2's server (consul-dc2, consul/profile-multi-dc-dc2.hcl).
# ACLs live here: dc2 replicates policies and tokens from this datacenter.
# WAN gossip is encrypted with the same key as LAN gossip (consul-acl.hcl);
# server RPC across the WAN is mutual TLS that checks server.<dc>.consul
# (verify_server_hostname in server.hcl).
bootstrap_expect = 1
primary_datacenter = "dc1"
retry_join_wan = ["consul-dc2"]
# Consul's default is 30 s between WAN join attempts: a federation that waits
# that long at start-up, or after dc2 comes back, is slower than the lab needs.
retry_interval_wan = "2s"
