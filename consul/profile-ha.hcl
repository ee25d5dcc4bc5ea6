# PROFILE=ha: three servers that find each other by name, a quorum of two.
# They check each other's certificates (verify_incoming, verify_server_hostname
# in server.hcl); gossip is encrypted with the key in consul-acl.hcl.
bootstrap_expect = 3
retry_join = ["consul", "consul-2", "consul-3"]
