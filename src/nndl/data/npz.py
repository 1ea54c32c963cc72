"""Small data sets from one .npz file, and the one resolver of a ``--dataset`` value.

An .npz holds ``train_images`` and ``test_images`` - (n, 28, 28) or (n, 784), integers
0-255 or floats in [0, 1] - with ``train_labels`` and ``test_labels`` (n,) integers 0-9, and
optionally ``validation_images`` / ``validation_labels``. Without a validation part, the
last sixth of the training images becomes validation (MNIST's 60,000 split 50,000 /
10,000 in the same proportion). ``tests/data/mnist_sample.npz`` is such a file; it lets
every command run offline on 2,500 real digits.

Reading is strict and bounded, because the file is the user's, not a verified download:
the zip archive is opened with :mod:`zipfile` and each member read by
:mod:`nndl.data.npyfile` (never ``numpy.load``, never pickle). Every header is checked -
shapes, counts, types, and that the declared data is what the member holds - before any
array is allocated, and the memory the whole set needs is compared with what the machine
has (:mod:`nndl.memory`). Every failure is a ``DataError`` naming the file and the problem.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from nndl import memory
from nndl.data.load import Split, Splits, load_mnist
from nndl.data.npyfile import NpyHeader, read_data, read_header
from nndl.data.registry import DATASETS
from nndl.errors import DataError, quote

REQUIRED = ("train_images", "train_labels", "test_images", "test_labels")
OPTIONAL = ("validation_images", "validation_labels")
N_CLASSES = 10  # labels are digits (or classes) 0-9, as in MNIST and Fashion-MNIST
PARTS = {"train": "training", "validation": "validation", "test": "test"}
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}  # what numpy.savez writes
# What the zip layer raises on a damaged archive: bad headers and directories (BadZipFile,
# struct.error, ValueError, OverflowError, UnicodeDecodeError), corrupt streams (zlib.error,
# EOFError), reading past the end (OSError).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    struct.error,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    OverflowError,
    UnicodeDecodeError,
    NotImplementedError,
    RuntimeError,
    KeyError,
)
FORMAT_HINT = (
    "an .npz data set is a zip archive of .npy arrays, as numpy.savez(path, train_images=..., "
    "train_labels=..., test_images=..., test_labels=...) writes"
)


def _members(zf: zipfile.ZipFile, path) -> dict[str, zipfile.ZipInfo]:
    """The archive's arrays by name ('train_images'), from the central directory only."""
    found = {}
    for info in zf.infolist():
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if key in REQUIRED + OPTIONAL:
            found[key] = info
    missing = [k for k in REQUIRED if k not in found]
    if missing:
        raise DataError(f"{path}: missing arrays {missing}; an .npz data set needs {list(REQUIRED)}")
    half = [k for k in OPTIONAL if (k in found) != ({*OPTIONAL} <= set(found))]
    if half:
        other = [k for k in OPTIONAL if k not in half][0]
        raise DataError(
            f"{path}: has {half[0]} but no {other}; give both, or neither (then the last "
            f"sixth of the training images is the validation split)"
        )
    for _key, info in found.items():
        if info.flag_bits & 0x1:
            raise DataError(f"{path}: {info.filename} is encrypted; {FORMAT_HINT}")
        if info.compress_type not in _METHODS:
            raise DataError(
                f"{path}: {info.filename} uses zip compression method {info.compress_type}; "
                f"nndl reads stored or deflate members only (what numpy.savez and "
                f"numpy.savez_compressed write)"
            )
    return found


def _headers(zf, found, path) -> dict[str, NpyHeader]:
    headers = {}
    for key, info in found.items():
        with zf.open(info) as f:
            headers[key] = read_header(f, f"{path}: {key}", kinds="iuf" if key.endswith("_labels") else "biuf")
        held = info.file_size - headers[key].offset
        if headers[key].nbytes != held:
            h = headers[key]
            raise DataError(
                f"{path}: {key} declares shape {h.shape} of {h.dtype} ({h.nbytes:,} bytes), but "
                f"its member holds {max(held, 0):,} bytes of data"
            )
    return headers


def _check_shapes(headers: dict[str, NpyHeader], path) -> int:
    """Shapes and counts, from the headers alone; returns the pixels per image."""
    width = None
    for part in PARTS:
        if f"{part}_images" not in headers:
            continue
        images, labels = headers[f"{part}_images"], headers[f"{part}_labels"]
        if len(images.shape) not in (2, 3):
            raise DataError(
                f"{path}: {part}_images has shape {images.shape}; images must be (n, 28, 28) "
                f"or (n, 784): one image per row"
            )
        if len(labels.shape) != 1:
            raise DataError(f"{path}: {part}_labels has shape {labels.shape}; labels must be (n,), one per image")
        n, pixels = images.shape[0], math.prod(images.shape[1:])
        if n == 0:
            raise DataError(
                f"{path}: {part}_images holds no images (shape {images.shape}); the "
                f"{PARTS[part]} set needs at least one"
            )
        if pixels == 0:
            raise DataError(f"{path}: {part}_images has images of 0 pixels (shape {images.shape})")
        if labels.shape[0] != n:
            raise DataError(
                f"{path}: {part}_images holds {n:,} images but {part}_labels holds "
                f"{labels.shape[0]:,} labels; they must match, one label per image"
            )
        if width is not None and pixels != width:
            raise DataError(
                f"{path}: {part}_images has {pixels:,} pixels per image, but train_images has "
                f"{width:,}; every part must have images of one size"
            )
        width = pixels if width is None else width
        if labels.dtype.kind not in "iu":
            raise DataError(f"{path}: {part}_labels must be integers 0-{N_CLASSES - 1}, got {labels.dtype}")
    if "validation_images" not in headers and headers["train_images"].shape[0] < 2:
        raise DataError(
            f"{path}: train_images holds 1 image, too few to split: without validation_images, "
            f"the last sixth of the training images (at least one) becomes the validation set, "
            f"so at least 2 are needed"
        )
    return width


def _check_memory(headers: dict[str, NpyHeader], path) -> None:
    arrays = sum(h.nbytes for h in headers.values())
    converted = sum(h.count * 4 for k, h in headers.items() if k.endswith("_images")) + sum(
        h.count * 8 for k, h in headers.items() if k.endswith("_labels")
    )
    estimate = memory.Estimate({"its arrays": arrays, "as float32 images and int64 labels": converted})
    memory.require(estimate, f"{path}: loading this data set", error=DataError)


def _split(path, arrays, part: str) -> Split:
    images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
    images = images.reshape(len(images), -1)  # (n, pixels)
    bad = (labels < 0) | (labels >= N_CLASSES)  # (n,)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: {part}_labels holds {quote(labels[i].item())} at index {i:,}; labels "
            f"must be classes 0-{N_CLASSES - 1} ({int(bad.sum()):,} are outside)"
        )
    if images.dtype.kind in "biu":
        if images.size and (images.min() < 0 or images.max() > 255):
            raise DataError(
                f"{path}: integer {part}_images must be 0-255, found values from {images.min()} to {images.max()}"
            )
        images = np.divide(images, np.float32(255), dtype=np.float32)  # (n, pixels)
    else:
        images = images.astype(np.float32)
        if not np.isfinite(images).all() or images.min() < 0 or images.max() > 1:
            raise DataError(f"{path}: float {part}_images must be finite and within [0, 1]")
    return Split(np.ascontiguousarray(images), labels.astype(np.int64))


def read_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The data set's arrays by name, every header checked before any data is read."""
    p = Path(path)
    try:
        if p.exists() and not p.is_file() and not p.is_dir():  # a FIFO or a device: open() would wait, or never end
            raise DataError(f"{path}: not a regular file (a FIFO or a device); {FORMAT_HINT}")
        with open(p, "rb") as fh:
            start = fh.read(6)
            if start == b"\x93NUMPY":
                raise DataError(f"{path}: is a single .npy array, not an .npz archive; {FORMAT_HINT}")
            if start[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
                raise DataError(f"{path}: not an .npz file (it is not a zip archive); {FORMAT_HINT}")
            fh.seek(0)
            try:
                with zipfile.ZipFile(fh) as zf:
                    found = _members(zf, path)
                    headers = _headers(zf, found, path)
                    _check_shapes(headers, path)
                    _check_memory(headers, path)
                    arrays = {}
                    for key, info in found.items():
                        with zf.open(info) as f:
                            h = read_header(f, f"{path}: {key}")
                            arrays[key] = read_data(f, h, info.file_size, f"{path}: {key}")
                        # the member is closed after its last byte: zipfile has checked its CRC-32
                    return arrays
            except DataError:
                raise
            except _ZIP_ERRORS as e:
                raise DataError(f"{path}: damaged .npz archive ({_zip_reason(e)})") from None
    except FileNotFoundError:
        raise DataError(f"{path}: no such data file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not an .npz data file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None


def _zip_reason(e: BaseException) -> str:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return quote(text, 100)[1:-1] if len(text) > 100 else text


def load_npz(path: str | os.PathLike) -> Splits:
    """Read a small data set from ``path`` (see the module docstring). Raises ``DataError``."""
    arrays = read_arrays(path)
    training, test = _split(path, arrays, "train"), _split(path, arrays, "test")
    if "validation_images" in arrays:
        validation = _split(path, arrays, "validation")
    else:
        cut = len(training) - max(1, len(training) // 6)
        training, validation = (
            Split(training.images[:cut], training.labels[:cut]),
            Split(training.images[cut:], training.labels[cut:]),
        )
    return Splits(training, validation, test, dataset=Path(path).name, sources={"all": str(path)})


def load_dataset(dataset: str | os.PathLike, **kwargs) -> Splits:
    """A registered data set name ('mnist', 'fashion') via ``load_mnist``, or a path to an .npz."""
    if isinstance(dataset, str) and dataset in DATASETS:
        return load_mnist(dataset, **kwargs)
    if str(dataset).endswith(".npz") or Path(dataset).is_file():
        return load_npz(dataset)
    return load_mnist(dataset, **kwargs)  # raises ConfigError listing the valid names
