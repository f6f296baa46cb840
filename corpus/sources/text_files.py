"""Bring-your-own text: plain `.txt` files, JSONL and Parquet, one document per file, paragraph,
line or row.

Every input may be compressed (gzip, bzip2 or zstd, told by its first bytes rather than its name)
and local, http(s) or s3:// (`corpus.readers.inputs.open_input`). Bad input costs only itself and
is counted under a named reason, as `corpus.readers.warc.read_warc` counts records: every line,
row, paragraph or file is one document in (`n_in`), then kept or dropped:

- `missing_text_field`: a JSONL object or Parquet row whose text is absent, null or not a string;
- `bad_json`: a JSONL line that is not a JSON object (broken, cut, not UTF-8, an array, ...);
- `missing_id_field`: the `id_field` asked for is absent or null (an id made up instead would not
  be the stable id the user asked for);
- `empty_text`: only whitespace; `too_short`: fewer than `min_chars` characters;
- `truncated_file` / `undecodable_file`: a compressed stream that ends early or does not
  decompress: the lines read before it are kept, the rest counts as one document dropped (in
  `file` mode, the file's one document).

A Parquet file that lacks the text, id or url column, or whose text column is not a string, is a
`UserError` (one line): every row would fail the same way.

Ids are stable across runs: `document_id(source, key)` where the key is the `id_field` value when
one is named, else the file's name and the line (1-based, as editors count), row (0-based, as
pyarrow, pandas and DuckDB count) or paragraph (1-based) number. Texts have their line endings
made `\\n` and surrounding whitespace stripped, nothing else.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import logging
import re
import zlib
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from corpus.charset import decode_declared
from corpus.errors import UserError
from corpus.readers.inputs import is_remote, open_input
from corpus.records import Document, document_id
from corpus.steps import StepStats
from corpus.urls import canonical_url, registered_domain

log = logging.getLogger(__name__)

UNITS = ("file", "paragraph")
SNIFF_BYTES = 1 << 20  # decompressed bytes an encoding is chosen from when a file is streamed
_READ = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# "BZh" + block size digit + the magic of a first block or of the end of an empty stream: the
# three letters alone begin ordinary text too.
_BZIP2 = re.compile(rb"^BZh[1-9](\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_NEWLINES = re.compile(r"\r\n?")


@dataclass(frozen=True)
class TextConfig:
    """How text files, JSONL and Parquet become documents.

    `unit` applies to `.txt` inputs: one document per `file`, or per `paragraph` (blocks
    separated by blank lines). `text_field`, `id_field` and `url_field` name JSONL fields and
    Parquet columns; without `id_field` a document's id comes from the file name and its line or
    row number, without `url_field` its url is the file's `file:` URI with `#line-N` / `#row-N`.
    """

    unit: str = "file"
    text_field: str = "text"
    id_field: str | None = None
    url_field: str | None = None
    min_chars: int = 1

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise UserError(f"text unit {self.unit!r}: not one of {', '.join(UNITS)}")
        if self.min_chars < 0:
            raise UserError(f"min_chars must be >= 0, not {self.min_chars}")


# -- bytes: decompression and decoding --------------------------------------------------------


class TruncatedStream(EOFError):
    """A compressed stream that ends before its end-of-stream marker."""


# What reading a decompressed stream raises when its bytes are cut (EOFError) or broken.
READ_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, zlib.error)


class _ZstdFrames(io.RawIOBase):
    """The decompressed bytes of a stream of zstd frames.

    zstandard's own `stream_reader` returns what a cut frame holds and then ends as if all were
    well; this reader raises `TruncatedStream` instead, so a cut file is counted, not passed off
    as whole. The window limit is Pushshift's (2 GiB), which zstandard refuses by default.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        import zstandard

        self.raw = raw
        self.dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
        self.zstd_error = zstandard.ZstdError
        self.frame = None           # the frame being decoded, None between frames
        self.unread = b""           # compressed bytes read past the end of the last frame
        self.out = memoryview(b"")  # decompressed bytes not yet handed out

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.out:
            if not self._decode_more():
                return 0
        n = min(len(buffer), len(self.out))
        buffer[:n] = self.out[:n]
        self.out = self.out[n:]
        return n

    def _decode_more(self) -> bool:
        data, self.unread = self.unread or self.raw.read(_READ), b""
        if not data:
            if self.frame is not None:
                raise TruncatedStream("zstd frame cut short")
            return False
        if self.frame is None:
            self.frame = self.dctx.decompressobj()
        try:
            self.out = memoryview(self.frame.decompress(data))
        except self.zstd_error as err:  # one error type for every broken input, as gzip and bz2 give
            raise OSError(f"not a readable zstd stream ({err})") from err
        if self.frame.eof:
            self.unread, self.frame = self.frame.unused_data, None
        return True

    def close(self) -> None:
        self.raw.close()
        super().close()


class _GzipOwning(gzip.GzipFile):
    """A gzip reader that closes the stream it reads from (GzipFile leaves a passed one open)."""

    def close(self) -> None:
        raw = self.fileobj
        try:
            super().close()
        finally:
            if raw is not None:
                raw.close()


class _Bzip2Owning(bz2.BZ2File):
    """A bzip2 reader that closes the stream it reads from (BZ2File leaves a passed one open)."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(raw)
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_decompressed(path: str | Path) -> IO[bytes]:
    """A binary stream of a file's bytes, decompressed when they are gzip, bzip2 or zstd.

    The compression is told by the first bytes, so a misnamed file still reads. Reading a
    stream that ends early raises `EOFError` (gzip and bzip2 do so themselves; zstd through
    `_ZstdFrames`); bytes that do not decompress raise `OSError` or `zlib.error`.
    """
    raw = open_input(path)
    if not hasattr(raw, "peek"):
        raw = io.BufferedReader(raw)
    head = raw.peek(16)[:16]
    if head.startswith(_GZIP_MAGIC):
        return _GzipOwning(fileobj=raw)
    if _BZIP2.match(head):
        return _Bzip2Owning(raw)
    if head.startswith(_ZSTD_MAGIC):
        return io.BufferedReader(_ZstdFrames(raw), buffer_size=_READ)
    return raw


def decode_bytes(payload: bytes, hint: str | None = None) -> tuple[str, str]:
    """(text, encoding) of a text file's bytes: a byte order mark, else UTF-8 if the bytes are
    valid UTF-8, else `hint` (a declared charset) if it decodes strictly, else the encoding
    detected from the bytes (resiliparse's detector, as `corpus.charset` uses for pages).

    UTF-8 goes before the hint: bytes that are valid UTF-8 with non-ASCII in them practically
    never are a legacy encoding, and pure ASCII reads the same either way. Labels mean what the
    web means by them: `ISO-8859-1` and `ASCII` are read as windows-1252, a superset.
    """
    for bom, codec in _BOMS:
        if payload.startswith(bom):
            return payload.decode(codec, errors="replace"), codec
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if hint and (text := decode_declared(payload, hint)) is not None:
        return text, hint.lower()
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    encoding = detect_encoding(payload)
    return bytes_to_str(payload, encoding), encoding


def _streamed_encoding(head: bytes) -> str:
    """The codec a streamed file is decoded with, chosen from its first bytes (which may end
    inside a character: the incremental decoder is not told they are all)."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        from resiliparse.parse.encoding import detect_encoding

        return detect_encoding(head)


def normalise_text(text: str) -> str:
    """Line endings made `\\n`, surrounding whitespace stripped."""
    return _NEWLINES.sub("\n", text).strip()


# -- naming documents --------------------------------------------------------------------------


def file_name(path: str | Path) -> str:
    """The last part of a path or URL: what ids are made from, so a moved folder keeps them."""
    return str(path).rstrip("/").rsplit("/", 1)[-1]


def file_uri(path: str | Path) -> str:
    """A local file's absolute `file:` URI; a URL (http, s3) as it is."""
    return str(path) if is_remote(str(path)) else Path(path).resolve().as_uri()


def _document(source: str, key: str, url: str, text: str, metadata: dict[str, Any]) -> Document:
    canonical = canonical_url(url) if url[:8].lower().startswith(("http://", "https://")) else None
    url = canonical or url
    return Document(id=document_id(source, key), url=url, source=source, text=text,
                    domain=registered_domain(url) if canonical else None, metadata=metadata)


def _keep_or_drop(doc: Document, stats: StepStats, min_chars: int) -> bool:
    """Count one document in, and whether it is kept (empty and short texts are dropped)."""
    stats.n_in += 1
    if not doc.text:
        stats.drop("empty_text", doc=doc)
        return False
    if len(doc.text) < min_chars:
        stats.drop("too_short", doc=doc)
        return False
    stats.keep(doc)
    return True


def count_broken(stats: StepStats, path: str, err: BaseException) -> None:
    """A stream that broke off (one of `READ_ERRORS`): the rest of it is one document in, dropped
    as `truncated_file` (it ended early) or `undecodable_file` (it does not decompress)."""
    reason = "truncated_file" if isinstance(err, EOFError) else "undecodable_file"
    stats.n_in += 1
    stats.drop(reason)
    log.warning("%s: %s: %s", path, reason.replace("_", " "), err)


# -- plain text ------------------------------------------------------------------------------


def read_text_file(path: str | Path, source: str, stats: StepStats,
                   config: TextConfig = TextConfig()) -> Iterator[Document]:
    """Documents of a plain-text file (`.txt`, optionally `.gz`/`.bz2`/`.zst`): the whole file as
    one (`unit="file"`, decoded with detection over all its bytes), or one per blank-line
    separated paragraph (`unit="paragraph"`, streamed: the encoding is chosen from the first
    MiB, and bytes after it that do not fit it become U+FFFD, counted as `replaced_chars`)."""
    path = str(path)
    name, uri = file_name(path), file_uri(path)
    if config.unit == "file":
        try:
            with open_decompressed(path) as stream:
                payload = stream.read()
        except READ_ERRORS as err:
            count_broken(stats, path, err)
            return
        text, encoding = decode_bytes(payload)
        doc = _document(source, name, uri, normalise_text(text), {"file": name, "encoding": encoding})
        if _keep_or_drop(doc, stats, config.min_chars):
            yield doc
        return
    for number, paragraph in _paragraphs(path, stats):
        doc = _document(source, f"{name}#paragraph-{number}", f"{uri}#paragraph-{number}", paragraph,
                        {"file": name, "paragraph": number})
        if _keep_or_drop(doc, stats, config.min_chars):
            yield doc


def _decoded_lines(path: str, stats: StepStats) -> Iterator[str]:
    """The lines of a text file, decoded as they are read; a stream that breaks off is counted."""
    with open_decompressed(path) as stream:
        try:
            head = stream.read(SNIFF_BYTES)
            decoder = codecs.getincrementaldecoder(_streamed_encoding(head))(errors="replace")
            pending = ""
            chunk = head
            while chunk:
                text = pending + decoder.decode(chunk)
                lines = text.split("\n")
                pending = lines.pop()
                yield from lines
                chunk = stream.read(SNIFF_BYTES)
        except READ_ERRORS as err:
            count_broken(stats, path, err)
            return
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending


def _paragraphs(path: str, stats: StepStats) -> Iterator[tuple[int, str]]:
    """(number, text) of each blank-line separated paragraph, numbered from 1."""
    number, block = 0, []
    for line in _decoded_lines(path, stats):
        if "\ufffd" in line:
            stats.counts["replaced_chars"] += line.count("\ufffd")
        line = line.rstrip()  # also the "\r" of a "\r\n" ending
        if line:
            block.append(line)
            continue
        if block:
            number += 1
            yield number, "\n".join(block).strip()
            block = []
    if block:
        yield number + 1, "\n".join(block).strip()


# -- JSONL -------------------------------------------------------------------------------------


def _text_of(record: dict[str, Any], config: TextConfig) -> str | None:
    value = record.get(config.text_field)
    return normalise_text(value) if isinstance(value, str) else None


def _id_value(value: Any) -> str | None:
    """A field value as an id: strings and numbers only (a bool, list or object is no id)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    value = str(value)
    return value if value.strip() else None


def read_jsonl(path: str | Path, source: str, stats: StepStats,
               config: TextConfig = TextConfig()) -> Iterator[Document]:
    """One document per JSON object line of a `.jsonl` file (optionally `.gz`/`.bz2`/`.zst`).

    Blank lines are skipped without counting; every other line is one document in, dropped
    under a named reason when it has no usable text (see the module docstring).
    """
    import msgspec

    decode = msgspec.json.Decoder().decode
    path = str(path)
    name, uri = file_name(path), file_uri(path)
    with open_decompressed(path) as stream:
        number = 0
        while True:
            try:
                line = stream.readline()
            except READ_ERRORS as err:
                count_broken(stats, path, err)
                return
            if not line:
                return
            number += 1
            if number == 1:
                line = line.removeprefix(codecs.BOM_UTF8)
            if not line.strip():
                continue
            doc = _jsonl_document(line, number, name, uri, source, stats, config, decode)
            if doc is not None and _keep_or_drop(doc, stats, config.min_chars):
                yield doc


def _jsonl_document(line: bytes, number: int, name: str, uri: str, source: str, stats: StepStats,
                    config: TextConfig, decode) -> Document | None:
    """The document of one line, or None with the line counted in and dropped."""
    import msgspec

    try:
        record = decode(line)
    except msgspec.DecodeError:
        record = None
    if not isinstance(record, dict):
        stats.n_in += 1
        stats.drop("bad_json")
        return None
    return _record_document(record, f"{name}#line-{number}", f"{uri}#line-{number}", source, stats, config,
                            {"file": name, "line": number})


def _record_document(record: dict[str, Any], key: str, url: str, source: str, stats: StepStats,
                     config: TextConfig, metadata: dict[str, Any]) -> Document | None:
    """A JSONL object or Parquet row as a document, or None with it counted and dropped."""
    text = _text_of(record, config)
    if text is None:
        stats.n_in += 1
        stats.drop("missing_text_field")
        return None
    if config.id_field is not None:
        key = _id_value(record.get(config.id_field))
        if key is None:
            stats.n_in += 1
            stats.drop("missing_id_field")
            return None
        metadata = {**metadata, "record_id": key}
    if config.url_field is not None:
        value = record.get(config.url_field)
        if isinstance(value, str) and value.strip():
            url = value.strip()
        else:
            stats.counts["missing_url_field"] += 1
    return _document(source, key, url, text, metadata)


# -- Parquet -----------------------------------------------------------------------------------


def read_parquet(path: str | Path, source: str, stats: StepStats,
                 config: TextConfig = TextConfig()) -> Iterator[Document]:
    """One document per row of a Parquet file, read one row group at a time (of only the
    columns named in `config`), so memory holds one row group, never the whole file.

    Raises `UserError` when a named column is missing or the text column is not a string: every
    row would fail the same way.
    """
    import pyarrow.parquet as pq

    path = str(path)
    name, uri = file_name(path), file_uri(path)
    if path.startswith(("http://", "https://")):
        raise UserError(f"{path}: Parquet is read from its footer, which needs a local file or s3:// "
                        "(seekable); download it first")
    # A local path goes to pyarrow as a path: its own file reader is faster than a Python one.
    with open_input(path) if is_remote(path) else nullcontext(path) as where:
        try:
            parquet = pq.ParquetFile(where)
        except Exception as err:  # pyarrow raises ArrowInvalid and others for a file that is not Parquet
            raise UserError(f"{path}: not a readable Parquet file ({err})") from err
        columns = _parquet_columns(parquet.schema_arrow, path, config)
        row = 0
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group, columns=columns)
            for record in table.to_pylist():
                doc = _record_document(record, f"{name}#row-{row}", f"{uri}#row-{row}", source, stats, config,
                                       {"file": name, "row": row})
                row += 1
                if doc is not None and _keep_or_drop(doc, stats, config.min_chars):
                    yield doc


def _parquet_columns(schema, path: str, config: TextConfig) -> list[str]:
    """The columns to read; a `UserError` if one is missing or the text is not a string."""
    import pyarrow as pa

    wanted = [c for c in (config.text_field, config.id_field, config.url_field) if c is not None]
    missing = [c for c in wanted if c not in schema.names]
    if missing:
        have = ", ".join(schema.names[:20]) + (", ..." if len(schema.names) > 20 else "")
        raise UserError(f"{path}: no column {', '.join(map(repr, missing))} (it has: {have}); "
                        "name the text column with the text field setting")
    text_type = schema.field(config.text_field).type
    if pa.types.is_dictionary(text_type):
        text_type = text_type.value_type
    if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)
            or pa.types.is_string_view(text_type)):
        raise UserError(f"{path}: column {config.text_field!r} is {text_type}, not a string column")
    return list(dict.fromkeys(wanted))
