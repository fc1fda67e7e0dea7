# The whole set-up on a fresh machine is `make demo` or `make test`: both install first when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Override to stream other sources, e.g. `make demo SOURCES=0` (webcam) or
# `make demo SOURCES="side=/clips/a.mp4 front=/clips/b.mp4"`.
SOURCES  ?=
HUB_PORT ?= 8000
UI_PORT  ?= 8501
# `make demo REDIS=1`: two hubs sharing a local redis-server, and two workers.
REDIS    ?=
PYTEST_ARGS ?=
# torch is installed first, as a CPU build, or sentence-transformers pulls gigabytes of CUDA wheels.
# Where the configured index has no CPU wheel: TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu".
TORCH_PIP_ARGS ?=

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install torch==2.13.0 -c constraints.txt $(TORCH_PIP_ARGS)
	$(BIN)/pip install -e ".[dev]" -c constraints.txt   # every role, the test tools and ruff
	$(BIN)/pip check
	touch $(STAMP)

demo: $(STAMP)
	SOURCES="$(SOURCES)" HUB_PORT=$(HUB_PORT) UI_PORT=$(UI_PORT) REDIS=$(REDIS) $(BIN)/python scripts/demo.py

test: $(STAMP)
	$(BIN)/ruff check .
	# Debian's chromium for tests/e2e and redis-server for the Redis-backed hub's tests (without
	# them those tests skip, saying why).
	sh scripts/ensure_apt.sh chromium=chromium redis-server=redis-server
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.sync
	$(BIN)/python -m bench.analysis

clean:
	rm -rf $(VENV) .pytest_cache test-output
