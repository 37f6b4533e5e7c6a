# mcpgate — `make help` lists the targets. The logic lives in scripts/, so
# that CI (.ci/run) and people run exactly the same commands.

SHELL := bash
.DEFAULT_GOAL := help

# Go may be installed only at /usr/local/go.
export PATH := $(PATH):/usr/local/go/bin

# ARGS are passed to bin/mcpgate by `make run`, e.g.
#   make run ARGS='serve --listen 127.0.0.1:9000 --config mcpgate.yaml'
ARGS ?=

.PHONY: help build run test lint bench conformance check

help: ## List the targets.
	@echo 'Usage: make <target>'
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## Build bin/mcpgate.
	go build -o bin/mcpgate ./cmd/mcpgate

run: build ## Build and run the gateway: demo upstream on 127.0.0.1:8080 (ARGS='serve ...' to change).
	./bin/mcpgate $(ARGS)

test: ## Run all tests: interop setup, go test -race ./..., conformance (scripts/test.sh).
	scripts/test.sh

lint: ## Check gofmt, go vet and staticcheck (scripts/lint.sh).
	scripts/lint.sh

bench: ## Measure mcpgate against the raw HTTP and stdio floors, direct calls and peer gateways (mcp-go, supergateway) side by side (scripts/bench.sh; BENCH_DURATION=2s for a quick run).
	scripts/bench.sh

conformance: ## Run the official MCP conformance suites against bin/mcpgate (scripts/conformance.sh).
	scripts/interop-setup.sh
	scripts/conformance.sh

check: lint test ## Everything before a commit: lint, then test (which includes conformance).
