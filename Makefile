# Two commands: `make run` serves the catalog, `make test` runs the whole suite (ruff, mypy, pytest).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
# Local commands default to development mode (SQLite, generated SECRET_KEY); set DEBUG=0 and
# SECRET_KEY in the environment to run them against a production configuration.
DEV := DEBUG=$${DEBUG:-1}
MANAGE := $(DEV) $(PY) manage.py

.PHONY: run test lint format setup worker beat poll evaluate manage clean

$(STAMP): requirements.txt requirements-dev.txt
	@echo "==> Creating the virtualenv in $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> Installing pinned requirements (a minute or two the first time)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)
	@echo "==> Migrating the database"
	@$(MANAGE) migrate --noinput
	@$(MANAGE) createcachetable
	@echo "==> Loading the seed catalog"
	@$(MANAGE) load_seed_catalog
	@$(MANAGE) ensure_local_curator

# Without REDIS_URL there is no broker and no beat: the launcher polls due feeds every minute in
# a background process that stops with the server. With REDIS_URL, run `make worker` and
# `make beat` beside it. Ctrl+C stops everything and exits 0 (see kubelearn/devserver.py).
run: setup
	@echo "==> Serving http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	@$(DEV) $(PY) -m kubelearn.devserver $(HOST):$(PORT)

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
	$(DEV) $(VENV)/bin/celery -A kubelearn worker --loglevel=INFO

beat: $(STAMP)
	$(DEV) $(VENV)/bin/celery -A kubelearn beat --loglevel=INFO

# Poll every active feed now and print a summary (`make poll ARGS="--feed 3"` for one).
poll: setup
	$(MANAGE) poll_feeds $(ARGS)

# Compare the recommender with its baselines on the seed catalog.
evaluate: setup
	$(MANAGE) evaluate_recommender $(ARGS)

# Any other management command: `make manage ARGS="createsuperuser"`.
manage: $(STAMP)
	$(MANAGE) $(ARGS)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .mypy_cache
