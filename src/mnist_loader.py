"""mnist_loader: the book's MNIST loader, with the same three functions and return formats.

Code written for "Neural Networks and Deep Learning" (``network.py``, ``network2.py``)
calls ``mnist_loader.load_data_wrapper()`` and gets lists of ``(x, y)`` pairs. This module
keeps that API. What differs from the book's version:

* Python 3, and no pickle: the book unpickled ``mnist.pkl.gz``; this module reads the
  original IDX files, fetched and verified by SHA-256 through :mod:`nndl.data` (cached in
  ``$NNDL_DATA_DIR`` or the user's cache folder; see ``nndl.data.load_mnist``).
* ``load_data_wrapper`` returns lists, not ``zip`` objects (Python 3's ``zip`` is a
  one-shot iterator, which would silently empty the data after the first epoch).
* Pixel values are ``pixel / 255`` as float32 and labels are int64 (book: values from
  the pickle, max 255/256); the 784x1 input columns are views into one array, which makes
  loading fast and uses no extra memory.
* An optional ``name`` argument loads Fashion-MNIST (``name="fashion"``) the same way.
"""

from __future__ import annotations

import nndl  # noqa: F401 - first: where NumPy is missing, nndl says in one sentence what to run

# isort: split

import numpy as np

from nndl.data import load_mnist


def load_data(name: str = "mnist"):
    """Return ``(training_data, validation_data, test_data)``, each a tuple ``(X, y)``.

    ``X`` is float32 of shape (n, 784), pixel intensities in [0, 1], one image per row;
    ``y`` is int64 of shape (n,), the digits. n is 50,000, 10,000 and 10,000: the book's
    split of the official 60,000 training images (the last 10,000 validate) and the
    official test set.
    """
    splits = load_mnist(name)
    return tuple((s.images, s.labels) for s in splits)


def load_data_wrapper(name: str = "mnist"):
    """Return ``(training_data, validation_data, test_data)`` in the format ``network.py`` uses.

    ``training_data`` is a list of 50,000 pairs ``(x, y)``: ``x`` a (784, 1) float32
    column of pixel values, ``y`` a (10, 1) float64 one-hot column of the digit.
    ``validation_data`` and ``test_data`` are lists of 10,000 pairs ``(x, y)`` with ``x`` a
    (784, 1) column and ``y`` the digit as a Python ``int``. Lists (not ``zip`` objects) so
    they can be iterated, shuffled and measured more than once.
    """
    tr_d, va_d, te_d = load_data(name)
    training_inputs = list(tr_d[0].reshape(-1, 784, 1))  # 50,000 views (784, 1) of one array
    training_results = list(_one_hot(tr_d[1]))  # 50,000 views (10, 1)
    training_data = list(zip(training_inputs, training_results))
    validation_data = list(zip(va_d[0].reshape(-1, 784, 1), va_d[1].tolist()))
    test_data = list(zip(te_d[0].reshape(-1, 784, 1), te_d[1].tolist()))
    return (training_data, validation_data, test_data)


def vectorized_result(j: int) -> np.ndarray:
    """A (10, 1) float64 column with 1.0 in position ``j`` and zeros elsewhere.

    Turns a digit into the network's desired output.
    """
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


def _one_hot(labels: np.ndarray) -> np.ndarray:
    """(n,) digits -> (n, 10, 1) float64 one-hot columns, built at once (same as vectorized_result)."""
    e = np.zeros((len(labels), 10, 1))  # (n, 10, 1)
    e[np.arange(len(labels)), labels, 0] = 1.0
    return e
