"""Build the throughput benchmark's input: WARC files of real web pages, replicated to a chosen size.

    .venv/bin/python bench/make_bench_warc.py --records 2000 --files 8 --out bench/out/warc/x1

Pages come from two places under `--realdata` (default ../shared/realdata):
  warc/dolma-testdata, warc/resiliparse-testdata (warcfile, clueweb-quirk), warc/cc-whirlwind:
      the HTML `response` records with a 2xx status of real crawls, payload decoded
      (chunking/gzip undone) and written again as plain WARC/1.0 response records;
  extraction/goose3-content, extraction/newspaper-fulltext: the HTML pages of the extraction
      benchmark, wrapped as response records (HTTP 200, `text/html`, no declared charset).
The unique pages are shuffled (fixed seed) and cycled until `--records` records exist; copies after
the first get a `?bench_copy=N` query so that every record has its own URL and id. Records are
dealt round-robin into `--files` gzip-per-record files, and every record carries
`WARC-Identified-Payload-Type: text/html` as Common Crawl's do. Every record is an HTML page both
pipelines read, so "documents" means the same thing on both sides.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REALDATA = ROOT.parent / "shared" / "realdata"
REAL_WARCS = ("warc/dolma-testdata/*.warc.gz", "warc/resiliparse-testdata/warcfile.warc.gz",
              "warc/resiliparse-testdata/clueweb-quirk.warc.gz", "warc/cc-whirlwind/whirlwind.warc.gz")


@dataclass
class Page:
    url: str
    content_type: str
    payload: bytes
    date: str
    origin: str


def pages_from_warc(path: Path) -> list[Page]:
    """The 2xx HTML responses of a real WARC, with their payload decoded."""
    from warcio.archiveiterator import ArchiveIterator

    pages = []
    with open(path, "rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            if not (record.http_headers.get_statuscode() or "").startswith("2"):
                continue
            ctype = record.http_headers.get_header("Content-Type") or ""
            if not ctype.lower().startswith(("text/html", "application/xhtml+xml")):
                continue
            payload = record.content_stream().read()
            url = record.rec_headers.get_header("WARC-Target-URI") or ""
            date = record.rec_headers.get_header("WARC-Date") or "2024-01-01T00:00:00Z"
            if payload.strip() and url.startswith("http"):
                pages.append(Page(url.strip("<>"), ctype, payload, date, path.parent.name))
    return pages


def pages_from_extraction(folder: Path) -> list[Page]:
    """The HTML pages of the extraction benchmark as if fetched on one day."""
    pages = []
    goose = folder / "goose3-content"
    for html in sorted(goose.glob("*.html")):
        meta = html.with_suffix(".json")
        url = json.loads(meta.read_text()).get("url") if meta.exists() else None
        pages.append(Page(url or f"http://goose3.example/{html.stem}", "text/html", html.read_bytes(),
                          "2024-01-01T00:00:00Z", "goose3-content"))
    for html in sorted((folder / "newspaper-fulltext" / "html").glob("*.html")):
        pages.append(Page(f"http://newspaper.example/{html.stem}", "text/html", html.read_bytes(),
                          "2024-01-01T00:00:00Z", "newspaper-fulltext"))
    return pages


def collect_pages(realdata: Path) -> list[Page]:
    pages = []
    for pattern in REAL_WARCS:
        for path in sorted(realdata.glob(pattern)):
            pages += pages_from_warc(path)
    pages += pages_from_extraction(realdata / "extraction")
    return pages


def _copy_url(url: str, copy: int) -> str:
    if copy == 0:
        return url
    base = url.split("#", 1)[0]
    return f"{base}{'&' if '?' in base else '?'}bench_copy={copy}"


def write_warcs(pages: list[Page], records: int, files: int, out: Path, seed: int = 0) -> dict:
    """Write `records` response records over `files` files; returns what was written."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    order = pages[:]
    random.Random(seed).shuffle(order)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.warc.gz"):
        old.unlink()
    handles = [open(out / f"bench-{i:05d}.warc.gz", "wb") for i in range(files)]
    writers = [WARCWriter(h, gzip=True) for h in handles]
    try:
        for i in range(records):
            page = order[i % len(order)]
            http = StatusAndHeaders("200 OK", [("Content-Type", page.content_type),
                                               ("Content-Length", str(len(page.payload)))],
                                    protocol="HTTP/1.1")
            writer = writers[i % files]
            record = writer.create_warc_record(
                _copy_url(page.url, i // len(order)), "response", payload=io.BytesIO(page.payload),
                http_headers=http, warc_headers_dict={"WARC-Date": page.date,
                                                      "WARC-Identified-Payload-Type": "text/html"})
            writer.write_record(record)
    finally:
        for h in handles:
            h.close()
    origins: dict[str, int] = {}
    for p in pages:
        origins[p.origin] = origins.get(p.origin, 0) + 1
    info = {"records": records, "files": files, "unique_pages": len(pages), "unique_by_origin": origins,
            "bytes": sum(f.stat().st_size for f in out.glob("*.warc.gz"))}
    (out / "bench_warc.json").write_text(json.dumps(info, indent=2))
    return info


def build(realdata: Path, records: int, files: int, out: Path) -> dict:
    if not (realdata / "warc").is_dir() and not (realdata / "extraction").is_dir():
        sys.exit(f"real data not found under {realdata} (pass --realdata DIR; see bench/README.md)")
    pages = collect_pages(realdata)
    if not pages:
        sys.exit(f"no HTML page found under {realdata}")
    return write_warcs(pages, records, files, out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--realdata", type=Path, default=DEFAULT_REALDATA)
    p.add_argument("--records", type=int, default=2000)
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "warc" / "x1")
    a = p.parse_args(argv)
    print(json.dumps(build(a.realdata, a.records, a.files, a.out), indent=2))


if __name__ == "__main__":
    main()
