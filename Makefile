# The README's two commands: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip
STAMP   = $(VENV)/.installed

.PHONY: demo test lint types pytest bench bench-scale clean venv screenshot train

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e '.[dev,train]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest

test: lint types pytest

# The claim detector's weights (digest/claims/weights/detector.json) from the labels, bit for
# bit; `--select` prints the dev-split comparison that chose its settings.
train: $(STAMP)
	$(PY) -m digest.claims.training.train

bench: $(STAMP)
	$(PY) bench/run.py

# The distributed mode with 1, 2, 4 and 8 workers (needs PostgreSQL on 127.0.0.1:5432; see
# bench/scale.py and README, "Scaling past one machine").
bench-scale: $(STAMP)
	$(PY) bench/scale.py

clean:
	rm -rf $(VENV) demo-data .pytest_cache .mypy_cache .ruff_cache

# The README's digest screenshot: headless Chromium (Debian package `chromium`) over the
# demo's digest page. Run `make demo` first.
screenshot:
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	  --no-first-run --user-data-dir=$$(mktemp -d) --hide-scrollbars --window-size=720,1400 \
	  --screenshot=docs/digest.png "file://$$PWD/$$(ls demo-data/digests/????-??-??-????.html | tail -1)"
