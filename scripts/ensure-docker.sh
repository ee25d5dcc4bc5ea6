#!/usr/bin/env bash
# Makes sure a Docker engine answers and Compose v2 is present.
# On Debian as root it installs what is missing and starts dockerd;
# anywhere else it says what to install and exits non-zero.
source "$(dirname "$0")/lib.sh"

step "docker: engine"
if docker_answers; then
  skip "docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
else
  if ! command -v dockerd >/dev/null 2>&1; then
    is_debian_root ||
      fail docker "no Docker engine answers; install Docker Engine and Compose v2 (https://docs.docker.com/engine/install/), start it, and retry"
    info "installing Debian's docker.io (about 30 s)"
    apt_install docker docker.io
  fi
  if ! docker_answers; then
    is_debian_root ||
      fail docker "dockerd is installed but does not answer; start the Docker service and retry"
    info "starting dockerd in the background (log: /var/log/dockerd.log)"
    nohup dockerd >/var/log/dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
      docker_answers && break
      sleep 1
    done
    docker_answers ||
      fail docker "dockerd did not answer within 60 s; read /var/log/dockerd.log"
  fi
  info "docker engine $(docker version --format '{{.Server.Version}}') answers"
fi

step "docker: compose v2 plugin"
if docker compose version >/dev/null 2>&1; then
  skip "$(docker compose version)"
else
  is_debian_root ||
    fail compose "docker compose (v2) is missing; install the Docker Compose plugin and retry"
  # Debian 12 ships only Compose v1. Trixie's docker-compose (the version in
  # versions.env) is a static Go binary that runs there; fetch that one .deb
  # without adding trixie to the system's sources, and unpack only the plugin.
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || fail compose "cannot find the Debian mirror in /etc/apt; install the Docker Compose v2 plugin by hand"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "deb $mirror trixie main" >"$work/trixie.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$work/trixie.list" -o "Dir::Etc::sourceparts=-"
    -o "APT::Get::List-Cleanup=0" -o "Dir::State::Lists=$work/lists")
  mkdir -p "$work/lists/partial"
  info "downloading docker-compose $COMPOSE_DEB_VERSION from Debian trixie"
  apt-get "${apt_opts[@]}" update -qq >"$LOG_DIR/compose-apt.log" 2>&1 ||
    fail compose "apt-get update for trixie failed (log: $LOG_DIR/compose-apt.log)"
  (cd "$work" && apt-get "${apt_opts[@]}" download "docker-compose=$COMPOSE_DEB_VERSION") \
    >>"$LOG_DIR/compose-apt.log" 2>&1 ||
    fail compose "downloading docker-compose $COMPOSE_DEB_VERSION failed (log: $LOG_DIR/compose-apt.log)"
  dpkg-deb -x "$work"/docker-compose_*.deb "$work/root"
  install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" \
    /usr/libexec/docker/cli-plugins/docker-compose
  docker compose version >/dev/null 2>&1 ||
    fail compose "the installed plugin does not run; remove /usr/libexec/docker/cli-plugins/docker-compose and retry"
  info "$(docker compose version)"
fi
