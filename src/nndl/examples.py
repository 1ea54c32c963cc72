"""Turn the data formats users bring into the arrays the engine works on.

Accepted (for training and evaluation alike):

* ``(X, y)``: X of shape (n, n_in), y integer labels (n,) or targets (n, n_out);
* an object with ``images`` and ``labels`` attributes (``nndl.data.Split``);
* network2's format: a list - or any iterable, ``zip`` included - of ``(x, y)`` pairs,
  x a column (n_in, 1), y either a one-hot column (n_out, 1) or an int label.

Everything becomes an ``Examples``: X (n, n_in), C-contiguous, one example per row, in
the network's dtype - or left in float32 for a float64 network, since every float32
converts exactly to float64: the engine widens rows as it reads them, and MNIST's 50,000
training images take 157 MB instead of 314 MB, with no second of copying per run; ``labels`` (n,) int64; ``targets`` (n, n_out) for the cost. One-hot (or
any vector) targets are kept as given and their labels are the argmax; int labels get
one-hot targets. So network2's ``convert`` flags are never needed to read the data right.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError


@dataclass(frozen=True)
class Examples:
    """A data set as arrays: ``X`` (n, n_in), ``labels`` (n,) int64, ``targets`` (n, n_out)."""

    X: np.ndarray
    labels: np.ndarray
    targets: np.ndarray

    def __len__(self) -> int:
        return self.X.shape[0]


def _pairs_to_arrays(pairs, name):
    xs, ys = [], []
    for i, item in enumerate(pairs):
        try:
            x, y = item
        except (TypeError, ValueError):
            raise ConfigError(f"{name}[{i}] must be an (x, y) pair, got {type(item).__name__}") from None
        xs.append(np.asarray(x).reshape(-1))
        ys.append(y if isinstance(y, numbers.Integral) else np.asarray(y).reshape(-1))
    if not xs:
        return np.empty((0, 0)), np.empty((0,), np.int64)
    try:
        X = np.stack(xs)
    except ValueError:
        raise ConfigError(f"{name}: the inputs x do not all have the same size") from None
    if all(isinstance(y, numbers.Integral) for y in ys):
        return X, np.asarray(ys, dtype=np.int64)
    if any(isinstance(y, numbers.Integral) for y in ys):
        raise ConfigError(f"{name}: mixes int labels with vector targets")
    try:
        return X, np.stack(ys)
    except ValueError:
        raise ConfigError(f"{name}: the targets y do not all have the same size") from None


def _storage_dtype(given, dtype) -> np.dtype:
    """The dtype X is kept in: ``dtype``, or float32 when that is given and converts exactly."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if (given == np.float32 and dtype == np.float64) else dtype


def as_examples(data, n_in: int, n_out: int, dtype, name: str = "data") -> Examples:
    """Validate ``data`` against a network with ``n_in`` inputs and ``n_out`` outputs.

    Raises ``ConfigError`` naming ``name`` when the data is empty, shaped wrong, has a
    label outside 0..n_out-1, or holds non-finite numbers.
    """
    if isinstance(data, Examples):
        if (
            data.X.dtype == _storage_dtype(data.X.dtype, dtype)
            and data.X.shape[1] == n_in
            and data.targets.shape[1] == n_out
        ):
            return data  # already checked when it was made: skip the O(n) checks every epoch
        X, y = data.X, data.targets
    elif hasattr(data, "images") and hasattr(data, "labels"):
        X, y = data.images, data.labels
    elif (
        isinstance(data, tuple)
        and len(data) == 2
        and isinstance(data[0], np.ndarray)
        and np.ndim(data[0]) == 2
        and np.ndim(data[1]) in (1, 2)
        and len(data[0]) == len(data[1])
        and not (np.ndim(data[1]) == 2 and np.shape(data[1])[1] == 1 and n_out != 1)
    ):
        X, y = data
    elif isinstance(data, tuple) and len(data) == 2 and np.shape(data[0]) == (n_in, 1) and n_in != 1:
        raise ConfigError(
            f"{name} is one (x, y) pair, x a column of {n_in} values; pass a list of "
            f"pairs, [(x, y)], or arrays (X of shape (n, {n_in}), y)"
        )
    else:
        try:
            X, y = _pairs_to_arrays(data, name)
        except TypeError:
            raise ConfigError(
                f"{name} must be (X, y) arrays or a list of (x, y) pairs, got {type(data).__name__}"
            ) from None
    X = np.asarray(X)
    y = np.asarray(y)
    if X.shape[0] == 0:
        raise ConfigError(f"{name} is empty: it needs at least one example")
    if X.ndim != 2 or X.shape[1] != n_in:
        raise ConfigError(
            f"{name}: each input must have {n_in} values to match the network's "
            f"input layer, got inputs of shape {X.shape[1:]}"
        )
    if y.shape[0] != X.shape[0]:
        raise ConfigError(f"{name}: {X.shape[0]} inputs but {y.shape[0]} labels")
    if X.dtype.kind not in "biuf":
        raise ConfigError(f"{name}: inputs must be numbers, got dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=_storage_dtype(X.dtype, dtype))
    if not np.isfinite(X).all():
        raise ConfigError(f"{name}: inputs contain nan or infinite values")
    if y.ndim == 1:
        if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
            raise ConfigError(f"{name}: labels must be integers 0..{n_out - 1}, got dtype {y.dtype}")
        bad = (y < 0) | (y >= n_out)  # before the cast: inf or 1e30 has no int64 value
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ConfigError(f"{name}: label {y[i]} at index {i} is outside 0..{n_out - 1}")
        labels = y.astype(np.int64)
        targets = np.zeros((len(labels), n_out), dtype=dtype)  # (n, n_out) one-hot
        targets[np.arange(len(labels)), labels] = 1.0
    else:
        targets = np.ascontiguousarray(y.reshape(len(y), -1), dtype=dtype)
        if targets.shape[1] != n_out:
            raise ConfigError(
                f"{name}: targets must have {n_out} values to match the network's output layer, got {targets.shape[1]}"
            )
        if not np.isfinite(targets).all():
            raise ConfigError(f"{name}: targets contain nan or infinite values")
        labels = targets.argmax(axis=1)
    return Examples(X, labels, targets)
