# The chaos runner's network helper, run in a target container's network
# namespace (with NET_ADMIN only), the way Pumba does: iptables drops its
# packets (partition, packet-loss) or redirects its port to Toxiproxy; `ss -K`
# resets the connections already open; toxiproxy-server (built from the Go
# module proxy by scripts/ensure-toxiproxy.sh, copied into the context) is the
# long-lived sidecar that latency, bandwidth, reset-peer and blackhole go
# through; libfaketime is what clock-skew preloads into an instance started
# with its clock off (copied from here into a volume). The one image whose
# build fetches packages (iptables, iproute2, libfaketime, from Debian's
# mirror over HTTP); the targets themselves carry no network tools.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iptables iproute2 libfaketime >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && iptables --version && ss --version && test -f /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
COPY toxiproxy-server /usr/local/bin/toxiproxy-server
RUN toxiproxy-server --version
