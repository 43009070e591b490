# One entry point for people and CI. `make install` then `make test` on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: install dev test test-rust lint bench bench-short services claude install-locked reliability soak fuzz fuzz-short audit

install: ## venv, the package built from source (release), test tools, Claude Code CLI, Debian's chromium
	@echo "== 1/3 $(VENV): maskgate built from source (Rust, release; a few minutes on 2 cores) with its dev and litellm extras"
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --progress-bar on '.[dev,litellm]'
	@echo "== 2/3 .tools/: the pinned Claude Code CLI (npm, ~400 MB, only inside this checkout)"
	bash .ci/install-claude.sh
	@echo "== 3/3 Debian's chromium for the console's browser tests (system-wide with apt-get, only as root)"
	bash .ci/install-chromium.sh

dev: ## rebuild the native module in place after editing rust/
	$(VENV)/bin/maturin develop --release

services: ## start Redis on 127.0.0.1:6379 unless one answers
	bash .ci/services.sh

test: services ## cargo test, pytest tests/ and benches/ (.ci/test.sh; what CI runs)
	bash .ci/test.sh

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

install-locked: ## like install, but every dependency exactly as pinned (with hashes) in requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --require-hashes -r requirements.lock
	$(PIP) install -q --no-deps --no-build-isolation .

reliability: services ## the fault, hostile-input, secrets and short soak tests (tests/reliability)
	$(PY) -m pytest tests/reliability

soak: services ## the long soak (MASKGATE_SOAK_REQUESTS, MASKGATE_SOAK_SECONDS bound it)
	$(PY) -m pytest -m soak tests/reliability

FUZZ_SECONDS ?= 1800
fuzz: ## every cargo-fuzz target for FUZZ_SECONDS (default 30 min) each, 2 jobs
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=2 bash .ci/fuzz.sh

fuzz-short: ## what CI runs: every target for 20 s
	FUZZ_SECONDS=20 bash .ci/fuzz.sh

audit: ## pip-audit on requirements.lock, cargo audit on Cargo.lock
	bash .ci/audit.sh
