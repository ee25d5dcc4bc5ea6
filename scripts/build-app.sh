#!/usr/bin/env bash
# Compiles the TypeScript on the host and stages the production node_modules
# the images COPY: nothing inside a docker build needs the network.
source "$(dirname "$0")/lib.sh"
cd "$PROJECT_ROOT"

# The lockfile and our patches to dependencies (patches/, applied by patch-package) decide what is installed.
lock_hash=$(cat package-lock.json patches/* | sha256sum | cut -c1-16)

step "app: dependencies"
if [ -f node_modules/.lock-hash ] && [ "$(cat node_modules/.lock-hash)" = "$lock_hash" ]; then
  skip "node_modules matches package-lock.json"
else
  command -v npm >/dev/null 2>&1 || fail app "npm is missing; install Node.js 20 or later and retry"
  info "npm ci (log: $LOG_DIR/npm-ci.log)"
  npm ci --no-audit --no-fund >"$LOG_DIR/npm-ci.log" 2>&1 ||
    fail app "npm ci failed (log: $LOG_DIR/npm-ci.log); check access to the npm registry"
  echo "$lock_hash" >node_modules/.lock-hash
fi

step "app: TypeScript build"
# What the build reads, by path and modification time: when none changed,
# dist/ is what a build would make, and make chaos starts at once.
# The live page's html and css are copied into dist/ by the build too.
sources_stamp=$( (git ls-files -co --exclude-standard -- '*.ts' '*.proto' '*.json' '*.html' '*.css' ':!:package-lock.json' 2>/dev/null ||
  find . -path ./node_modules -prune -o \( -name '*.ts' -o -name '*.proto' -o -name '*.json' -o -name '*.html' -o -name '*.css' \) -print) |
  grep -v -e '^packages/contracts/generated/' -e '/dist/' | sort | xargs stat -c '%n %y %s' | sha256sum | cut -c1-16)
if [ -f dist/.sources-stamp ] && [ "$(cat dist/.sources-stamp)" = "$sources_stamp" ] &&
  [ -f packages/consul-discovery/dist/src/index.js ]; then
  skip "dist/ matches the sources"
else
  # From clean: outputs of deleted sources (old tests above all) must not linger.
  rm -rf dist packages/consul-discovery/dist
  npm run --silent build >"$LOG_DIR/tsc.log" 2>&1 ||
    fail app "the TypeScript build failed: $(grep -m1 'error' "$LOG_DIR/tsc.log" || echo "see $LOG_DIR/tsc.log")"
  echo "$sources_stamp" >dist/.sources-stamp
  info "compiled to dist/"
fi

step "app: production node_modules for the images"
runtime="build/runtime"
library="packages/consul-discovery"
if [ -f "$runtime/node_modules/.lock-hash" ] && [ "$(cat "$runtime/node_modules/.lock-hash")" = "$lock_hash" ]; then
  skip "$runtime/node_modules matches package-lock.json"
else
  rm -rf "$runtime" && mkdir -p "$runtime/$library"
  cp package.json package-lock.json "$runtime/"
  cp "$library/package.json" "$runtime/$library/"
  # No install scripts: every runtime dependency is plain JavaScript.
  (cd "$runtime" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund) >"$LOG_DIR/npm-ci-runtime.log" 2>&1 ||
    fail app "npm ci --omit=dev failed (log: $LOG_DIR/npm-ci-runtime.log)"
  # The same fixes as the host's node_modules (see patches/README.md).
  (cd "$runtime" && "$PROJECT_ROOT/node_modules/.bin/patch-package" --patch-dir ../../patches) >>"$LOG_DIR/npm-ci-runtime.log" 2>&1 ||
    fail app "patch-package failed on $runtime (log: $LOG_DIR/npm-ci-runtime.log)"
  echo "$lock_hash" >"$runtime/node_modules/.lock-hash"
  info "staged in $runtime/node_modules"
fi
# The discovery library is a workspace, linked in node_modules; the images get
# a real copy of what its package ships (package.json and compiled code).
rm -rf "$runtime/node_modules/@grpc-consul-lab/consul-discovery"
mkdir -p "$runtime/node_modules/@grpc-consul-lab/consul-discovery/dist"
cp "$library/package.json" "$runtime/node_modules/@grpc-consul-lab/consul-discovery/"
cp -r "$library/dist/src" "$runtime/node_modules/@grpc-consul-lab/consul-discovery/dist/"
find "$runtime/node_modules/@grpc-consul-lab/consul-discovery" -name '*.map' -delete
