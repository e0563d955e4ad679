# Two commands: `make run` serves the catalog, `make test` runs the whole suite (ruff, mypy, pytest).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format setup worker beat bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py createcachetable
	DEBUG=$${DEBUG:-1} $(PY) manage.py load_seed_catalog
	DEBUG=$${DEBUG:-1} $(PY) manage.py ensure_local_curator

# Without REDIS_URL there is no broker and no beat: a background `poll_feeds --watch` polls due
# feeds every minute instead, and stops with the server. With REDIS_URL, run `make worker` and
# `make beat` beside it.
run: setup
	@trap 'kill 0' EXIT INT TERM; \
	if [ -z "$$REDIS_URL" ]; then DEBUG=$${DEBUG:-1} $(PY) manage.py poll_feeds --watch 60 & fi; \
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: $(STAMP)
	$(VENV)/bin/celery -A kubelearn worker --loglevel=INFO

beat: $(STAMP)
	$(VENV)/bin/celery -A kubelearn beat --loglevel=INFO

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .mypy_cache
