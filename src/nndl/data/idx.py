"""The IDX file format of the MNIST distribution: read it strictly, write it for tests and tools.

An IDX file is two zero bytes, a type byte, a dimension count ``ndim``, then ``ndim``
big-endian uint32 sizes, then the data in C order, big-endian. The original files are
distributed gzip-compressed; :func:`read_idx` accepts both forms (told apart by their first
bytes, not by the file name).

Reading is strict on purpose: a truncated download or a file with junk appended is an
error naming the file and the problem, never a silently short or reshaped array.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from nndl import memory
from nndl.errors import DataError
from nndl.fileio import atomic_write_bytes
from nndl.limits import shape_fits

# Type byte -> the dtype of the data as stored (big-endian where it matters).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

GZIP_MAGIC = b"\x1f\x8b"


MAX_NDIM = 32  # dimensions an IDX header may declare (NumPy 1.x's limit; MNIST's files have 1 or 3)
_CHUNK = 1 << 20


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed, into a native-endian array of its shape.

    For ``train-images-idx3-ubyte`` the result is a uint8 array of shape (60000, 28, 28);
    for a labels file, uint8 of shape (n,). The array is a fresh, writable copy.

    Raises ``DataError`` (a ``ValueError``) naming the file when it is not a regular file,
    is not valid gzip, or is not a well-formed IDX file (wrong magic, unknown type byte,
    more than ``MAX_NDIM`` dimensions, truncated header or data, trailing bytes).

    Work is bounded by what the header declares: a raw file's size must match it before
    its data is read, and a gzip stream is decompressed only up to the declared size
    (plus one byte, to notice trailing data), so a small "gzip bomb" cannot fill memory.
    The memory the declared array needs is compared with what the machine has first.
    """
    path = Path(path)
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a regular file"
        raise DataError(f"{path}: {what}")
    compressed = False
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            if not compressed:
                return _read_stream(raw, str(path), os.fstat(raw.fileno()).st_size)
            with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                return _read_stream(f, str(path), None)
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, (gzip.BadGzipFile, EOFError, zlib.error)) or compressed:
            raise DataError(f"{path}: not a valid gzip file ({e})") from None
        raise DataError(f"{path}: cannot be read ({getattr(e, 'strerror', None) or e})") from None


def _read_exactly(f, n: int) -> bytes:
    """Up to ``n`` bytes from ``f``, in chunks (so memory grows only as data really arrives)."""
    parts, got = [], 0
    while got < n:
        chunk = f.read(min(_CHUNK, n - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _read_stream(f, name: str, size: int | None) -> np.ndarray:
    """Header, then exactly the declared data, from a raw (``size`` known) or gzip stream."""
    head = _read_exactly(f, 4)
    ndim = _check_start(head, name)
    dims = _read_exactly(f, 4 * ndim)
    shape, dtype, expected = _declared(head + dims, name)
    if size is not None and size != expected:  # a raw file: its size says it all, before reading
        _size_error(name, shape, expected, size)
    memory.require(
        memory.file_estimate(expected - len(head) - len(dims), 2.0, "its data"),
        f"{name}: an IDX array of shape {shape}",
        error=DataError,
    )
    data = _read_exactly(f, expected - len(head) - len(dims))
    total = len(head) + len(dims) + len(data)
    if total < expected:
        _size_error(name, shape, expected, total)
    if f.read(1):
        raise DataError(
            f"{name}: trailing bytes after the IDX data of shape {shape} "
            f"(more than the {expected:,} bytes its header declares)"
        )
    return _array(head + dims + data, shape, dtype)


def _size_error(name, shape, expected, have):
    if have < expected:
        raise DataError(f"{name}: truncated IDX data (shape {shape} needs {expected} bytes, file has {have})")
    raise DataError(f"{name}: {have - expected} trailing bytes after the IDX data of shape {shape}")


def _check_start(data: bytes, name: str) -> int:
    """Check the 4 bytes of magic, type and dimension count; return the dimension count."""
    if len(data) < 4:
        raise DataError(f"{name}: truncated IDX header ({len(data)} bytes, need at least 4)")
    if data[0] != 0 or data[1] != 0:
        raise DataError(f"{name}: not an IDX file (magic starts {data[:2].hex()}, expected 0000)")
    type_byte, ndim = data[2], data[3]
    if type_byte not in IDX_DTYPES:
        allowed = ", ".join(f"0x{t:02X}" for t in IDX_DTYPES)
        raise DataError(f"{name}: unsupported IDX type byte 0x{type_byte:02X} (supported: {allowed})")
    if not 1 <= ndim <= MAX_NDIM:
        raise DataError(f"{name}: IDX header declares {ndim} dimensions (1 to {MAX_NDIM} are allowed)")
    return ndim


def _declared(data: bytes, name: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, total file bytes) that a complete header declares; sizes as Python ints."""
    ndim = _check_start(data, name)
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(f"{name}: truncated IDX header ({len(data)} bytes, {ndim} dimensions need {header_size})")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = IDX_DTYPES[data[2]]
    if not shape_fits(shape, dtype.itemsize):
        raise DataError(
            f"{name}: IDX header declares shape {shape}, which no array can have (its sizes multiply past 2**63 bytes)"
        )
    return shape, dtype, header_size + math.prod(shape) * dtype.itemsize  # no int64 overflow


def _array(data: bytes, shape, dtype) -> np.ndarray:
    array = np.frombuffer(data, dtype=dtype, offset=4 + 4 * len(shape)).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a native-endian, writable copy


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file; ``name`` is used in error messages."""
    shape, dtype, expected = _declared(bytes(data[: 4 + 4 * _check_start(bytes(data[:4]), name)]), name)
    if len(data) != expected:
        _size_error(name, shape, expected, len(data))
    return _array(data, shape, dtype)


def idx_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """The header bytes of an IDX file holding an array of this dtype and shape."""
    dtype = np.dtype(dtype)
    for type_byte, stored in IDX_DTYPES.items():
        if stored.kind == dtype.kind and stored.itemsize == dtype.itemsize:
            return struct.pack(f">BBBB{len(shape)}I", 0, 0, type_byte, len(shape), *shape)
    raise DataError(f"dtype {dtype} has no IDX type (allowed: uint8, int8, int16, int32, float32, float64)")


def idx_bytes(array: np.ndarray) -> bytes:
    """The bytes of the uncompressed IDX file holding ``array`` (header + big-endian data)."""
    array = np.asarray(array)
    big = array.astype(array.dtype.newbyteorder(">"), order="C", copy=False)
    return idx_header(array.dtype, array.shape) + big.tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool = False) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed if ``compress``), atomically.

    Used to build small test data sets and to export arrays in MNIST's own format.
    Returns the path written.
    """
    data = idx_bytes(array)
    if compress:
        data = gzip.compress(data, mtime=0)
    atomic_write_bytes(path, data)
    return Path(path)
