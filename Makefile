SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test install lint format bench bench-api bench-api-cpu bench-admin clean fuzz browser

$(PY):
	@python=$$(scripts/find-python) && echo "Creating $(VENV) with $$python" && "$$python" -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## Start the platform with demo data on the embedded SQLite database (web + worker).
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	scripts/run-platform

## ruff, then the whole test suite (DATABASE_URL when set, SQLite otherwise).
test: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var

## Group order import benchmark on PostgreSQL: ROWS=1000000 for the big file; BENCH_DATABASE_URL
## (default postgres://postgres@127.0.0.1:5432/orderdesk_bench, dropped and recreated).
bench: install
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) bench/import_bench.py --rows $${ROWS:-100000} $(BENCH_ARGS)

## API load benchmark on PostgreSQL (docs/performance.md): builds or reuses a database with
## 1,000,000 demo orders (BENCH_API_DATABASE_URL, default .../orderdesk_bench_api), gunicorn
## with production settings and a floor app on loopback, wrk with 16 connections.
## BENCH_API_ARGS e.g. "--duration 30 --stage-scaling".
bench-api: install
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) bench/api_bench.py $(BENCH_API_ARGS)

## API cost per request in instructions (callgrind: the same count on a busy machine), the
## platform against the floor, on the bench-api database. BENCH_API_CPU_ARGS e.g. "--only stage".
bench-api-cpu: install
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) bench/api_cpu.py $(BENCH_API_CPU_ARGS)

## Admin at scale: order changelist (default, filtered, searched) and change page on the same
## database; server time and query counts.
bench-admin: install
	$(PY) bench/admin_bench.py $(BENCH_ADMIN_ARGS)

## The schemathesis gate at size: FUZZ_EXAMPLES per operation (default 300) plus the coverage
## phase, against DATABASE_URL when set (SQLite otherwise). FUZZ_SEED=<n> replays a run.
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} $(VENV)/bin/pytest tests/quality/test_schemathesis.py -q $(PYTEST_ARGS)

## The browser gate alone (Playwright + /usr/bin/chromium; screenshots of a failed step in
## var/browser-screenshots/).
browser: install
	$(VENV)/bin/pytest tests/browser -q $(PYTEST_ARGS)
