"""Load a data set as the book splits it: 50,000 training, 10,000 validation, 10,000 test.

The four IDX files are turned into uint8 arrays once and kept beside them as ``<file>.npy``
(written atomically). That array cache is verified with the *same* published SHA-256 as
the IDX file it came from - the array, written back as IDX bytes, must hash to it - so it
needs no checksum file of its own, and a damaged cache is noticed, deleted and rebuilt
from the IDX files (which are fetched again if they too fail their checksum).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nndl.data.cache import npy_path, read_cached, write_cache
from nndl.data.idx import read_idx
from nndl.data.registry import FILENAMES, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS, DatasetSpec, get_spec
from nndl.data.sources import Progress, Source, default_sources
from nndl.data.store import dataset_dir, ensure
from nndl.errors import DataError

ARRAY_CACHE = "array cache"  # the source named for files loaded from their .npy


@dataclass(frozen=True, eq=False, repr=False)
class Split:
    """One part of a data set: ``images`` (n, 784) float32 in [0, 1], ``labels`` (n,) int64.

    float32 halves the memory of float64 (157 MB for the training images) and is what the
    book's ``mnist.pkl.gz`` held; rows are examples and C-contiguous, so a mini-batch is
    a cheap slice. Unpacks as ``images, labels = split``.
    """

    images: np.ndarray  # (n, 784) float32, pixel / 255
    labels: np.ndarray  # (n,) int64, the digit (or class) 0..9

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.images, self.labels))

    def __repr__(self) -> str:
        return f"Split(images={self.images.dtype}{self.images.shape}, labels={self.labels.dtype}{self.labels.shape})"

    def head(self, n: int | None) -> Split:
        """The first ``n`` examples (views, no copy); all of them for None."""
        return self if n is None else Split(self.images[:n], self.labels[:n])


@dataclass(frozen=True, eq=False)
class Splits:
    """The book's three splits; unpacks as ``training, validation, test = splits``."""

    training: Split  # the first 50,000 images of the official training set
    validation: Split  # its last 10,000
    test: Split  # the official 10,000 test images
    dataset: str = "mnist"
    sources: dict[str, str] = field(default_factory=dict)  # file -> who served it ("array cache", ...)
    notes: tuple[str, ...] = ()  # what was repaired on the way: damaged cache files deleted and rebuilt

    def __iter__(self) -> Iterator[Split]:
        return iter((self.training, self.validation, self.test))


def load_arrays(
    spec: DatasetSpec,
    folder: Path,
    sources: Sequence[Source] | None = None,
    progress: Progress | None = None,
    download: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, str], list[str]]:
    """The four IDX files as verified uint8 arrays, by file name, who served each, and notes.

    Uses the array cache where it verifies; otherwise reads (and if need be fetches) the
    IDX file and rebuilds its cache entry. A cache file that fails is deleted, and a note
    says so (the command line prints it).
    """
    arrays, served, notes = {}, {}, []
    for filename in FILENAMES:
        path = npy_path(folder, filename)
        if path.is_file():
            array, why = read_cached(path, spec.sha256[filename], spec.content_bytes(filename))
            if array is not None:
                arrays[filename], served[filename] = array, ARRAY_CACHE
                continue
            try:
                path.unlink()
                notes.append(f"{path}: {why}; deleted, rebuilt from the IDX file")
            except FileNotFoundError:
                pass
            except OSError as e:
                notes.append(f"{path}: {why}; could not be deleted ({e.strerror or e}), so it is not used")
    missing = [f for f in FILENAMES if f not in arrays]
    if not missing:
        return arrays, served, notes
    own = sources is None
    srcs = default_sources(spec) if own else list(sources)
    try:
        fetched = ensure(spec, folder, missing, srcs, progress, download=download)
    finally:
        for s in srcs if own else ():
            if hasattr(s, "close"):
                s.close()
    for f in fetched:
        arrays[f.filename], served[f.filename] = read_idx(f.path), f.source
        notes.extend(n for n in f.notes if n not in f.tried)  # repairs; a source that failed first is no news
        write_cache(npy_path(folder, f.filename), arrays[f.filename], spec.sha256[f.filename])
    return arrays, served, notes


def _split(images: np.ndarray, labels: np.ndarray) -> Split:
    flat = images.reshape(len(images), -1)  # (n, 784) uint8
    return Split(
        np.divide(flat, 255, dtype=np.float32),  # (n, 784) float32, new C-contiguous array
        labels.astype(np.int64),
    )  # (n,)


def load_mnist(
    name: str | DatasetSpec = "mnist",
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    progress: Progress | None = None,
    sources: Sequence[Source] | None = None,
) -> Splits:
    """Load MNIST ("mnist") or Fashion-MNIST ("fashion") as the book's three splits.

    Returns ``Splits(training, validation, test)``: training is the first 50,000 images
    of the official training set, validation its last 10,000, test the official 10,000;
    each a ``Split(images, labels)`` with images float32 (n, 784) in [0, 1] and labels
    int64 (n,). Missing files are fetched (unless ``download=False``) into
    ``<data_dir>/<name>/``; see :func:`nndl.data.fetch` for ``data_dir``, ``progress``
    and ``sources``. A load from the cache takes well under a second.

    Raises ``ConfigError`` for an unknown name, ``FetchError`` when a file can be neither
    found nor fetched, ``DataError`` when the files do not form a data set.
    """
    spec = get_spec(name)
    arrays, served, notes = load_arrays(spec, dataset_dir(spec, data_dir), sources, progress, download)
    train_x, train_y = arrays[TRAIN_IMAGES], arrays[TRAIN_LABELS]  # (60000, 28, 28), (60000,)
    test_x, test_y = arrays[TEST_IMAGES], arrays[TEST_LABELS]  # (10000, 28, 28), (10000,)
    for x, y, what in ((train_x, train_y, "training"), (test_x, test_y, "test")):
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(f"{spec.title} {what} files do not match: images {x.shape}, labels {y.shape}")
    n_train = len(train_x) - spec.validation_size
    if n_train <= 0 or spec.validation_size <= 0:
        raise DataError(
            f"{spec.title}: validation_size {spec.validation_size} does not fit {len(train_x)} training images"
        )
    return Splits(
        training=_split(train_x[:n_train], train_y[:n_train]),
        validation=_split(train_x[n_train:], train_y[n_train:]),
        test=_split(test_x, test_y),
        dataset=spec.name,
        sources=served,
        notes=tuple(notes),
    )
