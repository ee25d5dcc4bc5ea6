# The Consul agent itself: registers its node and syncs what is registered with it.
node_prefix "" {
  policy = "write"
}
service_prefix "" {
  policy = "read"
}
