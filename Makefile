# The two commands: `make run` and `make test`. Each creates the virtualenv when missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# `make run` listens on this machine only; HOST=0.0.0.0 opens it to the network.
HOST ?= 127.0.0.1

.PHONY: run test venv bench lint screenshots

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: venv
	HOST="$(HOST)" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m server.embedded_redis $(PY) -m server.devrun

test: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m server.embedded_redis $(PY) -m pytest $(PYTEST_ARGS)

# Refresh the committed screenshots in docs/screenshots (ordinary test runs never write there).
screenshots: venv
	SCREENSHOTS_DIR="$(CURDIR)/docs/screenshots" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
		$(PY) -m server.embedded_redis $(PY) -m pytest -q -m screenshots tests/browser

lint: venv
	$(VENV)/bin/ruff check .

bench: venv
	$(PY) -m pip install -q schemathesis numpy
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m bench.run $(BENCH_ARGS)
