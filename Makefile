# Two commands matter: `make demo` runs the product, `make test` checks it (CI runs it).
PYTHON ?= python3.12
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/seedance
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
# The bench's own database and Redis db: it adds tenants and runs, and flushes the db.
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432/seedance_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
BENCH_ARGS ?=

.PHONY: install demo serve test lint fuzz-api test-client chaos chaos-ci test-sqlite test-postgres bench bench-lost-creates clean

# Settings refuse to load without SECRET_KEY when DEBUG is off: checks, tests and the bench
# get a throwaway key made for this run (never a key from the repository or the shell).
THROWAWAY_KEY := $(shell od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
test lint fuzz-api test-client test-sqlite test-postgres bench bench-lost-creates: export SECRET_KEY := throwaway-$(THROWAWAY_KEY)
test lint fuzz-api test-client test-sqlite test-postgres bench bench-lost-creates: export SECRET_KEY_FALLBACKS :=
THROWAWAY_WEBHOOK_KEY := $(shell head -c 32 /dev/urandom | base64 | tr '+/' '-_')
test lint fuzz-api test-client test-sqlite test-postgres bench bench-lost-creates: export WEBHOOK_SECRET_KEYS := $(THROWAWAY_WEBHOOK_KEY)

$(STAMP): pyproject.toml constraints.txt clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(PY) -m pip install --quiet -c constraints.txt -e clients/python
	touch $(STAMP)

install: $(STAMP)

## Everything up on SQLite with no environment: sandbox, worker, web server.
demo: install
	bash scripts/demo.sh

## Production: gunicorn, the worker and the dispatcher, all from the environment
## (README, "Serving"). Migrations are a release step, not part of this.
serve: install
	bash scripts/serve.sh

## The whole check: lint, types, migrations, the API against its OpenAPI document
## (schemathesis), the Python client against a live stack, then the suite on SQLite with
## the ORM broker and on PostgreSQL with the Redis broker.
test: install lint fuzz-api test-client chaos-ci test-sqlite test-postgres

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check --fail-level WARNING

## The chaos run (tests/chaos/README.md): the whole stack under injected faults, then the
## invariant table; exits non-zero on any breach. PostgreSQL db seedance_chaos, Redis db 7,
## ports 18200-18203.
chaos: install
	bash scripts/ensure-services.sh
	$(PY) -m tests.chaos --runs 1000

chaos-ci: install
	bash scripts/ensure-services.sh
	$(PY) -m tests.chaos --runs 100

## schemathesis against the served schema, on a stack of its own (scripts/api-fuzz.sh).
fuzz-api: install
	bash scripts/api-fuzz.sh

## The Python client (clients/python) against a live stack of its own (scripts/client-test.sh).
test-client: install
	bash scripts/client-test.sh

test-sqlite: install
	env -u REDIS_URL -u DATABASE_URL $(VENV)/bin/pytest -n 2 --dist loadfile -q

test-postgres: install
	bash scripts/ensure-services.sh
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) Q_CLUSTER_NAME=seedance-test \
		$(VENV)/bin/pytest -n 2 --dist loadfile -q

## API create, callback ingest and meter push on PostgreSQL and Redis, each beside the bare
## endpoint of the same run: bench/RESULTS.md. Needs wrk (apt-get install wrk).
bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	bash scripts/ensure-services.sh
	psql "$(dir $(BENCH_PG_URL))postgres" -qc "CREATE DATABASE $(notdir $(BENCH_PG_URL))" 2>/dev/null || true
	DATABASE_URL=$(BENCH_PG_URL) REDIS_URL=$(BENCH_REDIS_URL) Q_CLUSTER_NAME=seedance-bench \
		$(PY) bench/run_all.py $(BENCH_ARGS)

# A few minutes: lost create answers at production timings, p50/p95 to a terminal run.
bench-lost-creates: install
	$(PY) bench/lost_creates.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .schemathesis
