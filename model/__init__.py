"""GPT side of webtext: tokenizer, model, streaming data loader, trainer and sampler.

Modules, one concern each:

- `model.config`      GPTConfig and the presets (tiny, GPT-2 sizes, GPT-3 Table 2.1 sizes)
- `model.attention`   causal self-attention through SDPA, dense or GPT-3's locally banded layers
- `model.kv_cache`    per-layer key/value cache for incremental decoding
- `model.gpt`         the GPT-2 architecture (Hugging Face module names)
- `model.generate`    decoding: temperature, top-k, top-p, with or without the KV cache
- `model.tokenizer`   byte-level BPE training / loading (`tokenizer.json`)
- `model.data`        shard discovery, the train/val split, documents of one stream (sharding)
- `model.packing`     documents -> blocks of block_size + 1 tokens, with a two-number resume state
- `model.mixing`      sources and GPT-3 style mixture weights (`--mix`)
- `model.loader`      streams x ranks x DataLoader workers -> (x, y) batches, exact resume
- `model.optim`       AdamW parameter groups and the warmup + cosine schedule
- `model.distributed` torchrun / DDP set-up and the few collectives the trainer uses
- `corpus.writers.atomic`      atomic file and folder writes (temporary name, fsync, rename)
- `model.checkpoint`  safetensors + JSON checkpoints in step folders, `latest`, keep-last-k; no pickle
- `model.metrics`     metrics.jsonl, TensorBoard, the loss-curve PNG
- `model.estimate`    memory and FLOPs estimates (`--dry-run`, MFU)
- `model.cli`         checked numbers, defaults in --help, one-line errors (exit 2), terminal or log progress
- `model.train`       `python -m model.train --data data/shards`
- `model.sample`      `python -m model.sample --checkpoint data/checkpoints`

Import the submodule you need; this package imports nothing heavy by itself.
"""
