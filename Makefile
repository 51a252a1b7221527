# Two commands set up everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
# Any python3 runs uv; the project runs on the image's Python, 3.12 (infra/find_python.sh says where it looks).
BOOT_PY ?= python3
PY ?= $(shell infra/find_python.sh $(UV))
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
MOTO_PORT ?= 4566
CONSOLE_PORT ?= 8001
CONSOLE ?= 1
WARM ?= 1
export UV_PYTHON_DOWNLOADS := never

.DEFAULT_GOAL := help
.PHONY: help bench image load install run reset status redrive event invoke token test check lint typecheck imports validate requirements deploy browser-deps lock clean schemas

help:  ## list every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	$(BOOT_PY) -m venv .uv
	.uv/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	@test -n "$(PY)" || exit 1
	$(UV) sync --frozen --python $(PY)
	@touch $@

install: $(VENV)/.synced  ## create the virtualenv and install the locked dependencies

RELOAD ?= 1
FRESH ?=
DEBUG ?=
API ?= uvicorn
run: install  ## start everything and the console (RELOAD=0, FRESH=1 empty state, DEBUG=<LogicalId>, API=lambda, API_WORKERS=2, CONSOLE=0, WARM=0, PARAMS="Name=Value ...")
	@$(BIN)/python -m infra.local run --port $(PORT) --aws-port $(MOTO_PORT) --api $(API) --console-port $(CONSOLE_PORT) \
		$(if $(filter 0,$(CONSOLE)),--no-console) $(if $(filter 0,$(WARM)),--no-warm) \
		$(if $(filter 0,$(RELOAD)),--no-reload) $(if $(FRESH),--fresh) $(if $(DEBUG),--debug "$(DEBUG)") \
		$(foreach p,$(PARAMS),--param "$(p)")

reset: install  ## start `make run` with empty state (same as FRESH=1)
	@$(MAKE) --no-print-directory run FRESH=1

status: install  ## the running stack: each function's invocations and errors, queue depths, recent executions
	@$(BIN)/python -m infra.local status --aws-port $(MOTO_PORT)

QUEUE ?=
redrive: install  ## move a DLQ's messages back to its source queue: make redrive QUEUE=<DLQ logical id>
	@test -n "$(QUEUE)" || (echo "usage: make redrive QUEUE=<DLQ logical id, e.g. OrderDeadLetterQueue>" && exit 2)
	@$(BIN)/python -m infra.local redrive "$(QUEUE)" --aws-port $(MOTO_PORT)

event: install  ## print a function's default sample event, to edit and pass to make invoke EVENT=
	@test -n "$(FN)" || (echo "usage: make event FN=<LogicalId>" && exit 2)
	@$(BIN)/python -m infra.local event "$(FN)"

FN ?=
EVENT ?=
invoke: install  ## invoke one function like `sam local invoke`: make invoke FN=<LogicalId> [EVENT=<file.json>]
	@test -n "$(FN)" || (echo "usage: make invoke FN=<LogicalId> [EVENT=<file.json>]" && exit 2)
	@$(BIN)/python -m infra.local invoke "$(FN)" $(if $(EVENT),--event "$(EVENT)") --aws-port $(MOTO_PORT) --console-port $(CONSOLE_PORT)

SUB ?= local-user
ROLE ?= user
EMAIL ?=
token: install  ## print a 1-hour bearer token for the API started by `make run` (SUB=, ROLE=user|admin, EMAIL=)
	@$(BIN)/python -m infra.local token --sub "$(SUB)" --role "$(ROLE)" --email "$(EMAIL)" --aws-port $(MOTO_PORT)

lint: install  ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install  ## mypy --strict over app, workers, infra and tests
	$(BIN)/mypy app workers infra tests

imports: install  ## import-linter: the layers of app/ and workers/
	$(BIN)/lint-imports

validate: install  ## cfn-lint and the offline SAM translation of the templates; the workflows against GitHub's schema
	$(BIN)/cfn-lint infra/template.yaml infra/pipeline.yaml
	$(BIN)/python -m infra.validate
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

schemas: install  ## regenerate docs/events/*.json from the event contracts (app/domain/events.py)
	$(BIN)/python -m infra.schemas

image: install  ## the Lambda image's task root, built without Docker from the Dockerfile's steps, in build/image/var/task
	$(BIN)/python -m infra.image build/image

requirements: | $(UV)  ## regenerate requirements.txt (the Lambda image's runtime dependencies) from uv.lock
	$(UV) export --frozen --no-dev --no-emit-project --format requirements-txt > requirements.txt

# Deploy with AWS SAM CLI and Docker (not installed here): `make deploy STAGE=dev|prod`.
STAGE ?= dev
deploy: validate  ## build + push the image, then sam build and sam deploy to STAGE (samconfig.toml)
	infra/deploy.sh $(STAGE)

browser-deps:  ## headless chromium for the browser tests (/docs and the console)
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# One pytest worker per core, and one more: many end-to-end tests spend their time waiting on queues and
# workflows, and the extra worker runs on what they leave idle. An idle worker takes tests from a busy one.
PARALLEL := --numprocesses=$(shell echo $$(( $$(nproc) + 1 ))) --dist=worksteal
test: install browser-deps lint typecheck imports validate  ## every check, then the whole suite with coverage
	$(BIN)/python -m pytest $(PARALLEL) --cov --cov-report=term

check: install lint typecheck  ## the fast loop while editing: ruff, mypy, the unit and API tests
	$(BIN)/python -m pytest $(PARALLEL) tests/unit tests/api tests/console

bench: install  ## cold starts, warm overhead, cost per order, reload and restart times, the console's cost; writes docs/performance.md, docs/devloop.md, docs/console.md
	$(BIN)/python -m infra.bench
	$(BIN)/python -m infra.bench.import_memory --tracemalloc --rows 5000 12500
	$(BIN)/python -m infra.bench.devloop
	$(BIN)/python -m infra.bench.console

USERS ?= 20
DURATION ?= 60
FLASH ?= 0
UNITS ?= 500
SHARDS ?= 16
KEY_SCALE ?= 0.02
load: install  ## locust against `make run` (started if none answers): make load USERS=20 DURATION=60; a flash sale, one shard and SHARDS side by side: make load FLASH=1 UNITS=500 SHARDS=16 KEY_SCALE=0.02
ifeq ($(FLASH),1)
	$(BIN)/python -m infra.bench.flash --units $(UNITS) --shards $(SHARDS) --scale $(KEY_SCALE) --port $(PORT) --aws-port $(MOTO_PORT)
else
	$(BIN)/python -m infra.bench.load --users $(USERS) --seconds $(DURATION) --port $(PORT) --aws-port $(MOTO_PORT)
endif

lock:  ## re-resolve dependencies after editing pyproject.toml
	$(UV) lock --python $(PY)

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .uv .mypy_cache .ruff_cache .coverage
