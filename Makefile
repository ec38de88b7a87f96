# lrlab — the learning-rate experiment book.  `make book` builds it, `make test` checks it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS ?= all
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
# papermill parameters for every notebook that declares them, e.g.
#   make book FRAMEWORKS=torch          -> -p frameworks torch
#   make book PARAMS="-p seed 1"
FRAMEWORKS ?=
PARAMS     ?=
NOTEBOOKS  ?= book

export PATH := $(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
# The kernels that execute the notebooks start without the caller's IPython profile (startup
# scripts, print settings); lrlab.plots.setup() does the same for matplotlib inside each notebook.
export IPYTHONDIR := $(CURDIR)/.lrlab-tmp/ipython

# Strict nbval runs twice (README, "Reproducibility"): under this machine's own CPU kernels, and
# under an emulated other machine whose variables `python -m lrlab.kernels --env emulated` prints:
# OpenBLAS, PyTorch's ATen and MKL, and oneDNN held to older vector kernels, plus a caller that
# exports MPLBACKEND=Agg, a C locale, a narrow terminal and a matplotlibrc of its own.
NBVAL := python -m pytest --nbval book -n 2 --dist loadscope --nbval-sanitize-with tests/sanitize.cfg \
         --nbval-cell-timeout=300 -p no:cacheprovider

.PHONY: help setup book html test unit nbval nbval-native nbval-emulated crosscheck site browser bench lab lock sync clean

help:
	@echo "make book   build the whole book: set up .venv, execute every notebook (papermill, $(JOBS) at a time), build the site"
	@echo "make html   build the site from the stored notebook outputs only"
	@echo "make test   unit tests, strict nbval over every notebook in two kernel settings, pairing check, site build with warnings as errors"
	@echo "make crosscheck NOTEBOOKS=book/09-momentum   run notebooks under both kernel settings and list the cells whose text differs"
	@echo "make lab    JupyterLab on book/ (any user, root included; open the printed URL; LAB_TOKEN=... sets the token)"
	@echo "make lock   remake constraints.txt, the exact lock, from pyproject's ranges (scripts/lock.sh)"
	@echo "make sync   update each .ipynb from its edited .py twin (keeps outputs)"
	@echo "make clean  remove the built site and caches (keeps .venv)"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[$(EXTRAS)]"
	@touch $(STAMP)

setup: $(STAMP)

book: $(STAMP)
	lrlab book $(NOTEBOOKS) --workers $(JOBS) $(if $(FRAMEWORKS),-p frameworks $(FRAMEWORKS)) $(PARAMS)
	python -m lrlab.claims
	python -m lrlab.examples
	@$(MAKE) --no-print-directory html

html: $(STAMP)
	jupyter-book build . --warningiserror --keep-going --quiet
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

test: $(STAMP) unit nbval site

unit: $(STAMP)
	ruff check lrlab tests benchmarks book
	python -m pytest tests -n 2 --dist loadfile -m "not site"
	python -m pytest --doctest-modules -p no:cacheprovider lrlab  # every module's examples

nbval: nbval-native nbval-emulated

nbval-native: $(STAMP)
	$(NBVAL)

nbval-emulated: $(STAMP)
	env $$(python -m lrlab.kernels --env emulated) $(NBVAL)

crosscheck: $(STAMP)
	python -m lrlab.kernels $(NOTEBOOKS)

site: $(STAMP) browser
	python -m pytest tests -m site

# The browser test (tests/test_browser.py) drives Debian's Chromium through Debian's ChromeDriver;
# a CJK font lets its screenshots show the glossary's Chinese terms.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	  && test -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || { \
	  echo "installing Debian's chromium, chromium-driver and fonts-wqy-microhei for the browser test"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) \
	    apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null; }

bench: $(STAMP)
	python benchmarks/run.py

LAB_TOKEN ?=
LAB_ARGS  ?=

lab: $(STAMP)
	LAB_TOKEN="$(LAB_TOKEN)" scripts/lab.sh $(LAB_ARGS)

lock:
	scripts/lock.sh

sync: $(STAMP)
	jupytext --sync book/*/*.py

clean:
	rm -rf _build .pytest_cache .hypothesis runs
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
