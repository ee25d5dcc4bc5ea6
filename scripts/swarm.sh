#!/usr/bin/env bash
# make swarm-up / swarm-down: the same stack (docker-compose.yml, PROFILE=ha,
# plus docker-compose.swarm.yml) as a Docker Swarm stack on this machine.
#   scripts/swarm.sh up     init a swarm if this machine has none, build the
#                           images, deploy, wait until every service runs
#   scripts/swarm.sh down   remove the stack, its volumes and images; leave the
#                           swarm only if `up` created it and no stack is left
# STACK names the stack (default grpc-consul-lab); LAB_NET its overlay subnet.
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_ROOT"

STACK=${STACK:-grpc-consul-lab}
# Not make up's 10.77.0: the compose demo and the swarm stack may run side by side.
export LAB_NET=${LAB_NET:-10.78.0}
export HELLO_IMAGE=${HELLO_IMAGE:-$STACK/hello:swarm} CLIENT_IMAGE=${CLIENT_IMAGE:-$STACK/client:swarm}
export PROFILE=ha
# The profile's Compose variables, KEY=VALUE lines (read, not sourced: a value is taken as written).
while IFS='=' read -r name value; do export "$name=$value"; done < <(grep -E '^[A-Z_][A-Z0-9_]*=' "$PROJECT_ROOT/profiles/ha.env")
# Written when `up` made this machine a swarm manager: only then does `down` leave the swarm.
INIT_MARKER="$CACHE_DIR/swarm-initialized-by-grpc-consul-lab"
STACK_FILE="$PROJECT_ROOT/build/swarm/$STACK.yml"
WAIT_SECONDS=${SWARM_WAIT_SECONDS:-240}
compose() { docker compose -p "$STACK" -f docker-compose.yml -f docker-compose.swarm.yml "$@"; }

[[ "$STACK" =~ ^[a-z0-9][a-z0-9_-]*$ ]] || { echo "error: [swarm] STACK must be lower-case letters, digits, - or _, got \"$STACK\"" >&2; exit 2; }

swarm_state() { docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'; }
stack_containers() { docker ps -aq --filter "label=com.docker.stack.namespace=$STACK"; }
stack_networks() { docker network ls -q --filter "label=com.docker.stack.namespace=$STACK"; }

up() {
  docker_answers || fail swarm "no Docker engine answers; run make provision"
  read -r state manager < <(swarm_state)
  step "swarm: this machine is a manager"
  case "$state $manager" in
    "active true") skip "swarm manager" ;;
    "active false") echo "error: [swarm] this machine is a worker of a swarm: stacks deploy from a manager; run make swarm-up there" >&2; exit 2 ;;
    "inactive "*)
      docker swarm init --advertise-addr 127.0.0.1 >"$LOG_DIR/swarm-init.log" 2>&1 ||
        fail swarm "docker swarm init failed (log: $LOG_DIR/swarm-init.log)"
      docker info --format '{{.Swarm.NodeID}}' >"$INIT_MARKER"
      info "swarm initialized here (make swarm-down leaves it again)" ;;
    *) echo "error: [swarm] this machine's swarm state is \"$state\": fix it (docker swarm leave, or docker swarm join) and run again" >&2; exit 2 ;;
  esac

  SWARM_STACK="$STACK" scripts/check-ports.sh
  step "swarm: images $HELLO_IMAGE and $CLIENT_IMAGE (log: $LOG_DIR/swarm-build.log)"
  # Under a project name of its own: compose labels the images with it, the task
  # containers inherit the labels, and `make down` or `make chaos` on make up's
  # project must never take a swarm task for one of theirs.
  docker compose -p "$STACK-swarm-images" -f docker-compose.yml -f docker-compose.swarm.yml build hello client >"$LOG_DIR/swarm-build.log" 2>&1 ||
    fail swarm "building the images failed (log: $LOG_DIR/swarm-build.log)"

  step "swarm: deploy stack $STACK"
  mkdir -p "$(dirname "$STACK_FILE")"
  compose config --format json | node dist/swarm/stack-file.js >"$STACK_FILE"
  # --resolve-image never: the images are this machine's; no registry is asked.
  docker stack deploy --resolve-image never -c "$STACK_FILE" "$STACK" >"$LOG_DIR/swarm-deploy.log" 2>&1 ||
    { tail -n 5 "$LOG_DIR/swarm-deploy.log" >&2; fail swarm "docker stack deploy failed (log: $LOG_DIR/swarm-deploy.log)"; }

  step "swarm: wait until every service runs and the client is healthy (up to ${WAIT_SECONDS} s)"
  local deadline=$((SECONDS + WAIT_SECONDS))
  until stack_ready; do
    [ "$SECONDS" -lt "$deadline" ] || {
      docker stack ps --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' "$STACK" | head -n 20 >&2
      fail swarm "stack $STACK not ready after ${WAIT_SECONDS} s; see above, and: docker service logs ${STACK}_client"
    }
    sleep 2
  done
  docker stack services --format 'table {{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Ports}}' "$STACK"
}

# Every replicated service at its count, the ACL job completed, the client's healthcheck passing.
stack_ready() {
  local name mode replicas
  while IFS='|' read -r name mode replicas; do
    case "$mode" in
      "replicated job") [[ "$replicas" == *"(1/1 completed)"* ]] || return 1 ;;
      *) [ "${replicas%%/*}" = "${replicas#*/}" ] || return 1 ;;
    esac
  done < <(docker stack services --format '{{.Name}}|{{.Mode}}|{{.Replicas}}' "$STACK")
  [ -n "$(docker ps -q --filter "label=com.docker.swarm.service.name=${STACK}_client" --filter health=healthy)" ]
}

down() {
  if ! docker_answers; then info "no Docker engine answers: nothing to remove"; return; fi
  step "swarm: remove stack $STACK"
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = active ]; then
    # Also when no service is left: a deploy that failed half-way leaves secrets and configs.
    docker stack rm "$STACK" >/dev/null 2>&1 || true
  fi
  # Swarm removes services, then their containers and the network, in the
  # background; a job's finished containers it keeps. Volumes can go only after.
  local deadline=$((SECONDS + 90))
  while [ -n "$(docker service ls -q --filter "label=com.docker.stack.namespace=$STACK" 2>/dev/null)" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail swarm "stack $STACK's services still there after 90 s: docker stack rm $STACK"
    sleep 1
  done
  while [ -n "$(stack_containers)" ] || [ -n "$(stack_networks)" ]; do
    # Only containers of a service that no longer exists are left: the stack's own.
    [ -z "$(stack_containers)" ] || docker rm -f $(stack_containers) >/dev/null 2>&1 || true
    [ "$SECONDS" -lt "$deadline" ] || {
      [ -z "$(stack_networks)" ] || docker network rm $(stack_networks) >/dev/null 2>&1 || true
      [ -z "$(stack_containers)$(stack_networks)" ] && break
      fail swarm "stack $STACK's containers or network still there after 90 s: docker ps -a --filter label=com.docker.stack.namespace=$STACK"
    }
    sleep 1
  done
  local volumes
  volumes=$(docker volume ls -q --filter "label=com.docker.stack.namespace=$STACK")
  [ -z "$volumes" ] || docker volume rm $volumes >/dev/null
  docker image rm "$HELLO_IMAGE" "$CLIENT_IMAGE" >/dev/null 2>&1 || true

  if [ -f "$INIT_MARKER" ]; then
    if [ -n "$(docker stack ls --format '{{.Name}}' 2>/dev/null)" ]; then
      info "swarm kept: other stacks still run on it"
    else
      step "swarm: leave the swarm that make swarm-up created"
      docker swarm leave --force >/dev/null
      # Left behind by leaving; it did not exist before the swarm.
      docker network rm docker_gwbridge >/dev/null 2>&1 || true
      rm -f "$INIT_MARKER"
    fi
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: scripts/swarm.sh up|down" >&2; exit 2 ;;
esac
