"""Weight initializers: ``init(sizes, rng, dtype) -> (weights, biases)``.

Shapes follow network2: ``weights[l]`` is (n_out, n_in), ``biases[l]`` is (n_out, 1).
Every initializer draws the same standard normals in the same order (all biases, then all
weights) and differs only in the weights' scale, so two networks made from one seed differ
only in what is being compared.

Which one a neuron needs: z = w.x + b should start with a standard deviation near 1, where
the neuron is neither saturated nor silent. 'default' (the book's N(0, 1/n_in)) does that for
the sigmoid and for tanh; 'he' (N(0, 2/n_in), He et al. 2015) for rectified linear units,
which pass only about half of their inputs on and would otherwise shrink z layer by layer;
'large' (N(0, 1)) is chapter 1's scheme, kept to show saturation.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..registry import lookup


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


def he_init(sizes, rng, dtype=np.float64):
    """Weights N(0, 2/n_in) (standard deviation sqrt(2/n_in)), biases N(0, 1): for ReLU neurons."""
    weights, biases = _standard_normals(sizes, rng, dtype)
    for w in weights:
        w *= np.sqrt(2.0 / w.shape[1])
    return weights, biases


INITIALIZERS = {"default": default_init, "large": large_init, "he": he_init}


def get_initializer(name):
    """The initializer registered as ``name`` ('default', 'large' or 'he')."""
    return lookup(INITIALIZERS, name, "initializer")
