"""Local folders and fsspec URLs (s3://bucket/shards, gs://..., memory://...) behind the few operations the
trainer needs: is it a URL, list a folder's sub-folders, find the Parquet files under it, and open one
for pyarrow. A URL is read through its fsspec backend (s3fs, gcsfs, ...), with credentials and endpoints
from the environment as that backend reads them.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

import fsspec
import pyarrow.fs as pafs
import pyarrow.parquet as pq


def is_url(location: str | Path) -> bool:
    """Whether `location` names an fsspec filesystem other than the local one (s3://, gs://, memory://)."""
    return isinstance(location, str) and "://" in location and not location.startswith("file://")


def local_path(location: str | Path) -> Path:
    """A local location as a Path (a file:// URL loses its scheme)."""
    text = str(location)
    return Path(text[len("file://"):] if text.startswith("file://") else text)


def join(location: str | Path, *parts: str) -> str | Path:
    """`location` / parts, for a folder or a URL."""
    if is_url(location):
        return "/".join([str(location).rstrip("/"), *parts])
    return local_path(location).joinpath(*parts)


def filesystem(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec filesystem of a URL and the path inside it (no trailing slash); FileNotFoundError when
    the URL's backend is not installed (s3:// without s3fs) or the URL is malformed."""
    try:
        fs, root = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as e:  # e.g. s3:// without s3fs installed
        raise FileNotFoundError(f"{url}: {e}") from None
    return fs, root.rstrip("/")


def is_dir(location: str | Path) -> bool:
    if is_url(location):
        fs, root = filesystem(str(location))
        return fs.isdir(root)
    return local_path(location).is_dir()


def exists(location: str | Path) -> bool:
    if is_url(location):
        fs, root = filesystem(str(location))
        return fs.exists(root)
    return local_path(location).exists()


def subfolders(location: str | Path) -> list[str]:
    """Names of the folders directly in `location`, sorted; those starting with "_" or "." (work and hidden
    folders) left out."""
    if is_url(location):
        fs, root = filesystem(str(location))
        names = [posixpath.basename(info["name"].rstrip("/")) for info in fs.ls(root, detail=True)
                 if info["type"] == "directory"]
    else:
        names = [p.name for p in local_path(location).iterdir() if p.is_dir()]
    return sorted(n for n in names if not n.startswith(("_", ".")))


def parquet_files_at(url: str) -> list[str]:
    """The *.parquet files under a URL (recursively), as URLs, sorted; files in folders (or named) starting
    with "_" or "." are left out, the rule `corpus.readers.shards.shard_paths` applies to local folders."""
    fs, root = filesystem(url)
    if fs.isfile(root):
        return [fs.unstrip_protocol(root)]
    found = []
    for path in fs.find(root):
        relative = posixpath.relpath(path, root)
        if path.endswith(".parquet") and not any(part.startswith(("_", ".")) for part in relative.split("/")):
            found.append(fs.unstrip_protocol(path))
    return sorted(found)


def _pyarrow_location(path: str | Path) -> tuple[str | Path, pafs.FileSystem | None]:
    if is_url(path):
        fs, inner = filesystem(str(path))
        return inner, pafs.PyFileSystem(pafs.FSSpecHandler(fs))
    return local_path(path), None


def open_parquet(path: str | Path) -> pq.ParquetFile:
    """A Parquet file, local or at a URL (row groups are then read with range requests, not downloaded whole)."""
    where, filesystem = _pyarrow_location(path)
    return pq.ParquetFile(where, filesystem=filesystem)


def parquet_metadata(path: str | Path) -> pq.FileMetaData:
    """A Parquet file's footer, local or at a URL."""
    where, filesystem = _pyarrow_location(path)
    return pq.read_metadata(where, filesystem=filesystem)
