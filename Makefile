# skyseg: `make demo` sets up and runs the main job; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export QT_QPA_PLATFORM ?= offscreen

.PHONY: demo test hosts bench fuzz lint screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Base install: what segmenting and editing needs (no torch).
$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# Everything: GUI, training, Dask clusters and test tools.
$(VENV)/.installed-all: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[gui,train,eval,cluster,video,dev]"
	touch $@ $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	mkdir -p out
	$(BIN)/skyseg mask assets/samples --out-dir out --overwrite
	$(BIN)/skyseg replace assets/samples --sky golden_hour --out-dir out --overwrite

# Real GIMP 3 (Debian 13 chroot) and Krita for the plug-in tests; cached outside the repo, quick when set up.
hosts:
	scripts/setup_hosts.sh

test: $(VENV)/.installed-all hosts
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-all
	$(BIN)/python -m benchmarks.run

# Long fuzzing run (tests/test_fuzz.py with the "long" hypothesis profile: about 300,000 cases;
# no per-test timeout, which is sized for the default profile).
fuzz: $(VENV)/.installed-all
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest tests/test_fuzz.py -q --timeout=0 --hypothesis-show-statistics

lint: $(VENV)/.installed-all
	$(BIN)/ruff check skyseg_core effects_gui plugins tests benchmarks scripts

screenshots: $(VENV)/.installed-all
	$(BIN)/python scripts/screenshots.py --out-dir docs
	$(BIN)/python scripts/screenshot_video.py --out-dir docs

clean:
	rm -rf out .pytest_cache
