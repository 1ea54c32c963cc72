"""Shared fixtures. Keep each small and say what it is for."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


# --- nndl.data: a tiny MNIST-shaped data set, and no network -------------------------------


@dataclass
class TinyDataset:
    """Four small IDX files cut from tests/data/mnist_sample.npz, and a spec whose checksums match."""

    spec: object  # nndl.data.DatasetSpec
    arrays: dict  # IDX file name -> uint8 array
    raw: dict  # IDX file name -> uncompressed IDX bytes

    def gz(self, filename: str) -> bytes:
        return gzip.compress(self.raw[filename], mtime=0)

    def write(self, folder: Path, *, compress: bool = False) -> Path:
        """Put the four files in ``folder`` (raw, or gzipped as ``<name>.gz``)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in self.raw:
            if compress:
                (folder / (name + ".gz")).write_bytes(self.gz(name))
            else:
                (folder / name).write_bytes(self.raw[name])
        return folder


@pytest.fixture(scope="session")
def tiny_mnist() -> TinyDataset:
    """120 training images (the last 20 validate) and 30 test images of real MNIST."""
    from nndl.data import DatasetSpec
    from nndl.data.idx import idx_bytes
    from nndl.data.registry import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS

    sample = np.load(DATA / "mnist_sample.npz")
    arrays = {
        TRAIN_IMAGES: sample["train_images"][:120],  # (120, 28, 28) uint8
        TRAIN_LABELS: sample["train_labels"][:120],  # (120,) uint8
        TEST_IMAGES: sample["test_images"][:30],  # (30, 28, 28) uint8
        TEST_LABELS: sample["test_labels"][:30],  # (30,) uint8
    }
    raw = {name: idx_bytes(a) for name, a in arrays.items()}
    spec = DatasetSpec(
        name="tiny",
        title="Tiny-MNIST",
        sha256={name: hashlib.sha256(b).hexdigest() for name, b in raw.items()},
        mirrors_env="NNDL_TINY_MIRRORS",
        validation_size=20,
    )
    return TinyDataset(spec, arrays, raw)


@pytest.fixture
def tiny_source_dir(tiny_mnist, tmp_path) -> Path:
    """A folder holding the tiny data set gzipped, to serve through a DirectorySource."""
    return tiny_mnist.write(tmp_path / "source", compress=True)


@pytest.fixture
def offline_data(monkeypatch, tmp_path):
    """No real mirror is ever contacted and the real cache is never touched."""
    from nndl.data import verify

    monkeypatch.setenv("NNDL_DATA_DIR", str(tmp_path / "nndl-data"))
    for var in ("NNDL_MNIST_MIRRORS", "NNDL_FASHION_MIRRORS", "NNDL_TINY_MIRRORS"):
        monkeypatch.setenv(var, "")  # set but empty: no mirrors
    monkeypatch.setattr(verify, "_VERIFIED", set())  # every test verifies from scratch


# --- the engine: the committed MNIST sample as arrays ---------------------------------------


@dataclass(frozen=True)
class MnistArrays:
    """tests/data/mnist_sample.npz as float64 rows in [0, 1] and int labels."""

    train_X: np.ndarray  # (2000, 784) float64
    train_y: np.ndarray  # (2000,) int64
    test_X: np.ndarray  # (500, 784) float64
    test_y: np.ndarray  # (500,) int64


@pytest.fixture(scope="session")
def mnist_arrays() -> MnistArrays:
    """The committed 2,000 + 500 MNIST digits, flattened and divided by 255 (read-only arrays)."""
    sample = np.load(DATA / "mnist_sample.npz")
    arrays = MnistArrays(
        train_X=sample["train_images"].reshape(-1, 784) / 255.0,
        train_y=sample["train_labels"].astype(np.int64),
        test_X=sample["test_images"].reshape(-1, 784) / 255.0,
        test_y=sample["test_labels"].astype(np.int64),
    )
    for a in (arrays.train_X, arrays.train_y, arrays.test_X, arrays.test_y):
        a.setflags(write=False)  # shared by every test: no test may change it
    return arrays
