# A HelloService instance: registers itself (and only under its own name), keeps
# its checks, reads the gray faults meant for it.
service "HelloService" {
  policy = "write"
}
node_prefix "" {
  policy = "read"
}
key_prefix "grpc-consul-lab/faults/" {
  policy = "read"
}
