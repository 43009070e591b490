# One entry point for people and CI. `make install` then `make test` on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: install wheel dev test test-rust lint bench bench-short services claude install-locked reliability soak fuzz fuzz-short audit

install: ## venv, the wheel built from source (make wheel) installed with test tools, Claude Code CLI, Debian's chromium
	@echo "== 1/4 $(VENV): a venv with maturin $(MATURIN_VERSION), to build the wheel"
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --progress-bar on maturin==$(MATURIN_VERSION)
	@echo "== 2/4 dist/: the wheel, built from source (Rust, release; a few minutes on 2 cores)"
	$(MAKE) wheel
	@echo "== 3/4 $(VENV): that wheel with its dev and litellm extras (what the tests run against)"
	$(PIP) install --progress-bar on "$$(ls dist/maskgate-*.whl)[dev,litellm]"
	$(PIP) install -q --no-deps --force-reinstall dist/maskgate-*.whl
	@echo "== 4/4 .tools/: the pinned Claude Code CLI (npm, ~400 MB, only inside this checkout); Debian's chromium"
	@echo "   for the console's browser tests (system-wide with apt-get, only as root)"
	bash .ci/install-claude.sh
	bash .ci/install-chromium.sh

# What ships: one abi3 wheel (CPython >= 3.11) for glibc >= 2.34, its Rust crates as Cargo.lock pins
# them (--locked), its Python dependencies pinned exactly in pyproject.toml, built by this maturin.
MATURIN_VERSION := 1.16.0
MANYLINUX := manylinux_2_34
AUDITWHEEL := .tools/auditwheel/bin/auditwheel
wheel: ## dist/: the wheel (release; maturin checks its manylinux tag, auditwheel shows it) and the sdist
	rm -f dist/maskgate-*
	$(VENV)/bin/maturin build --release --locked --compatibility $(MANYLINUX) --auditwheel check --out dist
	$(VENV)/bin/maturin sdist --out dist
	test -x $(AUDITWHEEL) || { python3 -m venv .tools/auditwheel && .tools/auditwheel/bin/pip install -q auditwheel==6.8.2; }
	$(AUDITWHEEL) show dist/maskgate-*.whl

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
	$(MAKE) wheel
	$(PIP) install -q --no-deps --force-reinstall dist/maskgate-*.whl

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
