# hcc-iat: `make demo` and `make test` are the two commands a newcomer needs; both run `make setup` first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Run-time system packages. Fixture-making tools (R, python3-torch, nibabel, dcm2niix) are in `make dev-tools`;
# tests and the demo never need them.
APT_PACKAGES := libtorch-dev libjemalloc2 fonts-dejavu-core
DEV_APT_PACKAGES := python3-torch python3-nibabel python3-pydicom python3-scipy dcm2niix libjpeg-turbo-progs \
  r-base-core r-cran-survival r-cran-riskregression r-cran-pec r-cran-proc r-cran-rms r-cran-maxstat \
  r-cran-survminer r-cran-jsonlite r-cran-hmisc r-cran-prodlim

NODE_STAMP := node_modules/.package-lock.json

.PHONY: help setup apt build test demo dev-tools bench clean

help:
	@echo "make demo    set up, then run the default study on a synthetic cohort"
	@echo "make test    set up, then run the test suite"
	@echo "make setup   install system packages (apt), npm ci, build the libtorch addon and the TypeScript"

setup: apt $(NODE_STAMP) build

apt:
	@scripts/ensure-apt.sh $(APT_PACKAGES)

$(NODE_STAMP): package.json package-lock.json $(wildcard packages/*/package.json)
	npm ci --no-audit --no-fund
	@touch $@

build: $(NODE_STAMP)
	npm run build --workspaces --if-present
	npx tsc -p tsconfig.json

test: setup
	npm test

demo: setup
	node bin/hcc.js demo

dev-tools:
	@scripts/ensure-apt.sh $(DEV_APT_PACKAGES)

bench: setup
	@ls bench/*.ts | sed 's/^/see /'

clean:
	rm -rf dist packages/*/dist packages/*/build
