"""Small data sets from one .npz file, and the one resolver of a ``--dataset`` value.

An .npz holds ``train_images`` and ``test_images`` - (n, 28, 28) or (n, 784), integers
0-255 or floats in [0, 1] - with ``train_labels`` and ``test_labels`` (n,) integers, and
optionally ``validation_images`` / ``validation_labels``. Without a validation part, the
last sixth of the training images becomes validation (MNIST's 60,000 split 50,000 /
10,000 in the same proportion). ``tests/data/mnist_sample.npz`` is such a file; it lets
every command run offline on 2,500 real digits.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from nndl.data.load import Split, Splits, load_mnist
from nndl.data.registry import DATASETS
from nndl.errors import DataError

REQUIRED = ("train_images", "train_labels", "test_images", "test_labels")


def _split(path, arrays, part: str) -> Split:
    images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
    if images.ndim == 3:
        images = images.reshape(len(images), -1)                          # (n, 784)
    if images.ndim != 2 or labels.ndim != 1 or len(images) != len(labels) or len(labels) == 0:
        raise DataError(f"{path}: {part}_images {images.shape} and {part}_labels {labels.shape} must be "
                        f"(n, 28, 28) or (n, 784) images with n > 0 labels")
    if labels.dtype.kind not in "iu":
        raise DataError(f"{path}: {part}_labels must be integers, got {labels.dtype}")
    if images.dtype.kind in "iu":
        if images.min() < 0 or images.max() > 255:
            raise DataError(f"{path}: integer {part}_images must be 0-255")
        images = images.astype(np.float32) / np.float32(255)
    elif images.dtype.kind == "f":
        images = images.astype(np.float32)
        if not np.isfinite(images).all() or images.min() < 0 or images.max() > 1:
            raise DataError(f"{path}: float {part}_images must be finite and within [0, 1]")
    else:
        raise DataError(f"{path}: {part}_images must be numbers, got {images.dtype}")
    return Split(np.ascontiguousarray(images), labels.astype(np.int64))


def load_npz(path: str | os.PathLike) -> Splits:
    """Read a small data set from ``path`` (see the module docstring). Raises ``DataError``."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise DataError(f"{path}: no such data file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz data file ({e})") from None
    missing = [k for k in REQUIRED if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing arrays {missing}; an .npz data set needs {list(REQUIRED)}")
    training, test = _split(path, arrays, "train"), _split(path, arrays, "test")
    if "validation_images" in arrays and "validation_labels" in arrays:
        validation = _split(path, arrays, "validation")
    else:
        cut = len(training) - max(1, len(training) // 6)
        training, validation = (Split(training.images[:cut], training.labels[:cut]),
                                Split(training.images[cut:], training.labels[cut:]))
    return Splits(training, validation, test, dataset=Path(path).name, sources={"all": str(path)})


def load_dataset(dataset: str | os.PathLike, **kwargs) -> Splits:
    """A registered data set name ('mnist', 'fashion') via ``load_mnist``, or a path to an .npz."""
    if isinstance(dataset, str) and dataset in DATASETS:
        return load_mnist(dataset, **kwargs)
    if str(dataset).endswith(".npz") or Path(dataset).is_file():
        return load_npz(dataset)
    return load_mnist(dataset, **kwargs)  # raises ConfigError listing the valid names
