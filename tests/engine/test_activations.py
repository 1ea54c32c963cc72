"""The activations' promises the engine relies on without showing: ReLU's derivative at its
kink, the same derivative from z and from the output, softmax along the last axis of any
shape, and softmax's Jacobian diagonal (``prime``, what ``saturated_share`` measures)."""

from __future__ import annotations

import numpy as np
import pytest

from nndl.engine.activations import ACTIVATIONS, SATURATED, Softmax, saturated_share

H = 1e-6


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_derivative_from_z_and_from_the_output_agree_at_every_point_the_kink_included(name, dtype):
    """Backpropagation uses prime_from_output(a); prime(z) must say the same, also at z = 0
    exactly (ReLU's kink: nndl takes the derivative there as 0, as relu(0) = 0 says), and keep
    the network's dtype."""
    act = ACTIVATIONS[name]
    z = np.array([-3.0, -0.0, 0.0, 1e-30, 2.0], dtype=dtype)
    a = act.fn(z)
    np.testing.assert_allclose(act.prime(z), act.prime_from_output(a), rtol=1e-6 if dtype is np.float32 else 1e-12)
    assert act.prime(z).dtype == dtype and act.prime_from_output(a).dtype == dtype
    if name == "relu":
        np.testing.assert_array_equal(act.prime(z), [0, 0, 0, 1, 1])


@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 5)])
def test_softmax_works_along_the_last_axis_of_any_shape(shape):
    z = np.random.default_rng(0).uniform(-4, 4, shape)
    a = Softmax.fn(z)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(a, np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True), rtol=1e-13)
    np.testing.assert_array_equal(Softmax.fn_(z.copy()), a)


def test_softmax_prime_is_the_diagonal_of_its_jacobian():
    z = np.random.default_rng(1).uniform(-2, 2, (3, 4))
    numeric = np.empty_like(z)
    for i in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[i] += H
        down[i] -= H
        numeric[i] = (Softmax.fn(up)[i] - Softmax.fn(down)[i]) / (2 * H)
    np.testing.assert_allclose(Softmax.prime(z), numeric, rtol=1e-8)
    np.testing.assert_allclose(Softmax.prime_from_output(Softmax.fn(z)), Softmax.prime(z), rtol=1e-14)
    assert Softmax.prime(np.zeros((1, 2))).max() == Softmax.prime_max == 0.25


def test_saturated_means_a_derivative_below_4_percent_of_its_largest():
    sig = ACTIVATIONS["sigmoid"]
    edge = SATURATED * sig.prime_max  # 0.01 for the sigmoid
    a = np.array([0.5, 0.9, 0.995, 0.999])  # sigma'(z) = a(1 - a): 0.25, 0.09, 0.004975, 0.000999
    assert saturated_share(sig, a) == 0.5
    assert SATURATED == 0.04 and edge == pytest.approx(0.01)
