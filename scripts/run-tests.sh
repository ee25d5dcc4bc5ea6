#!/usr/bin/env bash
# Runs the test files given as suites (unit, e2e or all) in ONE node --test
# run, so CI reads one summary. Files run one at a time: the integration and
# e2e tests share one Docker engine and two cores. The check that no earlier
# run left anything behind goes first.
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_ROOT"

files=()
for suite in "$@"; do
  case "$suite" in
    unit) mapfile -t -O "${#files[@]}" files < <(find services/consul-discovery/dist/test dist/services dist/chaos dist/swarm -name '*.test.js' 2>/dev/null | sort) ;;
    e2e)
      files=("dist/e2e/nothing-left-behind.test.js" "${files[@]}")
      mapfile -t -O "${#files[@]}" files < <(find dist/e2e -name '*.test.js' ! -name 'nothing-left-behind.test.js' ! -path '*/long/*' | sort)
      ;;
    long) mapfile -t -O "${#files[@]}" files < <(find dist/e2e/long -name '*.test.js' | sort) ;;
    *) fail tests "unknown suite '$suite' (known: unit, e2e, long)" ;;
  esac
done
[ "${#files[@]}" -gt 0 ] || fail tests "no compiled test files found; run make app first"

# testcontainers offline: Ryuk's image cannot be pulled (the suite sweeps by
# label itself), and the host is this machine.
export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=localhost
CONSUL_BIN="$("$PROJECT_ROOT/scripts/ensure-consul.sh" | tail -n 1)"
CHROMIUM="$("$PROJECT_ROOT/scripts/ensure-chromium.sh" | tail -n 1)"
export CONSUL_BIN CHROMIUM
# TEST_JUNIT=path: also a JUnit XML of every test there (CI publishes it).
reporters=(--test-reporter=spec --test-reporter-destination=stdout)
if [ -n "${TEST_JUNIT:-}" ]; then
  mkdir -p "$(dirname "$TEST_JUNIT")"
  reporters+=(--test-reporter=junit "--test-reporter-destination=$TEST_JUNIT")
fi
exec node --test --test-concurrency=1 "${reporters[@]}" "${files[@]}"
