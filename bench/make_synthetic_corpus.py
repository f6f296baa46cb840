"""A large synthetic corpus for the scale benchmarks of dedup, with planted structure and ground truth.

    python bench/make_synthetic_corpus.py --docs 1000000 --out /tmp/scale/n1000000
    python bench/make_synthetic_corpus.py --docs 2000 --out /tmp/small --docs-per-part 1000 --workers 1

Writes `OUT/parts/part-NNNNN.parquet` (`--docs-per-part` documents each: shards of record in
`corpus.schema.SCHEMA`, zstd, row groups of 25,000 documents, each file written atomically),
`OUT/truth/part-NNNNN.parquet` (the ground truth of the planted documents of each part: columns
`id`, `cluster`, `kind`, `member`, `jaccard`, `quality_score`; read the folder with
`pyarrow.parquet.read_table(OUT / "truth")`),
and `OUT/corpus.json` (the parameters and counts; written last: a corpus without it is
unfinished). Documents not in the truth are unique ("unique": no planted relation to any other).

**Text.** Words are drawn from a Zipf law (exponent 1) over a vocabulary of 50,000 made-up
lower-case words (2-10 letters, English letter frequencies; some shown capitalised or followed by
"." or ","). A document has 80 to 300 words (uniform; mean 190, ~1.2 KB), in paragraphs of 30-80
words. `quality_score` is uniform in [0, 1), drawn independently for every document, so which
copy of a cluster the keep rule keeps is not the planted source.

**Planted structure** (shares of `--docs`; members of each group are scattered over all parts,
as a crawl scatters them over WARC files):

- `exact` (`--exact-share`, 3%: the share of documents that are removable copies): groups of a
  source and 1-2 copies of the same text with other case, punctuation or whitespace, all of which
  exact dedup normalises away.
- `near` (`--near-share`, 10% of documents are members): clusters of 2-10 documents, a source and
  copies each edited from it to a planted Jaccard over word 5-gram shingles of 0.9, 0.8, 0.7 or 0.6
  (one level per cluster; `jaccard` in the truth, null for the source). The edit is one of:
  isolated word substitutions (e of them remove 5e shingles: J = (S - 5e) / (S + 5e) for S
  shingles), one inserted passage of m words (J = (S - 4) / (S + m + 4)), or one passage of m
  words replaced (J = (S - m - 4) / (S + m + 4)); a copy with an insertion may exceed 300 words.
  Two copies of one source are less similar to each other than to the source.
- `template` (`--template-share`, 10% of documents): pages of sites (same domain; 3-200 pages a
  site, log-normal, median 20) that share the site's nav, sidebar and footer (50-105 words) around
  their own article, sized so that two pages of a site are at a Jaccard of ~0.2-0.4 (drawn per site,
  `jaccard` in the truth). They are distinct pages: dedup must keep them all.

Determinism: the same `--docs`, `--seed` and `--docs-per-part` give the same files, whatever
`--workers`. Restartable: a part whose truth file exists is not redone (the truth is written after
the part); a folder made with other parameters is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from corpus.records import document_id  # noqa: E402
from corpus.schema import SCHEMA  # noqa: E402
from corpus.writers.atomic import atomic_path, atomic_write_json  # noqa: E402

VOCAB_SIZE = 50_000
ZIPF_TABLE = 1 << 23            # slots of the Zipf lookup table (uint16: 16 MB)
ZIPF_EXPONENT = 1.0
MIN_WORDS, MAX_WORDS = 80, 300
PARAGRAPH_WORDS = (30, 80)
NEAR_LEVELS = (0.9, 0.8, 0.7, 0.6)
NEAR_SIZES = (2, 10)            # documents per near-duplicate cluster, source included
EXACT_COPIES = (1, 2)           # copies per exact-duplicate group, besides the source
SITE_PAGES = (3, 200)           # pages per template site (log-normal, median 20)
TEMPLATE_JACCARD = (0.2, 0.4)   # planted Jaccard between two pages of a site
SOURCE = "synthetic"
KINDS = ("unique", "template", "near", "exact")  # codes 0..3 of the layout
UNIQUE, TEMPLATE, NEAR, EXACT = range(4)
# The stream tags of numpy's seed sequences: each kind of draw has its own, so that adding a
# draw of one kind never shifts another.
_LAYOUT, _PART, _SITE, _NEAR_SRC, _NEAR_COPY, _EXACT_SRC, _EXACT_COPY, _VOCAB = range(8)


@dataclass(frozen=True)
class CorpusSpec:
    """Everything the corpus's content depends on (kept in `corpus.json`; a restart must match)."""

    docs: int
    seed: int = 0
    docs_per_part: int = 100_000
    exact_share: float = 0.03
    near_share: float = 0.10
    template_share: float = 0.10
    version: int = 1

    def __post_init__(self) -> None:
        if self.docs < 1 or self.docs_per_part < 1:
            raise ValueError("--docs and --docs-per-part must be positive")
        # Exact groups have 1.5 copies on average: 3% copies are ~5% members.
        members = self.exact_share * 2.5 / 1.5 + self.near_share + self.template_share
        if min(self.exact_share, self.near_share, self.template_share) < 0 or members > 0.9:
            raise ValueError("the planted shares must be >= 0 and leave room for unique documents")


# ---------------------------------------------------------------------------------------------
# Vocabulary and words.

@cache
def vocabulary(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(display forms of the words, the Zipf law's lookup table), built once per process."""
    rng = np.random.default_rng([seed, _VOCAB])
    letters = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
    freq = np.array([12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8, 2.4, 2.4, 2.2,
                     2.0, 2.0, 1.9, 1.5, 1.0, 0.8, 0.2, 0.2, 0.1, 0.1])
    n = 3 * VOCAB_SIZE  # short words collide: draw more, keep the first VOCAB_SIZE distinct ones
    lens = rng.integers(2, 11, n)
    chars = rng.choice(letters, int(lens.sum()), p=freq / freq.sum())
    ends = np.cumsum(lens)
    drawn = ["".join(chars[e - k:e]) for e, k in zip(ends.tolist(), lens.tolist())]
    words = np.array(list(dict.fromkeys(drawn))[:VOCAB_SIZE], dtype=object)
    if len(words) < VOCAB_SIZE:
        raise RuntimeError("vocabulary too small")  # cannot happen with 3x draws of 2-10 letters
    shown = words.copy()
    caps, period, comma = (rng.random(VOCAB_SIZE) < p for p in (0.08, 0.06, 0.05))
    shown[caps] = [w.capitalize() for w in shown[caps]]
    shown[period] = [w + "." for w in shown[period]]
    shown[comma & ~period] = [w + "," for w in shown[comma & ~period]]
    p = 1.0 / np.arange(1, VOCAB_SIZE + 1) ** ZIPF_EXPONENT
    # Inverse-CDF lookup table: word k fills a share p_k of ZIPF_TABLE slots, so a draw is one
    # random integer and one gather. np.searchsorted on the CDF measured ~4x slower here (16
    # cache-missing probes per word); the rarest word gets ~15 slots, so rounding moves its
    # probability by <= 4%, the common words' by far less.
    bounds = np.round(np.cumsum(p / p.sum()) * ZIPF_TABLE).astype(np.int64)
    table = np.repeat(np.arange(VOCAB_SIZE, dtype=np.uint16), np.diff(bounds, prepend=0))
    return shown, table


def zipf_words(rng: np.random.Generator, n: int, seed: int) -> np.ndarray:
    """n word indices drawn from the Zipf law."""
    table = vocabulary(seed)[1]
    return table[rng.integers(0, len(table), n)]


def render(idx: np.ndarray, rng: np.random.Generator, seed: int) -> str:
    """Words as text, in paragraphs of a length drawn once per document."""
    toks = vocabulary(seed)[0][idx].tolist()
    step = int(rng.integers(PARAGRAPH_WORDS[0], PARAGRAPH_WORDS[1] + 1))
    return "\n\n".join(" ".join(toks[a:a + step]) for a in range(0, len(toks), step))


# ---------------------------------------------------------------------------------------------
# Planted edits.

def edit_to_jaccard(src: np.ndarray, level: float, rng: np.random.Generator, seed: int) -> np.ndarray:
    """A copy of the words `src` whose word-5-gram Jaccard with `src` is ~`level`.

    One edit kind per copy, chosen at random; each removes a known number of the S shingles
    (see the module docstring), solved for `level`. New words are drawn uniformly over the
    vocabulary (mostly rare words), so they create no shingle of the source.
    """
    n = len(src)
    s = n - 4
    how = int(rng.integers(0, 3))
    if how == 0:  # e isolated substitutions, evenly spread (>= 5 words apart for level >= 0.5)
        e = max(1, round(s * (1 - level) / (5 * (1 + level))))
        pos = ((np.arange(e) + 0.5) * n / e).astype(np.int64)
        out = src.copy()
        new = rng.integers(0, VOCAB_SIZE, e)
        out[pos] = np.where(new == src[pos], (new + 1) % VOCAB_SIZE, new)
        return out
    if how == 1:  # one inserted passage of m words
        m = max(1, round((s - 4) / level - s - 4))
        at = int(rng.integers(5, n - 4))
        return np.concatenate([src[:at], rng.integers(0, VOCAB_SIZE, m), src[at:]])
    # one passage of m words replaced
    m = max(1, min(n - 10, round(s * (1 - level) / (1 + level) - 4)))
    at = int(rng.integers(5, n - m - 4))
    return np.concatenate([src[:at], rng.integers(0, VOCAB_SIZE, m), src[at + m:]])


def exact_variant(text: str, rng: np.random.Generator) -> str:
    """The same text for exact dedup (`normalize_for_dedup`): other case, punctuation or spacing."""
    how = int(rng.integers(0, 4))
    if how == 0:
        return text.upper()
    if how == 1:
        return "  " + text.replace(" ", "  ").replace("\n\n", "\n \n\t") + "\n"
    if how == 2:
        toks = text.split(" ")
        return " ".join(t + "!" if i % 7 == 3 else t for i, t in enumerate(toks)) + " ..."
    return text.lower().replace(". ", "; ")


# ---------------------------------------------------------------------------------------------
# Layout: which global position holds which planted document.

@dataclass
class Layout:
    """Per global position: kind code, cluster id (-1: none), member index, planted Jaccard."""

    kind: np.ndarray      # int8
    cluster: np.ndarray   # int64
    member: np.ndarray    # int16
    jaccard: np.ndarray   # float32, NaN where none

    def slice(self, start: int, stop: int) -> "Layout":
        return Layout(self.kind[start:stop], self.cluster[start:stop], self.member[start:stop],
                      self.jaccard[start:stop])


def _group_sizes(sizes: np.ndarray, total: int, minimum: int, weight: np.ndarray | None = None) -> np.ndarray:
    """The first of `sizes` whose running sum (of `weight`, default the sizes) stays <= total, plus
    the remainder as a last group if it is at least `minimum` (else those documents stay unique)."""
    weight = sizes if weight is None else weight
    cum = np.cumsum(weight)
    k = int(np.searchsorted(cum, total, side="right"))
    rest = total - (int(cum[k - 1]) if k else 0)
    out = sizes[:k]
    if weight is sizes and rest >= minimum:
        out = np.append(out, rest)
    return out


def make_layout(spec: CorpusSpec) -> Layout:
    """Draw group sizes and place every member at a random global position (vectorised: ~2 s and
    ~19 bytes per document at 10M)."""
    rng = np.random.default_rng([spec.seed, _LAYOUT])
    n = spec.docs
    n_tpl, n_near, n_copies = (round(s * n) for s in (spec.template_share, spec.near_share, spec.exact_share))
    site = _group_sizes(np.clip(np.round(rng.lognormal(np.log(20), 0.9, n_tpl // 3 + 1)), *SITE_PAGES).astype(np.int64),
                        n_tpl, SITE_PAGES[0])
    near = _group_sizes(rng.integers(NEAR_SIZES[0], NEAR_SIZES[1] + 1, n_near // 2 + 1), n_near, NEAR_SIZES[0])
    exact_sizes = rng.integers(EXACT_COPIES[0], EXACT_COPIES[1] + 1, n_copies + 1) + 1
    exact = _group_sizes(exact_sizes, n_copies, 2, weight=exact_sizes - 1)
    groups = [(TEMPLATE, site, rng.uniform(*TEMPLATE_JACCARD, len(site))),
              (NEAR, near, rng.choice(NEAR_LEVELS, len(near))),
              (EXACT, exact, np.full(len(exact), np.nan))]
    layout = Layout(np.zeros(n, np.int8), np.full(n, -1, np.int64), np.zeros(n, np.int16),
                    np.full(n, np.nan, np.float32))
    order = rng.permutation(n)
    at, first_cluster = 0, 0
    for kind, sizes, jac in groups:
        m = int(sizes.sum())
        pos = order[at:at + m]
        cluster = np.repeat(np.arange(len(sizes)), sizes)
        starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
        layout.kind[pos] = kind
        layout.cluster[pos] = first_cluster + cluster
        layout.member[pos] = np.arange(m) - starts
        layout.jaccard[pos] = jac[cluster]
        at += m
        first_cluster += len(sizes)
    near_src = (layout.kind == NEAR) & (layout.member == 0)
    layout.jaccard[near_src | (layout.kind == EXACT)] = np.nan  # a source is not a copy of anything
    layout.jaccard[(layout.kind == EXACT) & (layout.member > 0)] = 1.0
    return layout


# ---------------------------------------------------------------------------------------------
# One part.

@dataclass
class PartTask:
    spec: CorpusSpec
    part: int
    start: int
    layout: Layout
    out: str


def _site_template(seed: int, cluster: int) -> tuple[str, str, int, int]:
    """A site's (header, footer, words in them, whitespace tokens in them), from the site's own
    random stream."""
    rng = np.random.default_rng([seed, _SITE, cluster])
    shown = vocabulary(seed)[0]
    nav, side, foot = (zipf_words(rng, int(rng.integers(lo, hi + 1)), seed) for lo, hi in ((15, 30), (20, 45), (15, 30)))
    head = [" | ".join(shown[nav].tolist())]
    tail = [" ".join(shown[side[a:a + 5]].tolist()) for a in range(0, len(side), 5)]
    tail.append(" ".join(shown[foot].tolist()))
    head_text, tail_text = "\n".join(head), "\n".join(tail)
    return head_text, tail_text, len(nav) + len(side) + len(foot), len(head_text.split()) + len(tail_text.split())


def _template_article_words(template_words: int, target: float) -> int:
    """Article length giving two pages of the site a Jaccard of ~target: the template's shingles
    (T - 8: 4 are lost at each of its two joins with the article) over both pages' union."""
    return max(5, round(((template_words - 8) / target - template_words - 8) / 2))


def _near_member(seed: int, cluster: int, member: int, level: float) -> tuple[np.ndarray, np.random.Generator]:
    src_rng = np.random.default_rng([seed, _NEAR_SRC, cluster])
    src = zipf_words(src_rng, int(src_rng.integers(MIN_WORDS, MAX_WORDS + 1)), seed)
    if member == 0:
        return src, src_rng
    rng = np.random.default_rng([seed, _NEAR_COPY, cluster, member])
    return edit_to_jaccard(src, level, rng, seed), rng


def _exact_member(seed: int, cluster: int, member: int) -> str:
    rng = np.random.default_rng([seed, _EXACT_SRC, cluster])
    text = render(zipf_words(rng, int(rng.integers(MIN_WORDS, MAX_WORDS + 1)), seed), rng, seed)
    if member == 0:
        return text
    return exact_variant(text, np.random.default_rng([seed, _EXACT_COPY, cluster, member]))


def part_documents(task: PartTask) -> Iterator[tuple[str, str, str, str, float, int]]:
    """(id, url, domain, text, quality_score, n_words) of each document of one part, in order
    (global positions start .. start + n). n_words is `len(text.split())`, known from how the text
    was built (a split per document cost more than building it)."""
    spec, lay = task.spec, task.layout
    seed = spec.seed
    rng = np.random.default_rng([seed, _PART, task.part])
    n = len(lay.kind)
    lengths = rng.integers(MIN_WORDS, MAX_WORDS + 1, n).tolist()
    quality = rng.random(n, dtype=np.float32).tolist()
    domains = rng.integers(0, max(1, spec.docs // 50), n).tolist()
    offsets = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    pool = zipf_words(rng, offsets[-1], seed)  # the unique documents' words, in one draw
    sites: dict[int, tuple[str, str, int, int]] = {}
    kinds, clusters, members, jacs = (a.tolist() for a in (lay.kind, lay.cluster, lay.member, lay.jaccard))
    for i in range(n):
        pos, kind, cluster = task.start + i, kinds[i], clusters[i]
        domain = f"d{domains[i]}.example.com"
        if kind == UNIQUE:
            text = render(pool[offsets[i]:offsets[i + 1]], rng, seed)
            n_words = lengths[i]
        elif kind == TEMPLATE:
            if cluster not in sites:
                sites[cluster] = _site_template(seed, cluster)
            head, tail, t_words, t_tokens = sites[cluster]
            article = zipf_words(rng, _template_article_words(t_words, jacs[i]), seed)
            text = head + "\n\n" + render(article, rng, seed) + "\n\n" + tail
            n_words = t_tokens + len(article)
            domain = f"site{cluster}.example.org"
        elif kind == NEAR:
            words, doc_rng = _near_member(seed, cluster, members[i], jacs[i])
            text = render(words, doc_rng, seed)
            n_words = len(words)
        else:
            text = _exact_member(seed, cluster, members[i])
            n_words = len(text.split())
        url = f"https://{domain}/page/{pos}"
        yield document_id(SOURCE, url), url, domain, text, quality[i], n_words


TRUTH_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("cluster", pa.int64(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("member", pa.int16(), nullable=False),   # 0: the source (exact, near); page number (template)
    pa.field("jaccard", pa.float32()),                # planted word-5-gram Jaccard (see the docstring)
    pa.field("quality_score", pa.float32()),
])
ROW_GROUP_DOCS = 25_000  # ~30 MB of text: what ShardWriter's 32 MB row groups hold


def shard_table(rows: list[tuple[str, str, str, str, float, int]]) -> pa.Table:
    """Rows of `part_documents` as a table in the shard schema (`corpus.schema.SCHEMA`).

    Built column by column rather than through `ShardWriter.write_row` (one dict per document,
    `pa.Table.from_pylist`): that path cost 3x the text generation itself. The columns are those
    `document_row` fills (n_chars by Arrow over the whole column); the test checks that
    `document_row` of each document read back gives the same row.
    """
    ids, urls, domains, texts, quality, n_words = zip(*rows)
    n = len(rows)
    text = pa.array(texts, pa.string())
    columns = {"id": pa.array(ids, pa.string()), "text": text, "url": pa.array(urls, pa.string()),
               "domain": pa.array(domains, pa.string()), "source": pa.array([SOURCE] * n, pa.string()),
               "lang": pa.array(["en"] * n, pa.string()), "quality_score": pa.array(quality, pa.float32()),
               "n_chars": pc.utf8_length(text).cast(pa.int32()),
               "n_words": pa.array(n_words, pa.int32())}
    return pa.Table.from_arrays([columns[f.name] if f.name in columns else pa.nulls(n, f.type) for f in SCHEMA],
                                schema=SCHEMA)


def paths_of(out: Path | str, part: int) -> tuple[Path, Path]:
    """(the part's shard, its truth file)."""
    out = Path(out)
    return out / "parts" / f"part-{part:05d}.parquet", out / "truth" / f"part-{part:05d}.parquet"


def generate_part(task: PartTask) -> dict[str, Any]:
    """Write one part's shard and then its truth file, each atomically, one row group of text in
    memory at a time."""
    shard, truth = paths_of(task.out, task.part)
    ids: list[str] = []
    quality: list[float] = []
    with atomic_path(shard) as tmp, pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
        rows = []
        for row in part_documents(task):
            rows.append(row)
            ids.append(row[0])
            quality.append(row[4])
            if len(rows) == ROW_GROUP_DOCS:
                writer.write_table(shard_table(rows))
                rows = []
        if rows:
            writer.write_table(shard_table(rows))
    lay = task.layout
    planted = np.flatnonzero(lay.kind != UNIQUE)
    table = pa.table({
        "id": pa.array([ids[i] for i in planted.tolist()], pa.string()),
        "cluster": pa.array(lay.cluster[planted]),
        "kind": pa.array(np.array(KINDS, dtype=object)[lay.kind[planted]], pa.string()),
        "member": pa.array(lay.member[planted]),
        "jaccard": pa.array(lay.jaccard[planted], pa.float32(), from_pandas=True),  # NaN -> null
        "quality_score": pa.array(np.array(quality, np.float32)[planted]),
    }, schema=TRUTH_SCHEMA)
    with atomic_path(truth) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return {"part": task.part, "docs": len(ids), "bytes": shard.stat().st_size + truth.stat().st_size}


# ---------------------------------------------------------------------------------------------
# The whole corpus.

def generate(spec: CorpusSpec, out: Path | str, workers: int = 2, quiet: bool = False) -> dict[str, Any]:
    """Write the corpus described by `spec` into `out` (restartable); returns `corpus.json`'s content."""
    out = Path(out)
    meta_path = out / "corpus.json"
    spec_path = out / "spec.json"
    if spec_path.exists():
        found = json.loads(spec_path.read_text())
        if found != asdict(spec):
            raise SystemExit(f"{out} holds a corpus made with {found}; not {asdict(spec)}: "
                             "choose another --out or delete it")
    if meta_path.exists():
        return json.loads(meta_path.read_text())
    atomic_write_json(spec_path, asdict(spec))
    t0 = time.perf_counter()
    layout = make_layout(spec)
    starts = range(0, spec.docs, spec.docs_per_part)
    tasks = [PartTask(spec, k, s, layout.slice(s, min(s + spec.docs_per_part, spec.docs)), str(out))
             for k, s in enumerate(starts) if not paths_of(out, k)[1].exists()]
    done = len(starts) - len(tasks)
    if done and not quiet:
        print(f"resuming: {done} of {len(starts)} parts already written")
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            generate_part(task)
    else:
        # Parts are independent (each has its own random streams): any order, any worker.
        with ProcessPoolExecutor(workers) as pool:
            for i, _ in enumerate(pool.map(generate_part, tasks), 1):
                if not quiet:
                    print(f"\r{i + done}/{len(starts)} parts", end="", flush=True, file=sys.stderr)
        if not quiet:
            print(file=sys.stderr)
    seconds = time.perf_counter() - t0
    planted = {name: int((layout.kind == code).sum()) for code, name in enumerate(KINDS)}
    groups = {name: int(np.unique(layout.cluster[layout.kind == code]).size) for code, name in enumerate(KINDS) if code}
    size = sum(f.stat().st_size for d in ("parts", "truth") for f in (out / d).glob("*.parquet"))
    meta = {"spec": asdict(spec), "parts": len(starts), "documents_by_kind": planted, "groups_by_kind": groups,
            "removable": {"exact": planted["exact"] - groups["exact"], "near": planted["near"] - groups["near"]},
            "bytes_on_disk": size, "seconds": round(seconds, 1), "workers": workers,
            "words": f"{MIN_WORDS}-{MAX_WORDS} uniform, Zipf({ZIPF_EXPONENT}) over {VOCAB_SIZE} words"}
    atomic_write_json(meta_path, meta)
    return meta


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, required=True, help="number of documents")
    ap.add_argument("--out", required=True, help="output folder (parts/, truth/, corpus.json)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--docs-per-part", type=int, default=100_000)
    ap.add_argument("--exact-share", type=float, default=0.03, help="share of documents that are exact copies")
    ap.add_argument("--near-share", type=float, default=0.10, help="share of documents in near-duplicate clusters")
    ap.add_argument("--template-share", type=float, default=0.10, help="share of documents that are template pages")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    a = ap.parse_args(argv)
    try:
        spec = CorpusSpec(a.docs, a.seed, a.docs_per_part, a.exact_share, a.near_share, a.template_share)
    except ValueError as e:
        ap.error(str(e))
    meta = generate(spec, a.out, a.workers)
    gb = meta["bytes_on_disk"] / 1e9
    print(f"{a.docs:,} documents in {meta['parts']} parts under {a.out}: {gb:.2f} GB on disk, "
          f"{meta['seconds']:.1f} s ({a.docs / max(meta['seconds'], 1e-9):,.0f} docs/s, {meta['workers']} workers)")
    print(f"documents by kind: {meta['documents_by_kind']}; groups: {meta['groups_by_kind']}")


if __name__ == "__main__":
    main()
