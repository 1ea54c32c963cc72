"""Finite-difference checks: backprop, each cost's delta and the sigmoid's derivative.

Central differences (f(p + h) - f(p - h)) / 2h in float64 have error ~h^2 (truncation) plus
~eps/h (rounding); with h = 1e-5 both are far below the 1e-6 relative tolerance used here.
Tolerances are relative to the largest gradient entry, so an entry near zero is not judged
by its own (meaningless) relative error.
"""

from __future__ import annotations

import numpy as np
import pytest

import nndl
from nndl import ACTIVATIONS, COSTS, INITIALIZERS

H = 1e-5
RTOL = 1e-6


def central_difference(f, p: np.ndarray) -> np.ndarray:
    """d f / d p for a scalar f() of the array p, changed in place and restored."""
    grad = np.empty_like(p)
    for i in np.ndindex(p.shape):
        keep = p[i]
        p[i] = keep + H
        up = f()
        p[i] = keep - H
        down = f()
        p[i] = keep
        grad[i] = (up - down) / (2 * H)
    return grad


def assert_gradient_close(analytic, numeric):
    scale = np.max(np.abs(numeric))
    assert scale > 1e-4, "the check needs gradients that are not all ~0"
    np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=RTOL * scale)


def one_example(sizes, target, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((sizes[0], 1))  # (n_in, 1)
    if target == "one-hot":
        y = np.zeros((sizes[-1], 1))
        y[rng.integers(sizes[-1])] = 1.0  # (n_out, 1)
    elif target == "label":
        y = int(rng.integers(sizes[-1]))
    else:
        y = rng.uniform(0, 1, (sizes[-1], 1))
    return x, y


def assert_backprop_matches_differences(net, x, y, y_column):
    """backprop(x, y) equals central differences of the cost at x for the target column y_column."""

    def c():
        return net.cost.fn(net.feedforward(x), y_column)

    nabla_b, nabla_w = net.backprop(x, y)
    for l in range(len(net.sizes) - 1):
        assert_gradient_close(nabla_w[l], central_difference(c, net.weights[l]))
        assert_gradient_close(nabla_b[l], central_difference(c, net.biases[l]))


@pytest.mark.parametrize("cost", sorted(COSTS))
@pytest.mark.parametrize("init", sorted(INITIALIZERS))
@pytest.mark.parametrize("target", ["one-hot", "label", "uniform"])
def test_backprop_matches_central_differences_of_the_cost(cost, init, target):
    sizes = [6, 5, 4]
    net = nndl.Network(sizes, cost, init=init, rng=1)
    x, y = one_example(sizes, target, seed=2)
    if cost == "log-likelihood" and target == "uniform":
        y = y / y.sum()  # its output error a - y needs a target distribution (summing to 1)
    y_column = np.eye(sizes[-1])[y].reshape(-1, 1) if isinstance(y, int) else y

    assert_backprop_matches_differences(net, x, y, y_column)


def test_backprop_of_a_deeper_network():
    sizes = [3, 4, 4, 3, 2]
    net = nndl.Network(sizes, "quadratic", init="large", rng=3)
    x, y = one_example(sizes, "one-hot", seed=4)

    assert_backprop_matches_differences(net, x, y, y)


@pytest.mark.parametrize("cost", sorted(COSTS))
def test_cost_delta_is_the_derivative_of_fn_with_respect_to_z(cost):
    """delta(z, a, y) = dC/dz for a = cost.output.fn(z) (the sigmoid, or softmax for the
    log-likelihood), one example and a batch of rows alike."""
    cost = COSTS[cost]
    rng = np.random.default_rng(5)
    softmax = cost.output is nndl.Softmax
    for shape in [(1, 4), (3, 4)] if softmax else [(4, 1), (3, 4)]:  # softmax works along rows
        z = rng.uniform(-3, 3, shape)
        y = rng.uniform(0, 1, shape)
        if softmax:
            y /= y.sum(axis=1, keepdims=True)  # a distribution per row
        numeric = central_difference(lambda: cost.fn(cost.output.fn(z), y), z)  # noqa: B023 - called here, in this loop
        assert_gradient_close(cost.delta(z, cost.output.fn(z), y), numeric)


def test_softmax_outputs_are_a_distribution_and_survive_large_inputs():
    z = np.array([[1000.0, 1001.0, 999.0], [-5.0, 0.0, 5.0]])
    a = nndl.Softmax.fn(z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-15)
    assert np.isfinite(a).all() and a[0].argmax() == 1
    np.testing.assert_allclose(a[1], np.exp([-5.0, 0.0, 5.0]) / np.exp([-5.0, 0.0, 5.0]).sum(), rtol=1e-14)
    buf = z.copy()
    np.testing.assert_array_equal(nndl.Softmax.fn_(buf), a)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_prime_matches_central_differences(name):
    act = ACTIVATIONS[name]
    z = np.linspace(-8, 8, 32)  # 32 points: none at 0, where ReLU has its kink
    numeric = np.array([(act.fn(t + H) - act.fn(t - H)) / (2 * H) for t in z])
    np.testing.assert_allclose(act.prime(z), numeric, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(act.prime_from_output(act.fn(z)), act.prime(z), rtol=1e-12)
    buf = z.copy()
    assert act.fn_(buf) is buf
    np.testing.assert_array_equal(buf, act.fn(z))  # the in-place form gives the same numbers


def test_network2_helpers_are_the_sigmoid_and_its_derivative():
    import network2

    z = np.array([[-2.0], [0.0], [3.0]])
    np.testing.assert_allclose(network2.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    np.testing.assert_allclose(network2.sigmoid_prime(z), np.exp(-z) / (1 + np.exp(-z)) ** 2, rtol=1e-14)
    assert network2.sigmoid(np.array([-1000.0]))[0] == 0.0  # exp overflow gives 0, not nan


# --- initializers (no gradient: check the distributions they promise) ----------------------


def test_default_init_scales_weights_by_one_over_sqrt_n_in():
    sizes = [784, 100, 10]
    weights, biases = INITIALIZERS["default"](sizes, np.random.default_rng(6))
    assert [w.shape for w in weights] == [(100, 784), (10, 100)]
    assert [b.shape for b in biases] == [(100, 1), (10, 1)]
    assert weights[0].std() == pytest.approx(1 / np.sqrt(784), rel=0.02)  # 78,400 draws
    assert abs(weights[0].mean()) < 5 * (1 / np.sqrt(784)) / np.sqrt(78400)  # 5 standard errors
    assert weights[1].std() == pytest.approx(1 / np.sqrt(100), rel=0.1)
    assert np.concatenate(biases).std() == pytest.approx(1.0, rel=0.2)


def test_large_init_is_default_init_times_sqrt_n_in_from_the_same_draws():
    sizes = [50, 20, 10]
    w_default, b_default = INITIALIZERS["default"](sizes, np.random.default_rng(7))
    w_large, b_large = INITIALIZERS["large"](sizes, np.random.default_rng(7))
    for wd, wl, n_in in zip(w_default, w_large, sizes[:-1]):
        np.testing.assert_allclose(wl, wd * np.sqrt(n_in), rtol=1e-15)
    for bd, bl in zip(b_default, b_large):
        np.testing.assert_array_equal(bd, bl)
    assert w_large[0].std() == pytest.approx(1.0, rel=0.1)  # 1,000 draws: sd of the estimate ~2 %


def test_he_init_is_default_init_times_sqrt_2_from_the_same_draws():
    """N(0, 2/n_in) for ReLU neurons: the default's draws, scaled by sqrt(2)."""
    sizes = [50, 20, 10]
    w_default, b_default = INITIALIZERS["default"](sizes, np.random.default_rng(7))
    w_he, b_he = INITIALIZERS["he"](sizes, np.random.default_rng(7))
    for wd, wh in zip(w_default, w_he):
        np.testing.assert_allclose(wh, wd * np.sqrt(2.0), rtol=1e-14)
    for bd, bh in zip(b_default, b_he):
        np.testing.assert_array_equal(bd, bh)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_times_prime_multiplies_by_the_derivative_in_place(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(9)
    z = rng.uniform(-4, 4, (5, 7))
    a = act.fn(z)
    d = rng.standard_normal((5, 7))
    want = d * act.prime(z)
    out = act.times_prime_(d, a, np.empty_like(d))
    assert out is d
    np.testing.assert_allclose(d, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initializers_return_the_requested_dtype(dtype):
    for init in INITIALIZERS.values():
        weights, biases = init([4, 3, 2], np.random.default_rng(8), dtype)
        assert all(a.dtype == dtype for a in weights + biases)
