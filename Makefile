# One entry point for people and CI. `make install` then `make test` on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: install dev test test-rust lint bench bench-short services claude

install: ## venv, the package built from source (release), test tools, Claude Code CLI, Debian's chromium
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q '.[dev]'
	bash .ci/install-claude.sh
	bash .ci/install-chromium.sh

dev: ## rebuild the native module in place after editing rust/
	$(VENV)/bin/maturin develop --release

services: ## start Redis on 127.0.0.1:6379 unless one answers
	bash .ci/services.sh

test: services ## the whole suite: cargo tests, then pytest
	cargo test --quiet
	$(PY) -m pytest

lint:
	cargo fmt --check
	cargo clippy --all-targets --features python -- -D warnings
	$(VENV)/bin/ruff check python tests benches
	$(VENV)/bin/ruff format --check python tests benches
	$(VENV)/bin/mypy
	$(PY) -m mypy.stubtest maskgate._core

bench: services ## maskgate against its peers (benches/README.md); writes benches/results/, prints a summary
	$(PY) -m benches.run

bench-short: services ## CI's short version; writes benches/results/short/
	$(PY) -m benches.run --short
