# Two commands set up a fresh Debian/Ubuntu machine (as root) and do the work:
#   make demo   system packages + .venv + ncfvid, then render storyboards/ncf.yaml
#   make test   the same set-up, then ruff and the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := libcairo2-dev libpango1.0-dev pkg-config espeak-ng fonts-dejavu-core fonts-noto-core fonts-noto-cjk sox ffmpeg poppler-utils chromium festival festvox-us-slt-hts
QUALITY ?= l

.PHONY: setup system-deps demo test lint validate bench clean

setup: system-deps $(VENV)/.installed

# Manim builds pycairo and ManimPango against Cairo and Pango; Festival with cmu_us_slt_arctic_hts is the
# default voice, espeak-ng the fast one (many languages). The tests check published files with ffprobe
# (ffmpeg) and pdfinfo (poppler-utils) and open the review page in headless Chromium.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing system packages:$$missing (run as root, or: sudo apt-get install$$missing)"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/ncfvid render storyboards/ncf.yaml -q $(QUALITY)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

validate: setup
	$(BIN)/ncfvid validate storyboards/*.yaml

test: setup lint validate
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python bench/holds.py --quick

clean:
	rm -rf output
