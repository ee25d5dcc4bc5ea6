# PROFILE=single (the default): one server, its own quorum.
bootstrap_expect = 1
