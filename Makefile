# ClaimDesk: `make run` serves the admin with a demo practice; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-browser test-fast test-sqlite test-postgres bench bench-scale loadtest lint install clean-db model-explore

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# A per-machine secret key, written once and never committed (instance/ is git-ignored); umask 077 makes the
# file 0600 from its first byte, so no other account on the machine can read the key.
instance/config.py:
	mkdir -p instance
	umask 077 && $(BIN)/python -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@
	@echo "Wrote $@ with a new SECRET_KEY."

# The scheduler runs in its own process beside the web server (web workers never start one) and is
# stopped with it: the trap sends SIGTERM, which `flask scheduler run` treats as a clean shutdown.
# CLAIMDESK_DEMO=1: the demo's logins (password `demo`) may serve, and two-factor is optional.
run: export CLAIMDESK_DEMO = 1
run: $(STAMP) instance/config.py
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(BIN)/flask scheduler run & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# TEST_DATABASE_URL=postgresql+psycopg://... runs the suite on PostgreSQL; default is SQLite.
test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Only the browser suite (tests/browser, marked `browser`): Debian's chromium drives a live demo app on its own
# SQLite database, whatever TEST_DATABASE_URL says. `make test` includes it.
test-browser: $(STAMP)
	$(BIN)/pytest -m browser tests/browser $(PYTEST_ARGS)

# The suite without the tests marked `slow` (over 2 s each), while you iterate; `make test` and CI run them all.
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

# The posting model test on new random sequences, MODEL_RUNS times (CI replays the same derandomized ones);
# a failure prints its sequence unshrunk: rerun without MODEL_NO_SHRINK for the smallest one.
MODEL_RUNS ?= 5
model-explore: $(STAMP)
	for i in $$(seq $(MODEL_RUNS)); do MODEL_RANDOM=1 MODEL_NO_SHRINK=1 $(BIN)/pytest -q -p no:cacheprovider \
		tests/model/test_posting_model.py || exit 1; done

BENCH_PG := $${BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1/claimdesk_bench}

# Each script writes its own section of benchmarks/RESULTS.md.
bench: $(STAMP)
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python benchmarks/bench_foundation.py --scale 100
	$(BIN)/python benchmarks/bench_foundation.py --scale 100 --database-url $(BENCH_PG)
	$(BIN)/python benchmarks/bench_rules.py
	$(BIN)/python benchmarks/bench_submissions.py
	$(BIN)/python benchmarks/bench_era.py
	$(BIN)/python benchmarks/bench_acks.py
	$(BIN)/python benchmarks/bench_reports.py
	$(BIN)/python benchmarks/bench_cms1500.py
	$(BIN)/python benchmarks/bench_statements.py
	$(BIN)/python benchmarks/bench_eligibility.py
	$(BIN)/python benchmarks/bench_dashboard.py --scale 100

# Scale benchmark (issue 20), apart from `make bench`: seeds the database given when it holds no demo
# (BENCH_SCALE_DATABASE_URL; BENCH_SCALE, the seed-demo scale, default 1000), then measures the pages, rules,
# submissions (bench_submissions_scale's measurement), two 835s and the reports, each in its own process.
# It uses the database up: give it an empty one. BENCH_SCALE_ARGS passes more (e.g. --steps pages,rules).
# Then every report for a year on a database of its own (an empty one): BENCH_REPORTS_DATABASE_URL, with
# BENCH_REPORT_CLAIMS claims (default 1,000,000) bulk-written by SQL.
BENCH_SCALE_PG := $${BENCH_SCALE_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1/claimdesk_scale}
BENCH_REPORTS_PG := $${BENCH_REPORTS_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1/claimdesk_reports_scale}
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_scale.py --database-url $(BENCH_SCALE_PG) --scale $${BENCH_SCALE:-1000} $(BENCH_SCALE_ARGS)
	$(BIN)/python benchmarks/bench_reports.py --every-report --claims $${BENCH_REPORT_CLAIMS:-1000000} \
		--database-url $(BENCH_REPORTS_PG)

LOAD_PG := $${LOAD_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1/claimdesk_load}
LOAD_SECONDS ?= 60

# gunicorn (4 workers) and the scheduler on a scratch PostgreSQL database (dropped and made again: its name must
# contain "load"), 20 billers and 5 accountants for LOAD_SECONDS; then `flask ledger check` and the money compared
# claim by claim. Not part of `make test` or CI. LOAD_ARGS passes more options (benchmarks/loadtest.py --help).
loadtest: $(STAMP)
	$(BIN)/pip install -q -e '.[dev,load]'
	$(BIN)/python benchmarks/loadtest.py --database-url $(LOAD_PG) --duration $(LOAD_SECONDS) $(LOAD_ARGS)

# ruff, then the layer contract ([tool.importlinter] in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean-db:
	rm -f instance/claimdesk.sqlite
