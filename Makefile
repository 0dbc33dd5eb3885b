# The README's two commands: `make run` (the main job) and `make test` (every test).
# Both do all set-up on a fresh machine: venv, pip install, npm, apt-get (when root).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: setup run example bench test test-python test-web check-arm64 lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[export,hub,langchain,demo,eval,test,fast,ray]"
	touch $(STAMP)

# The main job: the Gradio demo on the embedded potion-base-8M (exported to int8 on first run).
run: setup
	$(BIN)/m2v-edge demo --host $(HOST) --port $(PORT)

# Export the embedded model to int8 and rank the seed card's example documents.
example: setup
	$(BIN)/m2v-edge export models/potion-base-8M -o out/potion-base-8M-int8 --force
	$(BIN)/m2v-edge similarity out/potion-base-8M-int8 "How do I train a neural network?" \
		"Neural network training tutorial and guide" "Neural networks in biology" "Machine learning frameworks"

# Benchmarks vs model2vec, side by side in one run (tables + plot in bench-results/).
bench: setup
	$(BIN)/m2v-edge bench models/potion-base-8M --qwen-sized tests/data/qwen/tokenizer.json --busy-core -o bench-results

# Every stage runs even when an earlier one fails; the summary at the end names each stage and its result.
test: setup
	bash scripts/test-all.sh lint test-python test-web check-arm64

lint: setup
	$(BIN)/ruff check app.py src tests scripts
	$(BIN)/ruff format --check app.py src tests scripts
	$(BIN)/mypy

test-python: setup
	$(BIN)/python -m pytest -q

test-web: setup
	PYTHON=$(abspath $(BIN)/python) bash scripts/test-web.sh

check-arm64: setup
	bash scripts/check-arm64.sh

clean:
	rm -rf out .pytest_cache .ruff_cache .mypy_cache web/node_modules web/.fixtures
