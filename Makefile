# Every target provisions what it needs first; see docs/provisioning.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
COMPOSE := docker compose
# docker-compose.yml requires the base images that .env names (make up writes it, and Compose
# interpolates the whole file for any command); down, logs and ps use no image, so before the first
# make up they get a placeholder instead.
COMPOSE_NO_IMAGES := $(if $(wildcard .env),,NODE_IMAGE=none CONSUL_IMAGE=none )$(COMPOSE)
CONSUL_UI_PORT ?= 8501
CLIENT_STATS_PORT ?= 9464
# make chaos serves its live view here (127.0.0.1 only); 0: none.
LIVE_PORT ?= 9470
# Where the published ports listen: this machine only, unless you say otherwise (PUBLISH_ADDRESS=0.0.0.0).
PUBLISH_ADDRESS ?= 127.0.0.1
# single: one Consul server (the default); ha: three, with Raft, as production runs it;
# multi-dc: two datacenters, WAN-federated, instances in each, the client preferring dc1.
PROFILE ?= single
CONSUL_2_PORT ?= 8502
CONSUL_3_PORT ?= 8503
# PROFILE=multi-dc: dc2's Consul server (UI and API).
CONSUL_DC2_PORT ?= 8504
# The three Consul servers as this machine reaches them (PROFILE=ha, make swarm-up).
HA_CONSUL_HOST_URLS := https://127.0.0.1:$(CONSUL_UI_PORT),https://127.0.0.1:$(CONSUL_2_PORT),https://127.0.0.1:$(CONSUL_3_PORT)
# The profile's Compose variables (COMPOSE_PROFILES, CONSUL_ADDRESSES...): profiles/<PROFILE>.env,
# the one copy scripts/swarm.sh and the e2e stacks read too. An unknown PROFILE has no file:
# the profile target refuses it before anything is built.
-include profiles/$(PROFILE).env
PROFILE_VARIABLES := $(shell sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' profiles/$(PROFILE).env 2>/dev/null)
ifeq ($(PROFILE),ha)
CONSUL_HOST_URLS := $(HA_CONSUL_HOST_URLS)
else ifeq ($(PROFILE),multi-dc)
CONSUL_HOST_URLS := https://127.0.0.1:$(CONSUL_UI_PORT),https://127.0.0.1:$(CONSUL_DC2_PORT)
else
CONSUL_HOST_URLS := https://127.0.0.1:$(CONSUL_UI_PORT)
endif
# CONSUL_DATA_SIZE=64m: each Consul server's data on a filesystem of that size, which the disk-full
# fault fills (docker-compose.consul-data-size.yml). Compose reads its files from COMPOSE_FILE.
ifneq ($(CONSUL_DATA_SIZE),)
export COMPOSE_FILE := docker-compose.yml:docker-compose.consul-data-size.yml
endif
export CONSUL_UI_PORT CLIENT_STATS_PORT PUBLISH_ADDRESS PROFILE CONSUL_DATA_SIZE CONSUL_2_PORT CONSUL_3_PORT CONSUL_DC2_PORT $(PROFILE_VARIABLES)
# The chaos runner and you reach Consul over HTTPS with our CA and the chaos runner's read token.
CONSUL_API := CONSUL_CACERT=.secrets/ca.pem CONSUL_HTTP_TOKEN_FILE=.secrets/chaos-runner.token
# What starts Consul dev agents gets the binary scripts/ensure-consul.sh provides (built once, then cached).
WITH_CONSUL := CONSUL_BIN="$$(scripts/ensure-consul.sh | tail -n 1)"
# And what starts toxiproxy-server gets scripts/ensure-toxiproxy.sh's (built once, then cached).
WITH_TOXIPROXY := TOXIPROXY_BIN="$$(scripts/ensure-toxiproxy.sh | tail -n 1)"
# testcontainers offline: Ryuk's image cannot be pulled (the runs sweep by label themselves), and the
# host is this machine. scripts/run-tests.sh sets the same for the e2e tests.
WITH_TESTCONTAINERS := TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=localhost
# $(call benches,ENVIRONMENT,NAMES): a recipe line per NAME, `node dist/bench/NAME.js` with ENVIRONMENT
# before it; as with lines written out, make stops at the first that fails.
define benches
$(foreach name,$(2),@$(1) node dist/bench/$(name).js
)
endef

.PHONY: help profile provision secrets app up down logs ps token test check lint typecheck unit e2e e2e-long local bench bench-idle soak chaos swarm-up swarm-down

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

profile: # fails early, before anything changes, on a PROFILE or HELLO_REPLICAS that cannot be
	@scripts/check-settings.sh

provision: ## install/start Docker + Compose v2, build Consul, the health probe and Toxiproxy, prepare base images, npm ci and compile (at once)
	@scripts/provision.sh

secrets: ## the CA, certificates, gossip key and ACL tokens in .secrets/ (made once, renewed before they expire)
	@scripts/ensure-secrets.sh

app: ## npm ci, compile TypeScript, stage production node_modules
	@scripts/build-app.sh

up: profile provision secrets app ## build and start Consul (PROFILE=ha: 3 servers; PROFILE=multi-dc: two datacenters; CONSUL_DATA_SIZE=64m: its data on a filesystem of that size, for disk-full), 3 HelloService instances (per datacenter) and the client
	@scripts/check-ports.sh
	@echo "==> compose: build the hello and client images (log: /tmp/grpc-consul-lab-build.log)"
	@$(COMPOSE) build >/tmp/grpc-consul-lab-build.log 2>&1 \
	  || { tail -n 15 /tmp/grpc-consul-lab-build.log >&2; echo "error: [image-build] docker compose build failed; see above and /tmp/grpc-consul-lab-build.log" >&2; exit 1; }
	@echo "==> compose: start the stack and wait until every container is healthy"
	@# On failure, the containers' own one-line errors too (a datacenter that cannot join the WAN, say);
	@# compose writes escape codes even into a pipe.
	@$(COMPOSE) up -d --wait --wait-timeout 180 >/tmp/grpc-consul-lab-up.log 2>&1 \
	  || { tail -n 15 /tmp/grpc-consul-lab-up.log >&2; \
	       $(COMPOSE) logs --no-log-prefix 2>/dev/null | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | grep -m 3 '^error: \[' >&2; \
	       echo "error: [compose] the stack did not become healthy; see above, then: make logs" >&2; exit 1; }
	@# The images this build replaced, untagged now and used by no container since up: ours only, by label.
	@docker image prune -f --filter label=com.docker.compose.project=grpc-consul-lab >/dev/null
	@$(COMPOSE) ps --format 'table {{.Name}}\t{{.Status}}\t{{.Ports}}'
	@echo
	@echo "The stack is up. Watch it:"
	@echo "  make logs                               all logs, following (failover shows in the client's lines)"
	@echo "  docker compose logs -f client           the client only"
	@echo "  https://localhost:$(CONSUL_UI_PORT)/ui/              Consul UI (read-only token below; our CA is .secrets/ca.pem)"
	@echo "      token: $$(cat .secrets/ui-read.token)   (again: make token)"
	@$(if $(filter multi-dc,$(PROFILE)),echo "  https://localhost:$(CONSUL_DC2_PORT)/ui/              dc2's Consul UI (same token: ACLs are replicated from dc1)")
	@echo "  http://localhost:$(CLIENT_STATS_PORT)/                the live view: calls/s per instance, failures, latency, resolver set"
	@echo "  curl -s localhost:$(CLIENT_STATS_PORT)/stats          the client counters"
	@echo "  make down                               remove everything"

down: ## remove every container, network, volume and image that make up created
	@if docker info >/dev/null 2>&1; then \
	  $(COMPOSE_NO_IMAGES) --profile ha --profile multi-dc down --volumes --remove-orphans --rmi local --timeout 5; \
	  docker volume ls -q --filter label=com.docker.compose.project=grpc-consul-lab | xargs -r docker volume rm >/dev/null; \
	else echo "no Docker engine answers: nothing to remove"; fi
# --remove-orphans takes what the chaos runner started beside Compose (replacements, sidecars); the
# volume line, a clock-skew volume that a run killed mid-fault left (Compose removes only its own).

token: ## print the Consul UI's read-only token again
	@test -s .secrets/ui-read.token || { echo "error: [token] no .secrets/ui-read.token: run make up first" >&2; exit 1; }
	@echo "Consul UI: https://localhost:$(CONSUL_UI_PORT)/ui/  token: $$(cat .secrets/ui-read.token)"

logs: ## follow all logs
	@$(COMPOSE_NO_IMAGES) logs -f

ps: ## list the stack's containers
	@$(COMPOSE_NO_IMAGES) ps

local: app ## the demo as local processes, no Docker, with the seed's fault simulator (Ctrl-C stops it)
	@$(WITH_CONSUL) node dist/services/local/main.js

bench: provision secrets app ## discovery, 500 instance replacements (memory), failover, keepalive, slow instance (balancers), network faults (call policies), datacenter fail-over and fail-back, partition vs disconnect, Consul HA, container faults (call policies) figures as tables (JSON in reports/bench/); ~39 min
	$(call benches,$(WITH_CONSUL),discovery replacements failover slow-instance kill-loop multi-dc)
	$(call benches,$(WITH_CONSUL) $(WITH_TOXIPROXY),net-fault-policies)
	$(call benches,$(WITH_TESTCONTAINERS),partition-vs-disconnect consul-ha container-fault-policies)

bench-idle: app ## what make up's stack costs at rest: CPU (% of one core) and memory per container, per hello instance, in all (WINDOW_S=60)
	@node dist/bench/idle-cost.js

swarm-up: provision secrets app ## the same stack (PROFILE=ha) as a Docker Swarm stack; inits a swarm here if there is none
	@scripts/swarm.sh up
	@echo
	@echo "The swarm stack is up. Watch it:"
	@echo "  docker service logs -f grpc-consul-lab_client   the client (failover shows here)"
	@echo "  make chaos ON=swarm SCENARIO=swarm-reschedule    Swarm's own rescheduling as a fault"
	@echo "  make swarm-down                                  remove it (and the swarm, if swarm-up made it)"

swarm-down: ## remove the swarm stack, its volumes and images; leave the swarm only if swarm-up created it
	@scripts/swarm.sh down

soak: provision secrets app ## ten minutes of mixed faults (gray ones included) at 200 calls/s: calls, failures, memory at start and end; ~13 min
	@$(WITH_TESTCONTAINERS) node dist/bench/soak.js

SCENARIO ?= rolling-kill
SEED ?=
# ON=swarm: the stack of make swarm-up (three Consul servers, like PROFILE=ha).
ON ?= compose
ifeq ($(ON),swarm)
CHAOS_SCOPE := --stack grpc-consul-lab
CHAOS_CONSUL_URLS := $(HA_CONSUL_HOST_URLS)
else
CHAOS_SCOPE := --project grpc-consul-lab
CHAOS_CONSUL_URLS := $(CONSUL_HOST_URLS)
endif
chaos: profile app ## run a chaos scenario against make up's stack, live view at 127.0.0.1:LIVE_PORT (SCENARIO=… SEED=… REPLAY=journal.json DRY_RUN=1 JUNIT=file.xml; PROFILE=ha as for make up; ON=swarm for make swarm-up's)
	@case "$(ON)" in compose|swarm) ;; *) echo "error: [chaos] unknown ON \"$(ON)\" (known: compose, swarm)" >&2; exit 2 ;; esac
	@$(CONSUL_API) node dist/chaos/cli.js $(if $(REPLAY),--replay $(REPLAY),--scenario $(SCENARIO) $(if $(SEED),--seed $(SEED))) \
	  $(if $(DRY_RUN),--dry-run) $(if $(JUNIT),--junit $(JUNIT)) --live-port $(LIVE_PORT) $(CHAOS_SCOPE) --stats-url http://127.0.0.1:$(CLIENT_STATS_PORT) --consul-url $(CHAOS_CONSUL_URLS)

lint: app ## eslint + prettier
	@npm run --silent lint

typecheck: ## strict TypeScript, proto types included
	@npm run --silent typecheck

check: ## lint, strict types and every test that needs no Docker, Consul or browser, at once; after npm ci alone, ~25 s
	@scripts/check.sh

unit: app ## the tests that need a Consul agent, Toxiproxy, Chromium or root, no Docker (scripts/run-tests.sh lists them)
	@scripts/run-tests.sh unit

e2e: provision secrets app ## end-to-end tests on real containers
	@scripts/run-tests.sh e2e

e2e-long: provision secrets app ## random-mix seeds 1-12 back to back on one compose stack at 200 calls/s (~10 min)
	@scripts/run-tests.sh long

test: provision secrets app lint ## everything: lint, strict types, check's and unit's tests at once, then e2e one file at a time
	@scripts/run-tests.sh check unit e2e
