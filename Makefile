# Formwork — the two commands of the quick start are `make run` and `make test`.
# Both install what they need (npm packages; PostgreSQL from Debian for the tests).

export CARGO_TARGET_DIR ?= $(HOME)/.cache/formwork/target
FORMWORK := $(CARGO_TARGET_DIR)/debug/formwork
CRM := seed-apps/medical-device-crm

.PHONY: run test build web lint e2e bench bench-large clean-data

build:
	cargo build -p formwork

web:
	scripts/web-build.sh

## Start with the embedded SQLite store (./data) and the medical-device CRM with demo data.
run: build web
	$(FORMWORK) app import $(CRM)
	$(FORMWORK) demo-data $(CRM) --scale small --if-empty
	$(FORMWORK) serve

## Every test: formatting and lints, Rust unit tests, the API suite on SQLite and
## PostgreSQL, the web unit tests, and the browser end-to-end tests (Debian's Chromium
## against a real `formwork serve`).
test: web lint
	cd designer-web && npm test
	python3 seed-apps/check_package.py
	cargo build --workspace --bins --tests
	scripts/test-deps.sh
	PG_URL=$$(scripts/pg-test-cluster.sh start | tail -n 1) && \
	  FORMWORK_TEST_PG=$$PG_URL cargo test --workspace; status=$$?; \
	  scripts/pg-test-cluster.sh stop; exit $$status
	$(MAKE) e2e

## Browser end-to-end tests only (needs the web build and the server binary).
e2e:
	scripts/browser-deps.sh
	cd designer-web && FORMWORK_BIN=$(FORMWORK) npm run e2e

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --tests -- -D warnings

## Benchmarks (release build): see scripts/bench.sh and docs/benchmarks.md.
bench:
	scripts/bench.sh

clean-data:
	rm -rf data
