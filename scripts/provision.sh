#!/usr/bin/env bash
# Everything make up needs on this machine, in three lanes at once, since
# none waits for another until the Consul image: the Go builds (Consul, the
# health probe, Toxiproxy), the Docker engine and base images, and the npm install and
# TypeScript build. Each lane logs to a file of its own and its lines are
# shown when it ends; a lane that fails shows its one error line and fails
# the whole after the others end (nothing is left half-written: every step
# writes to a .partial file first).
source "$(dirname "$0")/lib.sh"
scripts="$PROJECT_ROOT/scripts"

lane_go() {
  "$scripts/ensure-consul.sh" >/dev/null && "$scripts/ensure-health-probe.sh" && "$scripts/ensure-toxiproxy.sh" >/dev/null
}
# The Consul image needs the Consul binary: the lane waits for the Go lane's build (a lock).
lane_docker() { "$scripts/ensure-docker.sh" && "$scripts/ensure-images.sh"; }
lane_app() { "$scripts/build-app.sh"; }

lanes=(go docker app)
declare -A pids
for lane in "${lanes[@]}"; do
  "lane_$lane" >"$LOG_DIR/provision-$lane.log" 2>&1 &
  pids[$lane]=$!
done
failed=0
for lane in "${lanes[@]}"; do
  if wait "${pids[$lane]}"; then
    cat "$LOG_DIR/provision-$lane.log"
  else
    cat "$LOG_DIR/provision-$lane.log" >&2
    failed=1
  fi
done
exit "$failed"
