"""Log-likelihoods under a GPT: the one primitive behind zero/few-shot evaluation and bits per byte.

GPT-3 (section 2.4) scores an in-context task by comparing the model's likelihood of each candidate
completion given the context; LAMBADA-style tasks also ask whether the greedy continuation is exactly the
target. `LogLikelihoodScorer.score` answers both for a list of (context, continuation) pairs, tokenised the
way lm-evaluation-harness does (the continuation's tokens are those of `encode(context + continuation)` after
the context's, so a word is never split differently than in running text).

Two ways to spend the forward passes, both exact (tests compare them):
- "batched": one sequence per (context, continuation) pair, many pairs per forward pass, longest first
  (lm-eval's way). The context is recomputed once per choice.
- "shared-prefix": per item, the context runs once into a KV cache that all its choices continue from.
  Cheaper when contexts are long and choices many; pays one small forward pass per item, so items with a
  single continuation (LAMBADA) still go through the batched path.
`bench/bench_eval_scoring.py` measures both; shared-prefix is the default, 4.5x faster on the 20-way topic
task and 1.2-1.5x on 4-way HellaSwag-style items on CPU (README, "Evaluation").

Padded vocabulary rows (ids >= the tokenizer's size) are masked out of the softmax: no text maps to them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

from model.gpt import GPT
from model.kv_cache import KVCache
from model.tokenizer import eot_id

SCORING_MODES = ("batched", "shared-prefix")


@dataclass(frozen=True)
class Score:
    """The continuation's summed log-probability (nats), whether greedy decoding gives it, its token count."""

    logprob: float
    greedy: bool
    tokens: int


class LogLikelihoodScorer:
    """Scores continuations of contexts under `model`, `batch_size` sequences per forward pass."""

    def __init__(self, model: GPT, tokenizer: Tokenizer, batch_size: int = 16, mode: str = "shared-prefix") -> None:
        if mode not in SCORING_MODES:
            raise ValueError(f"scoring mode must be one of {SCORING_MODES}, got {mode!r}")
        self.model, self.tok, self.batch_size, self.mode = model, tokenizer, batch_size, mode
        self.block = model.config.block_size
        self.vocab = tokenizer.get_vocab_size()
        self.eot = eot_id(tokenizer)
        self.device = next(model.parameters()).device

    # --- tokenisation ---

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False).ids if text else []

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Token ids of (context, continuation), split as lm-eval splits them.

        Trailing spaces of the context move to the continuation ("Answer: " + "B" -> "Answer:" + " B"),
        because byte-level BPE attaches a space to the word after it. An empty context is the start of a
        document: `<|endoftext|>`, as in training.
        """
        stripped = context.rstrip(" ")
        continuation = context[len(stripped):] + continuation
        ctx = self.encode(stripped)
        whole = self.encode(stripped + continuation)
        # Merges may cross the boundary; fall back to separate encodings where they do.
        cont = whole[len(ctx):] if whole[: len(ctx)] == ctx else self.encode(continuation)
        return (ctx or [self.eot]), cont

    # --- scoring ---

    def _logits(self, idx: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        logits = self.model(idx, kv_cache=cache)[0].float()
        if self.vocab < logits.size(-1):
            logits[..., self.vocab:] = -math.inf
        return F.log_softmax(logits, dim=-1)

    @torch.inference_mode()
    def score(self, pairs: Sequence[tuple[str, str]]) -> list[Score]:
        """A `Score` per (context, continuation) pair, in input order."""
        encoded = [self.encode_pair(c, x) for c, x in pairs]
        return self.score_tokens(encoded)

    @torch.inference_mode()
    def score_tokens(self, encoded: Sequence[tuple[list[int], list[int]]]) -> list[Score]:
        """`score` for pairs already tokenised."""
        if self.mode == "shared-prefix":
            return self._score_shared(encoded)
        return self._score_batched(encoded)

    def _window(self, ctx: list[int], cont: list[int]) -> tuple[list[int], int]:
        """The model's input for one pair (at most block_size tokens, context cut from the left) and
        where the continuation's predictions start in it."""
        if not cont:
            raise ValueError("empty continuation: nothing to score")
        whole = (ctx + cont)[-(self.block + 1):]
        inp = whole[:-1]
        return inp, len(inp) - len(cont)

    def _score_batched(self, encoded: Sequence[tuple[list[int], list[int]]]) -> list[Score]:
        results: list[Score | None] = [None] * len(encoded)
        windows = [self._window(c, x) for c, x in encoded]
        # Longest first: a batch's padding is bounded by its first item, and the slowest batch shows up
        # first (lm-eval orders the same way).
        order = sorted(range(len(encoded)), key=lambda i: -len(windows[i][0]))
        for b in range(0, len(order), self.batch_size):
            batch = order[b:b + self.batch_size]
            width = len(windows[batch[0]][0])
            idx = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                inp = windows[i][0]
                idx[row, : len(inp)] = torch.tensor(inp)  # right padding: causal, so never seen by real tokens
            logp = self._logits(idx.to(self.device))
            for row, i in enumerate(batch):
                start, cont = windows[i][1], encoded[i][1]
                results[i] = _continuation_score(logp[row, start:start + len(cont)], cont)
        return results  # type: ignore[return-value]

    def _score_shared(self, encoded: Sequence[tuple[list[int], list[int]]]) -> list[Score]:
        """Pairs with the same context token ids share one prefill; the rest go through `_score_batched`."""
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, (ctx, _) in enumerate(encoded):
            groups.setdefault(tuple(ctx), []).append(i)
        results: list[Score | None] = [None] * len(encoded)
        fallback = []
        for ctx_key, members in groups.items():
            ctx = list(ctx_key)
            conts = [encoded[i][1] for i in members]
            longest = max(map(len, conts))
            if len(members) == 1 or len(ctx) + longest - 1 > self.block or len(members) > self.batch_size * 4:
                # Nothing to share (batching across items is faster then), a left cut is needed, or
                # too many choices for one batch.
                fallback += members
                continue
            cache = self.model.new_kv_cache(1, len(ctx) + longest)
            first = self._logits(torch.tensor([ctx], device=self.device), cache)[0, -1]
            # Every choice continues from the same prefix: copy the cache along the batch dimension.
            shared = self.model.new_kv_cache(len(members), cache.max_len)
            shared.k[:] = cache.k
            shared.v[:] = cache.v
            shared.length = cache.length
            rest = torch.zeros((len(members), max(longest - 1, 1)), dtype=torch.long)
            for row, cont in enumerate(conts):
                rest[row, : len(cont) - 1] = torch.tensor(cont[:-1], dtype=torch.long)
            logp = self._logits(rest.to(self.device), shared) if longest > 1 else None
            for row, (i, cont) in enumerate(zip(members, conts)):
                steps = first.unsqueeze(0) if logp is None else torch.cat([first.unsqueeze(0), logp[row]])
                results[i] = _continuation_score(steps[: len(cont)], cont)
        if fallback:
            for i, s in zip(fallback, self._score_batched([encoded[i] for i in fallback])):
                results[i] = s
        return results  # type: ignore[return-value]


def _continuation_score(logp: torch.Tensor, cont: list[int]) -> Score:
    """Sum of log p(cont[t]) over the rows of `logp` (one row per continuation token)."""
    target = torch.tensor(cont, device=logp.device)
    picked = logp.gather(1, target.unsqueeze(1)).squeeze(1)
    greedy = bool((logp.argmax(dim=-1) == target).all())
    return Score(float(picked.double().sum()), greedy, len(cont))


@dataclass(frozen=True)
class TextLoss:
    """Summed negative log-likelihood of texts: nats, tokens predicted, UTF-8 bytes."""

    nll: float
    tokens: int
    bytes: int
    documents: int

    @property
    def bits_per_byte(self) -> float:
        """Tokenizer-independent: the same text costs the same bytes whatever the vocabulary."""
        return self.nll / math.log(2) / self.bytes if self.bytes else math.nan

    @property
    def perplexity(self) -> float:
        """Per token, so only comparable between runs with the same tokenizer."""
        return math.exp(self.nll / self.tokens) if self.tokens else math.nan


@torch.inference_mode()
def text_loss(model: GPT, tokenizer: Tokenizer, texts: Sequence[str], batch_size: int = 16) -> TextLoss:
    """The model's loss on whole documents, each starting after `<|endoftext|>` as in training.

    A document longer than the context is scored in consecutive windows of block_size tokens, each window
    conditioned only on itself (lm-eval's rolling log-likelihood with disjoint windows): every token is
    predicted exactly once, so the sum is the document's log-likelihood under this context limit.
    """
    scorer = LogLikelihoodScorer(model, tokenizer, batch_size, mode="batched")  # no two windows share a prefix
    pieces: list[tuple[list[int], list[int]]] = []
    n_bytes = 0
    for text in texts:
        ids = [scorer.eot] + scorer.encode(text)
        n_bytes += len(text.encode("utf-8"))
        for start in range(1, len(ids), scorer.block):
            pieces.append((ids[start - 1:start], ids[start:start + scorer.block]))
    # Each piece is a 1-token context and up to block_size targets: one full window of the model.
    scores = scorer.score_tokens(pieces)
    nll = -sum(s.logprob for s in scores)
    return TextLoss(nll, sum(s.tokens for s in scores), n_bytes, len(texts))
