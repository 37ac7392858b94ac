# tbtwatch: the two commands a new user runs are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
UV := python3 -m uv
export TBTWATCH_HOME ?= $(CURDIR)/var
export AIRFLOW_HOME ?= $(TBTWATCH_HOME)/airflow
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM := 4
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export UV_COMPILE_BYTECODE := 1

.PHONY: setup demo run test bench lock browser loadtool clean

## setup: create .venv with the pinned stack (requirements.lock) and the project; quick when nothing changed
setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@test -x $(PY) || $(UV) venv --quiet --python 3.11 $(VENV)
	$(UV) pip sync --quiet --python $(VENV) requirements.lock
	$(UV) pip install --quiet --python $(VENV) --no-deps -e .
	@touch $@

## lock: re-resolve requirements.lock from pyproject.toml (after changing a dependency)
lock:
	$(UV) pip compile --quiet pyproject.toml --extra test --python-version 3.11 -o requirements.lock

## demo: the whole daily pipeline offline, against the bundled replay of recorded source pages
# The demo's exporters (config/demo/subscribers.csv) and working-group address make the alerts and the
# digest e-mail visible in var/outbox; importing them again is a no-op. The data directory then acts as
# the day the replay was recorded (`tbtwatch today`), so every later command, the web app and the DAGs agree
# on which comment periods are open; `tbtwatch today --clear` returns it to the real date.
demo: setup
	$(VENV)/bin/tbtwatch today 2025-07-22
	$(VENV)/bin/tbtwatch subscriptions import config/demo/subscribers.csv
	TBTWATCH_ALERTS_WORKING_GROUP=tbt-working-group@example.org $(VENV)/bin/tbtwatch daily --offline

## run: the same against the live sources
run: setup
	$(VENV)/bin/tbtwatch daily

## browser: Debian's chromium for the web tests (skipped with a reason when it cannot be installed)
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null 2>&1)) ; } || \
		echo "chromium not installed: browser tests will be skipped"

## test: the whole test suite
test: setup browser
	$(PY) -m pytest -q

## loadtool: Debian's wrk, the load generator of the web benchmark (bench/bench_web_load.py)
loadtool:
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null 2>&1)) ; } || \
		echo "wrk not installed: the web load benchmark will stop with that reason"

## bench: the benchmarks under bench/ (figures printed and saved to $(TBTWATCH_HOME)/bench/latest.json)
bench: setup loadtool
	$(PY) -m bench

clean:
	rm -rf var .pytest_cache
