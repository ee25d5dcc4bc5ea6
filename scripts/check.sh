#!/usr/bin/env bash
# make check: lint, strict types and every test that needs nothing but
# `npm ci` (scripts/run-tests.sh check), at once, in well under a minute. It
# provisions nothing (no Docker, Consul, browser or root) and stages no images'
# node_modules: it only compiles. The tests run the compiled code, so they
# follow the compile, which is the type check (tsc -b); lint runs beside both.
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_ROOT"

[ -x node_modules/.bin/tsc ] || fail check "no node_modules/.bin/tsc: run npm ci first"

# Lint's output waits until the tests are done, so the two do not interleave.
lint_log=$(mktemp)
trap 'rm -f "$lint_log"' EXIT
npm run --silent lint >"$lint_log" 2>&1 &
lint_pid=$!

lint=ok types=ok tests=ok
step "types: tsc -b, strict (the compile the tests run)"
npm run --silent build || types=failed
if [ "$types" = ok ]; then
  step "tests: every test that needs no Docker, Consul or browser"
  scripts/run-tests.sh check || tests=failed
else
  tests="not run (types failed)"
fi

step "lint: eslint + prettier"
wait "$lint_pid" || lint=failed
cat "$lint_log"

echo "check: lint $lint, types $types, tests $tests"
[ "$lint/$types/$tests" = ok/ok/ok ]
