# Shared helpers for the provisioning scripts. Sourced, never run.
# Every step announces itself, says when it skips work already done, and on
# failure prints ONE line naming the step and what to do, then exits non-zero.

set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Downloads and builds live outside the tracked tree, keyed by version.
CACHE_DIR="${GRPC_CONSUL_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/grpc-consul-lab}"
LOG_DIR="$CACHE_DIR/logs"
mkdir -p "$LOG_DIR"

# Pinned versions: versions.env (Node, the Debian release, the Compose package) and,
# for the Go tools, their wrapper modules' require lines (what the Go builds use).
# shellcheck source=../versions.env
. "$PROJECT_ROOT/versions.env"
# go_pin WRAPPER MODULE: the version (without the v) tools/WRAPPER/go.mod requires of MODULE.
go_pin() {
  local version
  version=$(awk -v module="$2" '$1 == module { sub(/^v/, "", $2); print $2 }' "$PROJECT_ROOT/tools/$1/go.mod")
  [ -n "$version" ] || { printf 'error: [versions] tools/%s/go.mod requires no %s\n' "$1" "$2" >&2; exit 1; }
  echo "$version"
}
CONSUL_VERSION="$(go_pin consul github.com/hashicorp/consul)"
# The hello containers' healthcheck.
GRPC_HEALTH_PROBE_VERSION="$(go_pin grpc-health-probe github.com/grpc-ecosystem/grpc-health-probe)"
# The network faults' proxy (chaos/toxiproxy/).
TOXIPROXY_VERSION="$(go_pin toxiproxy github.com/Shopify/toxiproxy/v2)"
# Official images, used when the engine can pull them.
OFFICIAL_NODE_IMAGE="node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim"
OFFICIAL_CONSUL_IMAGE="hashicorp/consul:${CONSUL_VERSION}"
# Local equivalents built when no registry answers.
LOCAL_DEBIAN_IMAGE="grpc-consul-lab/debian:${DEBIAN_RELEASE}"
LOCAL_NODE_IMAGE="grpc-consul-lab/node:${NODE_VERSION}-${DEBIAN_RELEASE}"
LOCAL_CONSUL_IMAGE="grpc-consul-lab/consul:${CONSUL_VERSION}"
# The chaos runner's helper (iptables, ss, toxiproxy-server, libfaketime); always built here.
NETFAULT_IMAGE="grpc-consul-lab/netfault:${DEBIAN_RELEASE}-toxiproxy${TOXIPROXY_VERSION}-faketime"

step() { printf '==> %s\n' "$*"; }
skip() { printf '    %s (already there, skipped)\n' "$*"; }
info() { printf '    %s\n' "$*"; }

# fail STEP WHAT-TO-DO: the one line a user needs, on stderr.
fail() {
  printf 'error: [%s] %s\n' "$1" "$2" >&2
  exit 1
}

is_debian_root() {
  [ -r /etc/debian_version ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

apt_updated=0
apt_install() {
  local step_name="$1"; shift
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq >"$LOG_DIR/apt-update.log" 2>&1 ||
      fail "$step_name" "apt-get update failed (log: $LOG_DIR/apt-update.log); check access to Debian's package mirror"
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    >"$LOG_DIR/apt-install.log" 2>&1 ||
    fail "$step_name" "apt-get install $* failed (log: $LOG_DIR/apt-install.log)"
}

# build_go_tool STEP WRAPPER-DIR PACKAGE OUTPUT [LDFLAGS]: builds a Go program from the
# module proxy through its wrapper module in tools/ (which pins its version
# and dependencies) into OUTPUT, a path keyed by version; a second call finds it.
# LDFLAGS are added to the linker's (-X: a version string the release build would set).
build_go_tool() {
  local step_name="$1" wrapper="$2" package="$3" output="$4" ldflags="${5:-}"
  [ -x "$output" ] && return 0
  mkdir -p "$(dirname "$output")"
  # Provisioning runs lanes at once: a second caller waits for the first's build.
  local lock
  exec {lock}>"$output.lock"
  flock "$lock"
  [ -x "$output" ] && return 0
  command -v go >/dev/null 2>&1 ||
    fail "$step_name" "Go is not installed; install Go 1.26 or later and retry"
  local log="$LOG_DIR/$step_name-build.log"
  # CGO off gives a static binary that also runs in a minimal image.
  if ! (cd "$PROJECT_ROOT/tools/$wrapper" &&
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $ldflags" -o "$output.partial" "$package") >"$log" 2>&1; then
    rm -f "$output.partial"
    fail "$step_name" "go build of $package failed (log: $log); check the Go module proxy (GOPROXY) and disk space"
  fi
  mv "$output.partial" "$output"
}

docker_answers() { timeout 10 docker info >/dev/null 2>&1; }
