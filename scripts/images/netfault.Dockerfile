# The chaos runner's partition helper: iptables, run for a moment in a target
# container's network namespace (with NET_ADMIN only) to drop its packets, the
# way Pumba does. The one image whose build fetches a package (iptables, from
# Debian's mirror over HTTP); the targets themselves carry no network tools.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iptables >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && iptables --version
