"""The activations' promises the engine relies on without showing: ReLU's derivative at its
kink, the same derivative from z and from the output, softmax along the last axis of any
shape, softmax's Jacobian diagonal (``prime``, what ``saturated_share`` measures), ``fn_``
writing into its ``out=`` buffer, and network3's linear neurons (the identity, derivative 1)."""

from __future__ import annotations

import numpy as np
import pytest

from nndl.engine.activations import ACTIVATIONS, LAYER_ACTIVATIONS, SATURATED, Linear, Softmax, saturated_share

H = 1e-6


@pytest.mark.parametrize("name", sorted(LAYER_ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_derivative_from_z_and_from_the_output_agree_at_every_point_the_kink_included(name, dtype):
    """Backpropagation uses prime_from_output(a); prime(z) must say the same, also at z = 0
    exactly (ReLU's kink: nndl takes the derivative there as 0, as relu(0) = 0 says), and keep
    the network's dtype."""
    act = LAYER_ACTIVATIONS[name]
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


ALL = [*sorted(LAYER_ACTIVATIONS.items()), ("softmax", Softmax)]


@pytest.mark.parametrize(("name", "act"), ALL, ids=[n for n, _ in ALL])
def test_fn_in_place_writes_into_z_and_with_out_writes_out_and_leaves_z(name, act):
    """The training loop's hot path: ``fn_(z)`` overwrites z and returns it; ``fn_(z, out)``
    fills out, returns out and leaves z as it was. Both give exactly ``fn(z)``."""
    z = np.random.default_rng(2).uniform(-3, 3, (4, 5))  # (m, n)
    want = act.fn(z)
    buf = np.full_like(z, np.nan)  # (m, n)
    got = act.fn_(z, out=buf)
    assert got is buf
    np.testing.assert_array_equal(buf, want)
    np.testing.assert_array_equal(z, np.random.default_rng(2).uniform(-3, 3, (4, 5)))
    got = act.fn_(z)
    assert got is z
    np.testing.assert_array_equal(z, want)


def test_linear_is_the_identity_returning_a_new_array():
    """network3's linear neurons: fn(z) = z as a new array (writing to it leaves z alone)."""
    z = np.array([[-2.5, 0.0, 3.0]], dtype=np.float32)  # (1, 3)
    a = Linear.fn(z)
    assert a is not z and not np.shares_memory(a, z)
    np.testing.assert_array_equal(a, z)
    assert a.dtype == np.float32 and a.shape == (1, 3)
    a[0, 0] = 7.0
    assert z[0, 0] == -2.5
    assert Linear.fn_(z, out=z) is z
    np.testing.assert_array_equal(z, [[-2.5, 0.0, 3.0]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_linear_derivative_is_one_everywhere_in_the_inputs_float_dtype(dtype):
    """1 for every entry, shaped like the input, in its float dtype (float for integers, as the
    other activations give)."""
    z = np.array([[-3, 0, 2], [5, -1, 4]], dtype=dtype)  # (2, 3)
    want = np.float64 if dtype is np.int64 else dtype
    for d in (Linear.prime(z), Linear.prime_from_output(z)):
        assert d.shape == (2, 3) and d.dtype == want
        np.testing.assert_array_equal(d, np.ones((2, 3)))
    d = np.arange(6.0).reshape(2, 3)  # (2, 3)
    assert Linear.times_prime_(d, z, np.empty((2, 3))) is d
    np.testing.assert_array_equal(d, np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("name", sorted(LAYER_ACTIVATIONS))
def test_the_derivative_of_integer_input_is_float(name):
    """prime(z) of integers is a float64 array, never integer 0s and 1s; ReLU's and the linear
    neurons' prime_from_output too (theirs is built from a comparison or a shape, not from a)."""
    act = LAYER_ACTIVATIONS[name]
    z = np.array([-2, 0, 3])  # (3,)
    assert act.prime(z).dtype == np.float64
    if name in ("relu", "linear"):
        assert act.prime_from_output(np.maximum(z, 0)).dtype == np.float64  # integer a
    if name == "relu":
        np.testing.assert_array_equal(act.prime(z), [0.0, 0.0, 1.0])


def test_a_derivative_exactly_at_4_percent_is_not_saturated():
    """ "Below" is strict: this sigmoid output's a(1 - a) is exactly 0.01 in float64, 4 % of 0.25."""
    sig = ACTIVATIONS["sigmoid"]
    a = np.array([0.01010205144336438, 0.5])  # (2,)
    assert sig.prime_from_output(a)[0] == SATURATED * sig.prime_max
    assert saturated_share(sig, a) == 0.0
    assert saturated_share(sig, np.nextafter(a, 0.0)) == 0.5
