# Set-up and entry points. Every target creates/refreshes .venv from pinned requirements.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# docs/api holds generated stubs: removed first, so a moved or renamed module leaves none behind
SPHINX = rm -rf docs/api && $(BIN)/python -m sphinx -q -b html

.PHONY: install test docs demo reproduce clean

install: $(STAMP)

$(STAMP): requirements.txt setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# the suite, then the documentation with warnings as errors (a broken reference fails)
test: install
	$(BIN)/python -m pytest tests -q
	$(SPHINX) -W --keep-going docs docs/_build/html

# documentation site -> docs/_build/html/index.html (API reference, component catalogue)
docs: install
	$(SPHINX) docs docs/_build/html
	@echo "open docs/_build/html/index.html"

# Built-in demo data -> MAE-only, stage 1, stage-2 iteration 1, fine-tuning (2 seeds, CPU)
# -> work_dirs/demo/
demo: install
	$(BIN)/python tools/demo.py

# The paper's Tables 1, 3 and 4a at demo size (3 seeds, CPU) -> work_dirs/reproduce/tables.md
reproduce: install
	$(BIN)/python tools/reproduce.py

clean:
	rm -rf $(VENV) work_dirs .pytest_cache docs/_build docs/api docs/components.md
