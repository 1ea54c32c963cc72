"""load_mnist and mnist_loader on a tiny generated data set: splits, dtypes, the array cache."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from nndl.data import FILENAMES, DatasetSpec, DirectorySource, Split, info, load_mnist
from nndl.data.registry import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS
from nndl.errors import ConfigError, DataError, FetchError

pytestmark = pytest.mark.usefixtures("offline_data")


def test_splits_shapes_dtypes_and_values(tiny_mnist, tiny_source_dir, tmp_path):
    splits = load_mnist(tiny_mnist.spec, data_dir=tmp_path, sources=[DirectorySource(tiny_source_dir)])
    training, validation, test = splits
    assert (len(training), len(validation), len(test)) == (100, 20, 30)
    for split in splits:
        assert split.images.dtype == np.float32 and split.images.shape[1] == 784
        assert split.images.flags.c_contiguous
        assert split.labels.dtype == np.int64 and split.labels.shape == (len(split),)
        assert 0.0 <= split.images.min() and split.images.max() <= 1.0
    a = tiny_mnist.arrays
    np.testing.assert_allclose(training.images, a[TRAIN_IMAGES][:100].reshape(100, 784) / 255, rtol=1e-6)
    np.testing.assert_array_equal(validation.labels, a[TRAIN_LABELS][100:])
    np.testing.assert_allclose(test.images, a[TEST_IMAGES].reshape(30, 784) / 255, rtol=1e-6)
    np.testing.assert_array_equal(test.labels, a[TEST_LABELS])
    images, labels = test
    assert images is test.images and labels is test.labels
    assert repr(test) == "Split(images=float32(30, 784), labels=int64(30,))"
    assert splits.dataset == "tiny" and set(splits.sources.values()) == {str(tiny_source_dir)}


def test_second_load_comes_from_the_array_cache(tiny_mnist, tiny_source_dir, tmp_path):
    load_mnist(tiny_mnist.spec, data_dir=tmp_path, sources=[DirectorySource(tiny_source_dir)])
    folder = tmp_path / "tiny"
    assert all((folder / (f + ".npy")).is_file() for f in FILENAMES)
    again = load_mnist(tiny_mnist.spec, data_dir=tmp_path, sources=[])
    assert set(again.sources.values()) == {"array cache"}
    assert all(a.verified for a in info(tiny_mnist.spec, data_dir=tmp_path).array_cache)


def test_damaged_array_cache_is_rebuilt_and_damaged_idx_refetched(tiny_mnist, tiny_source_dir, tmp_path, monkeypatch):
    from nndl.data import verify

    load_mnist(tiny_mnist.spec, data_dir=tmp_path, sources=[DirectorySource(tiny_source_dir)])
    folder = tmp_path / "tiny"
    npy = folder / (TEST_LABELS + ".npy")
    data = bytearray(npy.read_bytes())
    data[-1] ^= 0xFF  # flip one label: still a valid .npy, wrong content
    npy.write_bytes(bytes(data))
    (folder / (TRAIN_LABELS + ".npy")).write_bytes(b"not numpy")
    (folder / (TRAIN_LABELS + ".gz")).write_bytes(b"\x1f\x8bjunk")
    monkeypatch.setattr(verify, "_VERIFIED", set())  # a new process
    splits = load_mnist(tiny_mnist.spec, data_dir=tmp_path, sources=[DirectorySource(tiny_source_dir)])
    assert splits.sources[TEST_LABELS] == "cache"  # rebuilt from the verified IDX file
    assert splits.sources[TRAIN_LABELS] == str(tiny_source_dir)  # IDX file was bad too: fetched again
    assert splits.sources[TRAIN_IMAGES] == "array cache"
    np.testing.assert_array_equal(splits.test.labels, tiny_mnist.arrays[TEST_LABELS])
    assert info(tiny_mnist.spec, data_dir=tmp_path).complete


def test_download_false_uses_only_what_is_there(tiny_mnist, tiny_source_dir, tmp_path):
    with pytest.raises(FetchError, match=r"download=False"):
        load_mnist(tiny_mnist.spec, data_dir=tmp_path, download=False, sources=[DirectorySource(tiny_source_dir)])
    tiny_mnist.write(tmp_path / "tiny")
    assert len(load_mnist(tiny_mnist.spec, data_dir=tmp_path, download=False).test) == 30


def test_data_dir_defaults_to_nndl_data_dir(tiny_mnist, tiny_source_dir):
    splits = load_mnist(tiny_mnist.spec, sources=[DirectorySource(tiny_source_dir)])
    assert info(tiny_mnist.spec).directory == Path(os.environ["NNDL_DATA_DIR"]) / "tiny"
    assert len(splits.training) == 100


def test_unknown_name_lists_valid_names():
    with pytest.raises(ConfigError, match=r"unknown dataset 'cifar'; valid names: fashion, mnist"):
        load_mnist("cifar")
    with pytest.raises(ValueError, match="valid names"):
        load_mnist(None)


def test_spec_needs_every_checksum():
    with pytest.raises(ConfigError, match="no sha256 given for t10k-labels-idx1-ubyte"):
        DatasetSpec(name="x", title="X", sha256={f: "0" * 64 for f in FILENAMES[:3]})


def test_validation_size_must_fit(tiny_mnist, tiny_source_dir, tmp_path):
    spec = DatasetSpec(**{**tiny_mnist.spec.__dict__, "validation_size": 500})
    with pytest.raises(DataError, match="validation_size 500 does not fit 120 training images"):
        load_mnist(spec, data_dir=tmp_path, sources=[DirectorySource(tiny_source_dir)])


def test_split_is_frozen():
    split = Split(np.zeros((2, 784), np.float32), np.zeros(2, np.int64))
    with pytest.raises(AttributeError):
        split.images = None
