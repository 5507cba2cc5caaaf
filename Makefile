# Two commands matter: `make demo` and `make test`. Both bootstrap .venv from the lock file.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

TOOLS ?= .venv-tools

.PHONY: bootstrap tools torch demo test lint typecheck pytest lock bench bench-quick clean

bootstrap: $(VENV)/.installed

# Scanners with dependency trees of their own (checkov), kept out of the project's environment.
tools: $(TOOLS)/.installed

$(TOOLS)/.installed: tools/requirements.lock $(VENV)/.installed
	$(PYTHON) -m venv $(TOOLS)
	$(BIN)/uv pip install --python $(TOOLS)/bin/python -q --compile-bytecode -r tools/requirements.lock
	touch $@

# PyTorch for the .pt/.pt2 tests, from its own lock (pinned like requirements.lock, which it is
# compiled against): PyPI has only the CUDA build, 2.9 GB to download and 5.3 GB installed, so
# `make bootstrap` (and the demo) leave it out; `make test` brings it in.
torch: $(VENV)/.torch-installed

# requirements.lock as constraints too: a torch lock left stale by a re-lock fails here (run
# `make lock`) rather than moving a shared package off requirements.lock's pin.
$(VENV)/.torch-installed: requirements-torch.lock requirements.lock $(VENV)/.installed
	$(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode \
		-r requirements-torch.lock --constraint requirements.lock
	touch $@

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	# Bytecode compiled at install: with PYTHONDONTWRITEBYTECODE set (as on CI machines) every
	# start would otherwise recompile ~300 modules, tripling the idle run's time.
	$(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode --no-deps -e .
	# The editable install's own modules too (uv compiles site-packages only): about 0.15 s of
	# every CLI start on 2 cores; an edited module is recompiled in memory, never stale.
	$(BIN)/python -m compileall -q src >/dev/null
	touch $@

demo: bootstrap
	$(BIN)/numerai-autopilot demo

lint: bootstrap
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: bootstrap
	$(BIN)/mypy

pytest: bootstrap tools torch
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(BIN)/pytest -q

test: lint typecheck pytest

# Re-resolve the pinned versions after changing dependencies in pyproject.toml.
lock: bootstrap
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile tools/requirements.in --python-version 3.11 -o tools/requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra torch --constraint requirements.lock \
		--python-version 3.11 -o requirements-torch.lock

# Issue 11's benchmark: seed-style script vs the autopilot cron-started and resident, on N
# distinct example-size models (docs/performance.md; benchmarks/README.md). One at a time, on a
# quiet machine: it writes benchmarks/results/ and the figures in docs/performance.md and the
# README. Trained models are cached in ~/.cache/numerai-autopilot-bench (BENCH_ARGS="--cache D").
bench: bootstrap
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# The same cases end to end with small models, one repetition: the full run's smoke test.
bench-quick: bootstrap
	$(BIN)/python -m benchmarks --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
