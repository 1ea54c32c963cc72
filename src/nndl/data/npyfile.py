"""Read one ``.npy`` array strictly: the header is parsed and checked before anything is allocated.

Used for the array cache (``<file>.npy`` beside each IDX file) and for the members of an
``.npz`` data set. ``numpy.load`` is not used for either, because on a damaged file it
allocates whatever the header declares (terabytes), raises half a dozen exception types
(``MemoryError``, ``tokenize.TokenError``, ...), and calls a file it cannot place "pickled
data" with advice to load it unsafely.

The format (numpy's ``NEP 1``): the magic ``\\x93NUMPY``, a version byte pair (1.0, 2.0 or
3.0), the header's length (2 bytes in 1.0, 4 after), and the header: a Python dict literal
``{'descr': '<u1', 'fortran_order': False, 'shape': (60000, 28, 28), }``, then the data.
Here the header may be at most :data:`MAX_HEADER` bytes, ``descr`` must name a plain
numeric type (no objects, no records), and the data the shape declares must be exactly the
bytes that follow - checked against the size the caller knows (the file's, or the zip
member's), so a header cannot make us allocate more than the file holds.
"""

from __future__ import annotations

import ast
import math
import os
import struct
from typing import IO

import numpy as np

from nndl.errors import DataError, quote
from nndl.limits import shape_fits

MAGIC = b"\x93NUMPY"
MAX_HEADER = 10_000  # bytes; numpy's own default limit (numpy.lib.format, max_header_size)
MAX_NDIM = 32  # NumPy 1.x's limit on dimensions (2.x allows 64)
_CHUNK = 1 << 22


class NpyHeader:
    """What a ``.npy`` header declares: ``shape``, ``dtype``, ``fortran_order``; ``offset`` is where
    the data starts and ``nbytes`` how many bytes the data must have."""

    __slots__ = ("shape", "dtype", "fortran_order", "offset", "nbytes")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, fortran_order: bool, offset: int):
        self.shape, self.dtype, self.fortran_order, self.offset = shape, dtype, fortran_order, offset
        self.nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow

    @property
    def count(self) -> int:
        return math.prod(self.shape)


def _read(f: IO[bytes], n: int) -> bytes:
    data = f.read(n)
    return data if data is not None else b""


def read_header(f: IO[bytes], name: str, kinds: str = "biuf") -> NpyHeader:
    """Parse the header at the start of ``f`` (bounded: at most ``MAX_HEADER`` bytes are read).

    ``kinds`` are the allowed ``dtype.kind`` letters. Raises ``DataError`` naming ``name``.
    """
    start = _read(f, 8)
    if start[:6] != MAGIC:
        raise DataError(f"{name}: not a .npy array (it does not start with numpy's magic bytes)")
    if len(start) < 8:
        raise DataError(f"{name}: truncated .npy header")
    major, minor = start[6], start[7]
    if (major, minor) not in ((1, 0), (2, 0), (3, 0)):
        raise DataError(f"{name}: .npy format version {major}.{minor} is not one numpy writes (1.0, 2.0, 3.0)")
    size_bytes = 2 if major == 1 else 4
    raw = _read(f, size_bytes)
    if len(raw) < size_bytes:
        raise DataError(f"{name}: truncated .npy header")
    (length,) = struct.unpack("<H" if major == 1 else "<I", raw)
    if length > MAX_HEADER:
        raise DataError(f"{name}: .npy header of {length:,} bytes (at most {MAX_HEADER:,} are allowed)")
    text = _read(f, length)
    if len(text) < length:
        raise DataError(f"{name}: truncated .npy header ({len(text)} of {length} bytes)")
    try:
        d = ast.literal_eval(text.decode("utf-8" if major == 3 else "latin1"))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, UnicodeDecodeError) as e:
        raise DataError(
            f"{name}: damaged .npy header (its text is not a plain Python dict: {type(e).__name__})"
        ) from None
    if not isinstance(d, dict) or set(d) != {"descr", "fortran_order", "shape"}:
        raise DataError(
            f"{name}: damaged .npy header (expected the keys descr, fortran_order and shape, got {quote(d, 60)})"
        )
    descr, fortran, shape = d["descr"], d["fortran_order"], d["shape"]
    if not isinstance(fortran, bool):
        raise DataError(f"{name}: damaged .npy header (fortran_order {quote(fortran, 40)} is not True or False)")
    if (
        not isinstance(shape, tuple)
        or len(shape) > MAX_NDIM
        or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in shape)
    ):
        raise DataError(
            f"{name}: damaged .npy header (shape {quote(shape, 60)} is not a tuple of at most {MAX_NDIM} sizes >= 0)"
        )
    dtype = None
    if isinstance(descr, str) and len(descr) <= 8:
        try:
            dtype = np.dtype(descr)
        except (TypeError, ValueError, SyntaxError):
            dtype = None
    if (
        dtype is None
        or dtype.kind not in kinds
        or dtype.fields is not None
        or dtype.subdtype is not None
        or dtype.hasobject
        or dtype.itemsize == 0
    ):
        allowed = {"b": "booleans", "i": "integers", "u": "unsigned integers", "f": "floats"}
        raise DataError(f"{name}: holds {quote(descr, 40)} values; allowed are {', '.join(allowed[k] for k in kinds)}")
    if not shape_fits(shape, dtype.itemsize):
        raise DataError(f"{name}: damaged .npy header (shape {quote(shape, 60)} is more than any array can have)")
    return NpyHeader(tuple(shape), dtype, fortran, 8 + size_bytes + length)


def read_data(f: IO[bytes], header: NpyHeader, size: int, name: str) -> np.ndarray:
    """Read the data after ``header`` from ``f``, whose whole ``.npy`` is ``size`` bytes.

    The declared data must be exactly ``size - header.offset`` bytes, checked before the
    array is allocated. Returns a writable, native-endian array of the declared shape.
    """
    held = size - header.offset
    if header.nbytes != held:
        raise DataError(
            f"{name}: its header declares shape {header.shape} of {header.dtype} "
            f"({header.nbytes:,} bytes of data), but {max(held, 0):,} bytes follow it"
        )
    buf = bytearray(header.nbytes)
    view, done = memoryview(buf), 0
    while done < header.nbytes:
        chunk = _read(f, min(_CHUNK, header.nbytes - done))
        if not chunk:
            raise DataError(f"{name}: truncated .npy data ({done:,} of {header.nbytes:,} bytes)")
        view[done : done + len(chunk)] = chunk
        done += len(chunk)
    array = np.frombuffer(buf, dtype=header.dtype).reshape(header.shape, order="F" if header.fortran_order else "C")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def read_npy(f: IO[bytes], size: int, name: str, kinds: str = "biuf") -> np.ndarray:
    """Header then data of the ``.npy`` of ``size`` bytes at the start of ``f`` (see the module docstring)."""
    return read_data(f, read_header(f, name, kinds), size, name)


def load_npy_file(path, kinds: str = "biuf") -> np.ndarray:
    """A ``.npy`` file from disk, strictly (``DataError`` for anything wrong, ``OSError`` if unreadable)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        return read_npy(f, size, str(path), kinds)
