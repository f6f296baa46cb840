"""Back-of-the-envelope numbers for a run: memory per GPU and FLOPs per token.

Memory (per data-parallel rank; DDP replicates everything):
  weights      4 bytes/param (fp32 master weights; bf16 autocast keeps them in fp32 and casts on the
               fly, adding a transient 2 bytes/param of bf16 copies, listed separately)
  gradients    4 bytes/param
  AdamW        8 bytes/param (exp_avg and exp_avg_sq in fp32)
  activations  what the forward pass saves for the backward, for one micro-batch of b sequences of
               s tokens, width h, L layers, vocab V. Counting the tensors our Block saves (SDPA's
               flash/memory-efficient kernels store q, k, v, the output and a log-sum-exp, never the
               s x s scores): the two LayerNorm inputs (the residual stream, fp32 even under
               autocast), the inputs of c_attn, c_fc (1 sbh each) and of the MLP's c_proj (4 sbh),
               q/k/v (3 sbh), the attention output, which is also the attention c_proj's input
               (1 sbh), and the GELU input (4 sbh):
                 fp32:          16 sbh values x 4 bytes   = 64 sbh bytes per layer
                 bf16 autocast: 2 x 4 + 14 x 2 bytes      = 36 sbh bytes per layer
               plus the final LayerNorm and LM-head inputs (8 or 6 sbh bytes), the fp32 log-softmax
               of the loss (4 sbV bytes), and 2 sbh bytes per layer of dropout masks when dropout > 0.
               (Korthikanti et al. 2022 count 34 sbh for a fully 16-bit layer with dropout masks.)
               `tests/model/test_estimate.py` checks these counts against the tensors autograd
               actually saves. Transient peaks (the logits and their gradient, ~2 more sbV values
               while the loss is computed) come on top.
A banded layer (attention_pattern="alternating") through flex_attention (model/attention.py: CUDA,
or CPU inference) saves what the flash kernels save; through the masked SDPA fallback it may use a
kernel that stores the b x heads x s x s probabilities; that is not included.

FLOPs per token, forward + backward (Kaplan et al. 2020; the PaLM paper's MFU, nanoGPT's
`estimate_mfu`): 6 N for the weight matmuls plus attention's QK^T and AV products, 12 h per
(query, key) pair (2 h each for QK^T and AV forward, twice that backward):
  dense layer   12 h s: PaLM's convention counts every query against all s keys, although the
                causal mask makes half of them zero;
  banded layer  12 h k, k = the average over the s queries of min(i + 1, W), the keys query i really
                sees (W(W+1)/2 + (s - W) W, over s): the block-sparse kernel skips the rest, so MFU
                counts the band's work only. (The kernel's partial 128 x 128 blocks at the band's
                edges are computed and masked, like the causal half of a dense layer: not counted.)
An all-dense model gets PaLM's 6 N + 12 L h s. A band at least as wide as the sequence counts
(s + 1) / 2 keys, half a dense layer: the two rules are the conventions above, not one rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.config import GPTConfig

GIB = 1024**3


@dataclass
class MemoryEstimate:
    params: int
    weights: int  # bytes
    grads: int
    optimizer: int
    activations: int
    autocast_weight_copies: int  # bf16 copies made by autocast (0 in fp32)

    @property
    def total(self) -> int:
        return self.weights + self.grads + self.optimizer + self.activations + self.autocast_weight_copies


def activation_bytes(cfg: GPTConfig, batch_size: int, seq_len: int | None = None, dtype: str = "float32") -> int:
    """Bytes the forward pass keeps for the backward pass, for one micro-batch (see module docstring)."""
    s, b, h, L, V = seq_len or cfg.block_size, batch_size, cfg.n_embd, cfg.n_layer, cfg.vocab_size
    sbh = s * b * h
    bf16 = dtype == "bfloat16"
    per_layer = (36 if bf16 else 64) * sbh
    if cfg.dropout > 0:
        per_layer += 2 * sbh  # boolean masks of the two residual dropouts
    head = (4 + (2 if bf16 else 4)) * sbh  # final LayerNorm input (fp32) + LM-head input
    log_softmax = 4 * s * b * V  # the loss upcasts the logits and keeps their log-softmax in fp32
    return L * per_layer + head + log_softmax


def estimate_memory(
    cfg: GPTConfig, batch_size: int, dtype: str = "float32", params: int | None = None
) -> MemoryEstimate:
    """Training memory per rank for micro-batches of `batch_size` x block_size at `dtype`."""
    n = params if params is not None else cfg.num_params()
    return MemoryEstimate(
        params=n, weights=4 * n, grads=4 * n, optimizer=8 * n,
        activations=activation_bytes(cfg, batch_size, dtype=dtype),
        autocast_weight_copies=2 * n if dtype == "bfloat16" else 0,
    )


def keys_per_query(seq_len: int, window: int | None) -> float:
    """Keys each query is counted against, averaged over a sequence of seq_len: seq_len for a dense
    layer (PaLM's convention), the band's mean of min(i + 1, window) for a banded one."""
    s = seq_len
    if window is None:
        return float(s)
    w = min(window, s)
    return (w * (w + 1) / 2 + (s - w) * w) / s


def attention_flops_per_token(cfg: GPTConfig, seq_len: int | None = None) -> float:
    """Forward + backward FLOPs per token of all layers' QK^T and AV products: 12 h x keys per query,
    summed over layers (dense: 12 L h s; see the module docstring for banded layers)."""
    s = seq_len or cfg.block_size
    return 12 * cfg.n_embd * sum(keys_per_query(s, cfg.layer_window(layer)) for layer in range(cfg.n_layer))


def flops_per_token(cfg: GPTConfig, params: int | None = None, seq_len: int | None = None) -> float:
    """Training FLOPs per token (forward + backward): 6 N plus the attention products, 12 L h s for
    an all-dense model, the band's real work for the banded layers of attention_pattern="alternating"."""
    n = params if params is not None else cfg.num_params()
    return 6 * n + attention_flops_per_token(cfg, seq_len)


def format_bytes(n: float) -> str:
    for unit, size in (("TiB", 1024**4), ("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:,.2f} {unit}"
    return f"{n:,.0f} B"
