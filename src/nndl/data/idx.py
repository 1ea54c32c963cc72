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
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from nndl.errors import DataError
from nndl.fileio import atomic_write_bytes

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


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed, into a native-endian array of its shape.

    For ``train-images-idx3-ubyte`` the result is a uint8 array of shape (60000, 28, 28);
    for a labels file, uint8 of shape (n,). The array is a fresh, writable copy.

    Raises ``DataError`` (a ``ValueError``) naming the file when it is not a regular file,
    is not valid gzip, or is not a well-formed IDX file (wrong magic, unknown type byte,
    truncated header or data, trailing bytes).
    """
    path = Path(path)
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a regular file"
        raise DataError(f"{path}: {what}")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from e
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: not a valid gzip file ({e})") from e
    return parse_idx(data, name=str(path))


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file; ``name`` is used in error messages."""
    if len(data) < 4:
        raise DataError(f"{name}: truncated IDX header ({len(data)} bytes, need at least 4)")
    if data[0] != 0 or data[1] != 0:
        raise DataError(f"{name}: not an IDX file (magic starts {data[:2].hex()}, expected 0000)")
    type_byte, ndim = data[2], data[3]
    if type_byte not in IDX_DTYPES:
        allowed = ", ".join(f"0x{t:02X}" for t in IDX_DTYPES)
        raise DataError(f"{name}: unsupported IDX type byte 0x{type_byte:02X} (supported: {allowed})")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(
            f"{name}: truncated IDX header ({len(data)} bytes, {ndim} dimensions need {header_size})"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = IDX_DTYPES[type_byte]
    expected = header_size + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) < expected:
        raise DataError(
            f"{name}: truncated IDX data (shape {shape} needs {expected} bytes, file has {len(data)})"
        )
    if len(data) > expected:
        raise DataError(
            f"{name}: {len(data) - expected} trailing bytes after the IDX data of shape {shape}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a native-endian, writable copy


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
