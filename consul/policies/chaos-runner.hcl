# The chaos runner and the e2e suite: read what Consul holds (instances, checks,
# Raft peers to find the leader) and set the gray faults.
service_prefix "" {
  policy = "read"
}
node_prefix "" {
  policy = "read"
}
operator = "read"
key_prefix "grpc-consul-lab/faults/" {
  policy = "write"
}
