"""GPT side of webtext: tokenizer, model, streaming data loader, trainer and sampler.

Modules, one concern each:

- `model.config`     GPTConfig and the presets (tiny, GPT-2 sizes, GPT-3 Table 2.1 sizes)
- `model.gpt`        the GPT-2 architecture (Hugging Face module names), `generate()`
- `model.tokenizer`  byte-level BPE training / loading (`tokenizer.json`)
- `model.data`       Parquet shards -> packed (x, y) token batches, resumable
- `model.optim`      AdamW parameter groups and the warmup + cosine schedule
- `model.checkpoint` safetensors + JSON checkpoints, no pickle
- `model.train`      `python -m model.train --data data/shards`
- `model.sample`     `python -m model.sample --checkpoint data/checkpoints`

Import the submodule you need; this package imports nothing heavy by itself.
"""
