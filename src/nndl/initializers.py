"""Weight initializers: ``init(sizes, rng, dtype) -> (weights, biases)``.

Shapes follow network2: ``weights[l]`` is (n_out, n_in), ``biases[l]`` is (n_out, 1).
Both initializers draw the same standard normals in the same order (all biases, then all
weights) and differ only in the weights' scale, so two networks made from one seed differ
only in what is being compared.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .registry import lookup


def _standard_normals(sizes: Sequence[int], rng: np.random.Generator, dtype):
    biases = [rng.standard_normal((n, 1)).astype(dtype, copy=False) for n in sizes[1:]]
    weights = [rng.standard_normal((n_out, n_in)).astype(dtype, copy=False)
               for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return weights, biases


def default_init(sizes, rng, dtype=np.float64):
    """Weights N(0, 1/n_in) (standard deviation 1/sqrt(n_in)), biases N(0, 1).

    With 784 inputs of size ~1, z = w.x + b then has a standard deviation near 1 rather
    than ~28, so hidden neurons start in the sigmoid's steep region instead of saturated.
    """
    weights, biases = _standard_normals(sizes, rng, dtype)
    for w in weights:
        w /= np.sqrt(w.shape[1])
    return weights, biases


def large_init(sizes, rng, dtype=np.float64):
    """Weights and biases both N(0, 1): the book's chapter 1 scheme, kept for comparison."""
    return _standard_normals(sizes, rng, dtype)


INITIALIZERS = {"default": default_init, "large": large_init}


def get_initializer(name):
    """The initializer registered as ``name`` ('default' or 'large')."""
    return lookup(INITIALIZERS, name, "initializer")
