# The web UI, read only: services, nodes, checks and keys, no change.
service_prefix "" {
  policy = "read"
}
node_prefix "" {
  policy = "read"
}
key_prefix "" {
  policy = "read"
}
