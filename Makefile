# PrefLab: `make run` starts the app with a demo project, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A CPU build of torch, from a local wheel folder (pip's find-links) when it holds one, else
# from PyTorch's CPU index; its dependencies come from PyPI. Installing must never pull a
# multi-GB CUDA build onto a CPU machine. GPU images install their own.
TORCH_VERSION ?= 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: run test lint bench install install-dev system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.torch: | $(BIN)/python
	@$(BIN)/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$(TORCH_VERSION)')" 2>/dev/null \
	  || ($(BIN)/pip install --quiet --no-index --no-deps "torch==$(TORCH_VERSION)" 2>/dev/null \
	      && $(BIN)/pip install --quiet "torch==$(TORCH_VERSION)") \
	  || $(BIN)/pip install --quiet "torch==$(TORCH_VERSION)" \
	      --index-url $(TORCH_CPU_INDEX) --extra-index-url https://pypi.org/simple
	@touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Browser tests drive Debian's Chromium; the compose file is checked by Debian's docker-compose.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! command -v docker-compose >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium docker-compose >/dev/null; \
	  else \
	    echo "Please install Debian's chromium and docker-compose packages (sudo apt-get install chromium docker-compose)"; exit 1; \
	  fi; \
	fi

run: install
	$(BIN)/python manage.py serve --demo

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-dev system-deps lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-dev
	$(BIN)/python -m bench $(ONLY)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
