"""Documents -> fixed blocks of tokens, with a resume state of two numbers.

`BlockPacker` tokenizes the documents of one `ShardDocuments` stream in batches, puts `<|endoftext|>`
after each one, and cuts the token stream into blocks of `width` (= block_size + 1) tokens: a block
gives x = block[:-1] and y = block[1:].

Exact resume without saving any tokens: the state is the position of the first document that still
has tokens not yet emitted, plus how many of its tokens were emitted. Restoring it re-reads that
document and skips those tokens, so the next block is exactly the one an uninterrupted run would
have produced. Memory stays bounded: at most `tokenize_batch` documents' tokens are buffered.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict
from itertools import islice
from typing import Any

from tokenizers import Tokenizer

from model.data import DocPosition, ShardDocuments
from model.tokenizer import eot_id


class BlockPacker:
    """Blocks of `width` tokens from one stream of documents; `state()` after a block resumes after it."""

    def __init__(
        self,
        docs: ShardDocuments,
        tokenizer: Tokenizer,
        width: int,
        tokenize_batch: int = 64,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.docs = docs
        self.tokenizer = tokenizer
        self.eot = eot_id(tokenizer)
        self.width = width
        self.tokenize_batch = tokenize_batch
        state = state or {}
        self._position = DocPosition(**state.get("position", {}))  # first document with tokens left
        self._token_offset = int(state.get("token_offset", 0))  # its tokens (incl. EOT) already emitted
        self._skip = self._token_offset
        self._last_done = (self._position, self._token_offset)
        self._docs = None  # the document iterator, opened on the first block
        self._buf: list[int] = []  # tokens read; self._buf[self._head:] not yet emitted
        self._head = 0
        # One entry per document with tokens in the buffer, oldest first: [position, n_tokens, n_left].
        self._segments: deque[list[Any]] = deque()
        self._exhausted = False

    @property
    def epoch(self) -> int:
        return self._position.epoch

    def state(self) -> dict[str, Any]:
        """JSON-serialisable resume state: the next block after restoring it is the next block now."""
        return {"position": asdict(self._position), "token_offset": self._token_offset}

    def next_block(self) -> list[int] | None:
        """The next `width` tokens, or None when the documents ran out (finite epochs only)."""
        while len(self._buf) - self._head < self.width and not self._exhausted:
            self._fill()
        if len(self._buf) - self._head < self.width:
            return None
        block = self._buf[self._head : self._head + self.width]
        self._head += self.width
        self._consume(self.width)
        if self._head > 4096 and self._head * 2 > len(self._buf):
            # Drop emitted tokens now and then (not per block: deleting a list head is O(n)).
            del self._buf[: self._head]
            self._head = 0
        return block

    def _fill(self) -> None:
        if self._docs is None:
            self._docs = self.docs.iter_from(self._position)
        batch = list(islice(self._docs, self.tokenize_batch))
        if not batch:
            self._exhausted = True
            return
        encodings = self.tokenizer.encode_batch([t for _, t in batch], add_special_tokens=False)
        for (pos, _), enc in zip(batch, encodings):
            ids = enc.ids + [self.eot]
            n = len(ids)
            if self._skip:
                # Resuming: the first document was partly emitted before the state was taken.
                if pos != self._position:
                    raise ValueError(f"resume position {self._position} not found (got {pos})")
                ids = ids[self._skip :]
                self._skip = 0
            self._buf.extend(ids)
            self._segments.append([pos, n, len(ids)])

    def _consume(self, n: int) -> None:
        """Drop `n` emitted tokens from the front of the segments and update the resume position."""
        segments = self._segments
        while n:
            seg = segments[0]
            if seg[2] <= n:
                n -= seg[2]
                self._last_done = (seg[0], seg[1])  # fully emitted: resuming there skips all its tokens
                segments.popleft()
            else:
                seg[2] -= n
                n = 0
        if segments:
            pos, total, left = segments[0]
            self._position, self._token_offset = pos, total - left
        else:
            self._position, self._token_offset = self._last_done
