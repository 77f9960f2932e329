# Two commands for a new user: `make run` and `make test`. Each builds what it needs first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test install locales compile-locales clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) compile-locales

compile-locales: $(STAMP)
	$(VENV)/bin/pybabel compile --domain messages --directory locales --statistics 2>&1 | grep -v '^$$' || true

run: install
	$(VENV)/bin/mcu run

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# For developers: refresh the catalogs after changing texts, then translate locales/en.
locales: $(STAMP)
	$(VENV)/bin/pybabel extract --mapping-file babel.cfg --no-location --sort-output \
		--omit-header --output-file locales/messages.pot .
	$(VENV)/bin/pybabel update --domain messages --input-file locales/messages.pot \
		--output-dir locales --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache
