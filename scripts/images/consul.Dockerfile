# Local stand-in for the official hashicorp/consul image, built when no
# registry answers: a debootstrapped Debian (DEBIAN_RELEASE, versions.env) plus
# the Consul binary built from the Go module proxy (tools/consul/go.mod).
# Same entrypoint convention: arguments go to consul.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
COPY consul /usr/local/bin/consul
RUN useradd --system --home-dir /consul --create-home consul \
 && mkdir -p /consul/data /consul/config && chown -R consul /consul \
 && consul version
USER consul
ENTRYPOINT ["consul"]
CMD ["agent", "-dev", "-client", "0.0.0.0"]
