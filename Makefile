# Two commands: `make demo` and `make test`. Both create .venv and install the
# project into it on first use (and again when pyproject.toml or setup.py change).
# `make test-slurm` (root: it installs and starts a two-node Slurm cluster on this
# machine) runs the Slurm scripts and tools/submit.py on it, see tests/slurm/run.sh.
# `make test-wheel` (minutes) builds the wheel, installs it into a fresh environment and runs
# the `timesformer` command from another folder, see tests/wheel/check_wheel.sh.
# `make test-tensorboard-page` (a minute; root where Chromium is missing: it installs Debian's
# chromium) trains a demo-sized run with TensorBoard on, screenshots its scalars page in
# headless Chromium and checks the picture, see tools/tensorboard_page.sh.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# The PyTorch build to install; override for another platform or CUDA version.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1

.PHONY: demo test test-slurm test-wheel test-tensorboard-page lint install clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(PY) tools/demo.py

test: $(INSTALLED)
	$(PY) -m pytest -q tests

test-slurm: $(INSTALLED)
	PYTHON=$(PY) bash tests/slurm/run.sh

test-wheel:
	PYTHON=$(PYTHON) TORCH_SPEC="$(TORCH_SPEC)" bash tests/wheel/check_wheel.sh

# The screenshot (and, next to it, the page's DOM and TensorBoard's log: .html, .tensorboard.log).
TENSORBOARD_PAGE ?= output/tensorboard_page/tensorboard_scalars.png

test-tensorboard-page: $(INSTALLED)
	@command -v chromium >/dev/null || { \
	    if [ "$$(id -u)" -ne 0 ]; then \
	        echo "test-tensorboard-page: chromium is missing; run as root (this target then" \
	            "installs Debian's chromium), or apt-get install -y chromium" >&2; \
	        exit 2; \
	    fi; \
	    echo "test-tensorboard-page: installing chromium (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	}
	PYTHON=$(PY) bash tools/tensorboard_page.sh --demo $(TENSORBOARD_PAGE)

# ruff: pyflakes, pycodestyle, isort and bugbear checks, and the formatter; then mypy over the
# package (all configured in pyproject.toml).
lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy timesformer

clean:
	rm -rf $(VENV) build *.egg-info
