# dc2's Consul server (PROFILE=multi-dc): replicates dc1's ACL policies and
# tokens, what Consul's ACL replication needs and nothing more.
acl = "write"
operator = "write"
service_prefix "" {
  policy = "read"
  intentions = "read"
}
