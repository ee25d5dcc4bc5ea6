# PROFILE=multi-dc, datacenter dc2 (its server starts with -datacenter=dc2).
# Secondary: ACL policies and tokens come from dc1 and are replicated here, so
# the programs' tokens (all global) still resolve while dc1 is gone; the
# replication token is in this server's consul-acl.hcl.
bootstrap_expect = 1
primary_datacenter = "dc1"
retry_join_wan = ["consul"]
retry_interval_wan = "2s"
acl {
  enable_token_replication = true
}
