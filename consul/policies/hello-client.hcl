# The HelloService client: finds the instances, nothing more.
service "HelloService" {
  policy = "read"
}
node_prefix "" {
  policy = "read"
}
