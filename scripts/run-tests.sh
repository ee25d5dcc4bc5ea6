# Runs the test suites given, in two phases (below: at once, then one file at
# a time), every failure reported, the status non-zero if any failed:
#   check  every test outside e2e/ that needs nothing but Node and `npm ci`
#   unit   the tests outside e2e/ that need a Consul agent, Chromium or root (NEEDS below)
#   e2e    e2e/ on real containers (e2e/long/ excepted); the check that no
#          earlier run left anything behind runs first: Node 20 runs the files
#          in path order, whatever order they are given in, hence its 00- name
#   long   e2e/long/
# It runs what is compiled: make check compiles first, the other targets
# through make app.
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_ROOT"

# What a test file outside e2e/ needs beyond Node and `npm ci`; e2e/ is a
# suite of its own (Docker). A test file NOT listed here needs nothing (it may
# start node processes, listen on loopback and use the Consul double,
# packages/consul-discovery/test/support/consul-double.ts) and runs in
# `make check`, at once with the others.
# Adding a test: put it beside its code as NAME.test.ts. If it starts a Consul
# agent (ConsulDevAgent, CONSUL_BIN), Toxiproxy (TOXIPROXY_BIN), a browser
# (CHROMIUM) or needs root, add a line here; if only some of its tests do, give
# those a file of their own so the rest stay in check. Forgetting shows soon:
# check sets none of CONSUL_BIN, TOXIPROXY_BIN, CHROMIUM, so where they are not
# installed such a test fails there. Such tests take their test() from packages/testing/timed-test.ts
# (the discovery library's: test/support/timed-test.ts), a time limit each.
NEEDS='
scripts/await-wan.test.ts                         consul (two agents, WAN gossip)
services/address-change.test.ts                   consul, root (a network namespace of its own)
services/toxiproxy-redirect.test.ts               toxiproxy, root (a network namespace of its own, iptables)
packages/consul-discovery/test/consul-weights.test.ts  consul
packages/consul-discovery/test/kv-service-config.test.ts  consul
packages/consul-discovery/test/multi-datacenter.test.ts  consul (two agents federated over the WAN)
packages/consul-discovery/test/near-limit.test.ts consul
packages/consul-discovery/test/preconnect.test.ts consul
packages/consul-discovery/test/registrar.test.ts  consul
packages/consul-discovery/test/resolver.test.ts   consul
services/discovery-package.test.ts                consul, npm install from the registry
services/consul-tls.test.ts                       consul
services/discovery.test.ts                        consul
services/failover.test.ts                         consul
services/gray-recovery.test.ts                    consul
services/local/local-demo.test.ts                 consul (make local starts a dev agent)
services/server-lifecycle.test.ts                 consul
chaos/report/report-screenshot.test.ts            chromium
chaos/toxiproxy/toxiproxy-server.test.ts          toxiproxy (a toxiproxy-server process)
services/live-view/live-page-browser.test.ts      chromium
'
needing=$(awk 'NF { print $1 }' <<<"$NEEDS" | sort)

# Every test source outside e2e/ (compiled outputs and dependencies aside).
sources_outside_e2e() {
  find . \( -name node_modules -o -name dist -o -name build -o -name .git -o -path ./e2e \) -prune \
    -o -name '*.test.ts' -print | sed 's|^\./||' | sort
}

all_sources=$(sources_outside_e2e)
for listed in $needing; do
  grep -qxF "$listed" <<<"$all_sources" || fail tests "NEEDS in scripts/run-tests.sh lists $listed, which does not exist"
done

# Two phases, one after the other, each a node --test run of its own:
#   at-once  check and unit: the files share nothing (each its own Consul agent,
#            ports, processes) and mostly wait on timers and sockets, so they
#            run at once, one more than the cores (measured on 2 cores: check
#            and unit 54 s at once, 150 s one at a time)
#   serial   e2e and long: one file at a time, since they share one Docker
#            engine and two cores and their timings assume they have them
at_once=()
serial=()
# Adds the compiled form of each test source to the array named first: the
# discovery library compiles into its own dist/. From the sources, not from
# dist/: a compiled test whose source is gone must not run.
add_compiled() {
  local -n into=$1
  shift
  local source file
  for source in "$@"; do
    file="${source%.ts}.js"
    case "$file" in
      packages/consul-discovery/*) file="packages/consul-discovery/dist/${file#packages/consul-discovery/}" ;;
      *) file="dist/$file" ;;
    esac
    [ -f "$file" ] || fail tests "$file is missing: compile first (npm run build)"
    into+=("$file")
  done
}

needs_more=0
for suite in "$@"; do
  case "$suite" in
    # Split into words on purpose: a path a word, none has a space.
    check) add_compiled at_once $(comm -23 <(echo "$all_sources") <(echo "$needing")) ;;
    unit) add_compiled at_once $needing ;;
    e2e)
      serial=("dist/e2e/00-nothing-left-behind.test.js" "${serial[@]}")
      mapfile -t -O "${#serial[@]}" serial < <(find dist/e2e -name '*.test.js' ! -name '00-nothing-left-behind.test.js' ! -path '*/long/*' | sort)
      ;;
    long) mapfile -t -O "${#serial[@]}" serial < <(find dist/e2e/long -name '*.test.js' | sort) ;;
    *) fail tests "unknown suite '$suite' (known: check, unit, e2e, long)" ;;
  esac
  [ "$suite" = check ] || needs_more=1
done
[ $((${#at_once[@]} + ${#serial[@]})) -gt 0 ] || fail tests "no compiled test files found; run make app first"

if [ "$needs_more" = 1 ]; then
  # testcontainers offline: Ryuk's image cannot be pulled (the suite sweeps by
  # label itself), and the host is this machine.
  export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=localhost
  CONSUL_BIN="$("$PROJECT_ROOT/scripts/ensure-consul.sh" | tail -n 1)"
  TOXIPROXY_BIN="$("$PROJECT_ROOT/scripts/ensure-toxiproxy.sh" | tail -n 1)"
  CHROMIUM="$("$PROJECT_ROOT/scripts/ensure-chromium.sh" | tail -n 1)"
  export CONSUL_BIN TOXIPROXY_BIN CHROMIUM
fi

# Time limits per FILE, a safety net, not a budget: a hang fails as "timed out"
# and the run goes on, instead of holding CI until its job's limit (Node 20
# applies --test-timeout to each test file as a whole, Node 24 to each test,
# since nodejs/node#57672; the tests have limits of their own,
# packages/testing/timed-test.ts). check's files take under 10 s each on
# 2 cores under load, unit's under a minute; the longest serial file, the e2e
# fault scenarios or the Swarm suite (which allows itself 15 min), must fit.
# TEST_TIMEOUT_MS overrides both.
if [ "$needs_more" = 1 ]; then at_once_timeout_ms=300000; else at_once_timeout_ms=30000; fi
serial_timeout_ms=1200000

# TEST_JUNIT=path: also a JUnit XML of every test there (CI publishes it); with
# both phases, one per phase: path's name with -at-once and -serial before .xml.
junit_for() {
  [ -n "${TEST_JUNIT:-}" ] || return 0
  local destination="$TEST_JUNIT"
  if [ "${#at_once[@]}" -gt 0 ] && [ "${#serial[@]}" -gt 0 ]; then destination="${TEST_JUNIT%.xml}-$1.xml"; fi
  mkdir -p "$(dirname "$destination")"
  printf '%s\n' --test-reporter=junit "--test-reporter-destination=$destination"
}

# run_phase NAME CONCURRENCY TIMEOUT_MS FILE...: one node --test run; its status.
run_phase() {
  local name=$1 concurrency=$2 timeout_ms=$3
  shift 3
  local reporters=(--test-reporter=spec --test-reporter-destination=stdout)
  mapfile -t -O 2 reporters < <(junit_for "$name")
  node --test "--test-concurrency=$concurrency" "--test-timeout=${TEST_TIMEOUT_MS:-$timeout_ms}" "${reporters[@]}" "$@"
}

status=0
if [ "${#at_once[@]}" -gt 0 ]; then
  run_phase at-once $(($(nproc) + 1)) "$at_once_timeout_ms" "${at_once[@]}" || status=$?
  # Interrupted (Ctrl-C): stop here rather than start the containers.
  [ "$status" -lt 128 ] || exit "$status"
fi
if [ "${#serial[@]}" -gt 0 ]; then
  # A failure above does not stop the e2e tests: one run reports every failure.
  run_phase serial 1 "$serial_timeout_ms" "${serial[@]}" || status=$?
fi
exit "$status"
