"""The GPT module: names, shapes, init, causality, learning, generation; and the optimizer set-up."""

from __future__ import annotations

import math

import pytest
import torch

from model.config import GPTConfig
from model.generate import generate
from model.gpt import GPT
from model.optim import OptimConfig, build_optimizer, lr_at

SMALL = GPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=128)


def make_model(cfg: GPTConfig = SMALL, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(cfg)


def test_hugging_face_module_names() -> None:
    keys = set(make_model().state_dict())
    for name in [
        "transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight", "transformer.ln_f.bias",
        "transformer.h.0.ln_1.weight", "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_attn.bias",
        "transformer.h.0.attn.c_proj.weight", "transformer.h.0.ln_2.weight", "transformer.h.1.mlp.c_fc.weight",
        "transformer.h.1.mlp.c_proj.bias", "lm_head.weight",
    ]:
        assert name in keys, name


def test_forward_shapes_and_initial_loss() -> None:
    cfg = GPTConfig(n_layer=2, n_head=2, n_embd=64, block_size=32, vocab_size=512)
    model = make_model(cfg)
    x = torch.randint(0, 512, (4, 32))
    logits, loss = model(x, torch.randint(0, 512, (4, 32)))
    assert logits.shape == (4, 32, 512)
    # Small init -> nearly uniform predictions -> loss ~ ln(vocab).
    assert loss.item() == pytest.approx(math.log(512), abs=0.1)
    logits, loss = model(x[:, :5])
    assert logits.shape == (4, 5, 512) and loss is None
    with pytest.raises(ValueError):
        model(torch.zeros(1, 33, dtype=torch.long))


def test_tied_head_and_scaled_residual_init() -> None:
    cfg = GPTConfig(n_layer=8, n_head=4, n_embd=256, block_size=16, vocab_size=256)
    model = make_model(cfg)
    assert model.lm_head.weight is model.transformer.wte.weight
    assert model.num_params() == cfg.num_params()  # tied matrix counted once
    std_proj = model.transformer.h[0].mlp.c_proj.weight.std().item()
    std_fc = model.transformer.h[0].mlp.c_fc.weight.std().item()
    assert std_fc == pytest.approx(0.02, rel=0.05)
    assert std_proj == pytest.approx(0.02 / math.sqrt(2 * cfg.n_layer), rel=0.05)
    assert model.transformer.h[0].attn.c_attn.bias.abs().sum() == 0


def test_attention_is_causal() -> None:
    model = make_model().eval()
    x = torch.randint(0, 128, (1, 16))
    y = x.clone()
    y[0, 10:] = (y[0, 10:] + 1) % 128  # change the future only
    a, _ = model(x)
    b, _ = model(y)
    assert torch.allclose(a[0, :10], b[0, :10], atol=1e-6)
    assert not torch.allclose(a[0, 10:], b[0, 10:])


def test_overfits_a_tiny_batch() -> None:
    model = make_model(GPTConfig(n_layer=2, n_head=2, n_embd=64, block_size=16, vocab_size=128))
    opt = build_optimizer(model, OptimConfig(lr=3e-3, weight_decay=0.0))
    g = torch.Generator().manual_seed(1)
    block = torch.randint(0, 128, (4, 17), generator=g)
    x, y = block[:, :-1], block[:, 1:]
    losses = []
    for _ in range(50):
        _, loss = model(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    assert losses[0] > 4.5
    assert losses[-1] < 0.5, losses[-1]  # memorised: random tokens cannot be predicted otherwise


def test_ignore_index_targets() -> None:
    model = make_model()
    x = torch.randint(0, 128, (2, 8))
    t = torch.randint(0, 128, (2, 8))
    _, full = model(x, t)
    masked = t.clone()
    masked[:, 4:] = -1
    _, part = model(x, masked)
    logits, _ = model(x)
    expect = torch.nn.functional.cross_entropy(logits[:, :4].reshape(-1, 128), t[:, :4].reshape(-1))
    assert part.item() == pytest.approx(expect.item(), rel=1e-5) and part.item() != full.item()


def test_generate() -> None:
    model = make_model().eval()
    prompt = torch.randint(0, 128, (2, 20))  # longer than block_size: the context is cropped
    out = generate(model, prompt, 5, temperature=1.0, top_k=10, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 25) and torch.equal(out[:, :20], prompt)
    again = generate(model, prompt, 5, temperature=1.0, top_k=10, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    greedy = generate(model, prompt, 1, temperature=0)
    logits, _ = model(prompt[:, -16:])
    assert torch.equal(greedy[:, -1], logits[:, -1].argmax(-1))
    limited = generate(model, prompt, 30, temperature=2.0, vocab_limit=7,
                       generator=torch.Generator().manual_seed(0))
    assert limited[:, 20:].max() < 7


def test_optimizer_groups_and_schedule() -> None:
    model = make_model()
    opt = build_optimizer(model, OptimConfig(weight_decay=0.1))
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"]) and all(p.dim() == 1 for p in no_decay["params"])
    # Every parameter exactly once (the tied matrix is not duplicated).
    ids = [id(p) for g in opt.param_groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == len(list(model.parameters()))
    assert opt.defaults["betas"] == (0.9, 0.95) and opt.defaults["eps"] == 1e-8

    cfg = OptimConfig(lr=1.0, min_lr_ratio=0.1, warmup_steps=10, decay_steps=110)
    lrs = [lr_at(s, cfg) for s in range(130)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[60] == pytest.approx(0.55)  # half-way down the cosine: (1 + 0.1) / 2
    assert lrs[110] == lrs[129] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))
