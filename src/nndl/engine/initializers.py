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

from collections.abc import Sequence

import numpy as np

from ..registry import lookup


class Initializer:
    """A registered initializer: ``init(sizes, rng, dtype) -> (weights, biases)``, and
    ``scale_(w)``, which turns standard normals w (n_out, fan_in) into its weights in place.

    Layers draw through ``scale_`` (``nndl.engine.layers``); calling the initializer gives
    a dense network's parameters in network2's shapes, from the same draws.
    """

    def __init__(self, name: str, scale_, doc: str):
        self.name, self.scale_, self.__doc__ = name, scale_, doc

    def __call__(self, sizes: Sequence[int], rng: np.random.Generator, dtype=np.float64):
        biases = [rng.standard_normal((n, 1)).astype(dtype, copy=False) for n in sizes[1:]]
        weights = [
            rng.standard_normal((n_out, n_in)).astype(dtype, copy=False) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        ]
        for w in weights:
            self.scale_(w)
        return weights, biases

    def __repr__(self) -> str:
        return f"<initializer {self.name!r}>"


def _over_sqrt_fan_in(w):
    w /= np.sqrt(w.shape[1])


def _unscaled(w):
    pass


def _times_sqrt_2_over_fan_in(w):
    w *= np.sqrt(2.0 / w.shape[1])


default_init = Initializer(
    "default",
    _over_sqrt_fan_in,
    """Weights N(0, 1/n_in) (standard deviation 1/sqrt(n_in)), biases N(0, 1).

    With 784 inputs of size ~1, z = w.x + b then has a standard deviation near 1 rather
    than ~28, so hidden neurons start in the sigmoid's steep region instead of saturated.
    """,
)
large_init = Initializer(
    "large", _unscaled, "Weights and biases both N(0, 1): the book's chapter 1 scheme, kept for comparison."
)
he_init = Initializer(
    "he",
    _times_sqrt_2_over_fan_in,
    "Weights N(0, 2/n_in) (standard deviation sqrt(2/n_in)), biases N(0, 1): for ReLU neurons.",
)


INITIALIZERS = {"default": default_init, "large": large_init, "he": he_init}


def get_initializer(name):
    """The initializer registered as ``name`` ('default', 'large' or 'he')."""
    return lookup(INITIALIZERS, name, "initializer")
