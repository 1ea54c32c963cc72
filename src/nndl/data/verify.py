"""Checksums: every data file is verified by the SHA-256 of its uncompressed content.

The published checksum of an IDX file is over its uncompressed bytes, so the same number
verifies a raw file, a gzipped one, and the array cache (whose array, written back as IDX
bytes, must hash the same). Hashing ~55 MB takes a few hundredths of a second, but to keep
repeated loads instant, a file once verified is remembered for the life of the process
by (path, size, mtime, expected checksum); any change to the file forgets it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

from nndl.data.idx import GZIP_MAGIC, idx_header
from nndl.errors import DataError

_CHUNK = 1 << 20

# (resolved path, size, mtime_ns, sha256) of files that matched their checksum in this process.
_VERIFIED: set[tuple[str, int, int, str]] = set()


def _key(path: Path, sha256: str) -> tuple[str, int, int, str]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, sha256)


def is_compressed(path: str | os.PathLike) -> bool:
    """Whether the file starts with the gzip magic bytes."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def content_sha256(path: str | os.PathLike, limit: int | None = None) -> str:
    """SHA-256 (hex) of the file's content, decompressed first if it is gzip.

    Reads at most ``limit`` + 1 bytes of content (the file's known size): content larger
    than that cannot be the published file, so a gzip bomb costs a moment, not minutes.
    Raises ``DataError`` if the file claims to be gzip but cannot be decompressed, or
    holds more than ``limit`` bytes.
    """
    h = hashlib.sha256()
    done = 0
    try:
        opener = gzip.open if is_compressed(path) else open
        with opener(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                done += len(chunk)
                if limit is not None and done > limit:
                    raise DataError(f"{path}: holds more than the {limit:,} bytes of the published file")
                h.update(chunk)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DataError(f"{path}: not a valid gzip file ({e})") from e
    return h.hexdigest()


def array_sha256(array: np.ndarray) -> str:
    """SHA-256 of the IDX file that would hold ``array``: comparable with the published sums."""
    big = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">"))
    h = hashlib.sha256(idx_header(array.dtype, array.shape))
    if big.size:  # an empty array has no bytes to add (and memoryview cannot cast it)
        h.update(memoryview(big).cast("B"))
    return h.hexdigest()


def _check(path: Path, sha256: str, digest) -> str | None:
    """Compare ``digest()`` with ``sha256`` once per process and file; ``None`` when it matches.

    ``digest`` returns the SHA-256 or raises; a ``DataError`` or ``OSError`` it raises becomes
    the reason (a short phrase), as does a mismatch.
    """
    key = _key(path, sha256)
    if key in _VERIFIED:
        return None
    try:
        actual = digest()
    except DataError as e:
        return str(e).removeprefix(f"{path}: ")
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    if actual != sha256:
        return f"checksum mismatch (sha256 {actual[:12]}..., expected {sha256[:12]}...)"
    _VERIFIED.add(key)
    return None


def check_file(path: str | os.PathLike, sha256: str, limit: int | None = None) -> str | None:
    """Verify a file against ``sha256``; ``None`` when it matches, else why not (a short phrase).

    ``limit``: the content's known size, if any (see :func:`content_sha256`)."""
    path = Path(path)
    return _check(path, sha256, lambda: content_sha256(path, limit))


def check_array(path: str | os.PathLike, array: np.ndarray, sha256: str) -> str | None:
    """Verify an array loaded from the cache file ``path``; ``None`` when it matches.

    An array whose dtype has no IDX type cannot be one of ours: ``array_sha256``'s
    ``DataError`` says so."""
    path = Path(path)
    return _check(path, sha256, lambda: array_sha256(array))


def mark_verified(path: str | os.PathLike, sha256: str) -> None:
    """Record that ``path`` (just written from verified data) matches ``sha256``."""
    _VERIFIED.add(_key(Path(path), sha256))
