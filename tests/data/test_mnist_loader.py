"""mnist_loader: the book's API and formats, on a tiny generated data set."""

from __future__ import annotations

import numpy as np
import pytest

import mnist_loader
from nndl.data import DirectorySource, load_mnist
from nndl.data.registry import TEST_IMAGES, TEST_LABELS, TRAIN_LABELS

pytestmark = pytest.mark.usefixtures("offline_data")


@pytest.fixture
def tiny_loader(tiny_mnist, tiny_source_dir, tmp_path, monkeypatch):
    """mnist_loader reading the tiny data set instead of the real MNIST."""
    monkeypatch.setattr(
        mnist_loader,
        "load_mnist",
        lambda name="mnist": load_mnist(tiny_mnist.spec, data_dir=tmp_path, sources=[DirectorySource(tiny_source_dir)]),
    )
    return tiny_mnist


def test_load_data_gives_the_books_tuples(tiny_loader):
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = mnist_loader.load_data()
    assert tr_x.shape == (100, 784) and tr_x.dtype == np.float32 and tr_y.dtype == np.int64
    assert va_x.shape == (20, 784) and te_y.shape == (30,)


def test_load_data_wrapper_gives_lists_of_columns(tiny_loader):
    training, validation, test = mnist_loader.load_data_wrapper()
    assert type(training) is list and type(validation) is list and type(test) is list
    assert (len(training), len(validation), len(test)) == (100, 20, 30)
    x, y = training[0]
    assert x.shape == (784, 1) and x.dtype == np.float32
    assert y.shape == (10, 1) and y.dtype == np.float64 and y.sum() == 1.0
    labels = tiny_loader.arrays[TRAIN_LABELS]
    for (_x, y), digit in zip(training, labels[:100]):
        np.testing.assert_array_equal(y, mnist_loader.vectorized_result(int(digit)))
    x, digit = validation[3]
    assert x.shape == (784, 1) and type(digit) is int and digit == labels[103]
    x, digit = test[0]
    assert type(digit) is int and digit == tiny_loader.arrays[TEST_LABELS][0]
    np.testing.assert_allclose(x[:, 0], tiny_loader.arrays[TEST_IMAGES][0].ravel() / 255, rtol=1e-6)


def test_vectorized_result():
    e = mnist_loader.vectorized_result(3)
    assert e.shape == (10, 1) and e.dtype == np.float64
    assert e[3, 0] == 1.0 and e.sum() == 1.0
