"""The windowed training step (nndl.engine.windowed) against network2's per-example algorithm.

``nndl.sgd`` takes its steps through ``GradientDescent.step``, which runs a window of
consecutive mini-batches at a time: the first layer's products over the whole window,
the decay as powers of the factor, and for inputs with many zeros (MNIST) only the
nonzero columns. Dense random inputs (the other exactness tests) never take the sparse
path; these tests give it sparse inputs, windows of every shape, extreme decay factors
and float32.
"""

from __future__ import annotations

import numpy as np
import pytest

import nndl
from nndl.engine.rules import GradientDescent
from nndl.engine.windowed import WindowWorkspace, descend_window

RTOL = 1e-13  # the README's figure (measured here: 1.3e-14 at worst; docs/testing.md)


def ref_step(weights, biases, quadratic, X, Y, eta, lmbda, n):
    """network2's update_mini_batch, one (n_in, 1) column at a time."""
    nw = [np.zeros(w.shape) for w in weights]
    nb = [np.zeros(b.shape) for b in biases]
    for x, y in zip(X, Y):
        acts, zs = [x.reshape(-1, 1)], []
        for w, b in zip(weights, biases):
            zs.append(w @ acts[-1] + b)
            acts.append(1.0 / (1.0 + np.exp(-zs[-1])))
        delta = acts[-1] - y.reshape(-1, 1)
        if quadratic:
            delta = delta * acts[-1] * (1 - acts[-1])
        for l in range(len(weights) - 1, -1, -1):
            nb[l] += delta
            nw[l] += delta @ acts[l].T
            if l:
                delta = (weights[l].T @ delta) * acts[l] * (1 - acts[l])
    m = len(X)
    return (
        [(1 - eta * lmbda / n) * w - (eta / m) * g for w, g in zip(weights, nw)],
        [b - (eta / m) * g for b, g in zip(biases, nb)],
    )


def sparse_data(n, n_in, n_out, seed, support=2):
    """Inputs with ``support`` nonzero columns each: a batch of 5 uses about half of them."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, n_in))
    for row in X:
        row[rng.choice(n_in, support, replace=False)] = rng.uniform(0.1, 1.0, support)
    return X, np.eye(n_out)[rng.integers(0, n_out, n)]


def rel_err(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


def assert_same(net, weights, biases, rtol=RTOL):
    for l in range(len(weights)):
        assert rel_err(net.weights[l], weights[l]) <= rtol
        assert rel_err(net.biases[l], biases[l]) <= rtol


def ref_sgd(net, X, Y, epochs, m, eta, lmbda, seed):
    """network2's SGD loop, with nndl's shuffle: returns the expected (weights, biases)."""
    w, b = [x.copy() for x in net.weights], [x.copy() for x in net.biases]
    twin, n = np.random.default_rng(seed), len(X)
    for _ in range(epochs):
        order = twin.permutation(n)
        for k in range(0, n, m):
            idx = order[k : k + m]
            w, b = ref_step(w, b, net.cost.name == "quadratic", X[idx], Y[idx], eta, lmbda, n)
    return w, b


@pytest.mark.parametrize("cost", ["cross-entropy", "quadratic"])
@pytest.mark.parametrize("lmbda", [0.0, 3.0])
@pytest.mark.parametrize("sizes", [[400, 8, 3], [400, 3], [400, 8, 6, 3]])
@pytest.mark.parametrize("n", [23, 257])  # one short window; 100 + 100 + 57 rows, 2 in the last batch
def test_sgd_on_sparse_inputs_equals_the_per_example_reference(cost, lmbda, sizes, n):
    m, eta = 5, 0.5
    X, Y = sparse_data(n, sizes[0], sizes[-1], seed=1)
    ws = WindowWorkspace(sizes, m, np.float64, 1.0)
    order = np.random.default_rng(2).permutation(n)
    widest = max(np.count_nonzero(X[order[k : k + ws.rows]].any(axis=0)) for k in range(0, n, ws.rows))
    assert widest <= ws.sparse_limit  # the sparse path runs
    net = nndl.Network(sizes, cost, rng=3)
    w, b = ref_sgd(net, X, Y, 2, m, eta, lmbda, seed=2)
    nndl.sgd(net, (X, Y), 2, m, eta, lmbda, rng=np.random.default_rng(2))
    assert_same(net, w, b)


@pytest.mark.parametrize("sizes", [[60, 5, 4], [60, 4], [60, 5, 5, 4]])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("rows", [1, 5, 10, 12, 100])
def test_a_window_equals_update_mini_batch_after_update_mini_batch(sizes, sparse, rows):
    """descend_window on windows of every shape (one batch, several, a short last batch)
    takes the same steps as network2's update_mini_batch, one mini-batch after another."""
    n, m, eta, lmbda = 23, 5, 0.5, 2.0
    X, Y = (
        sparse_data(n, sizes[0], sizes[-1], seed=11, support=1)
        if sparse
        else (np.random.default_rng(11).standard_normal((n, sizes[0])), np.eye(sizes[-1])[np.arange(n) % sizes[-1]])
    )
    net = nndl.Network(sizes, rng=12)
    rule = GradientDescent(eta, lmbda, n)
    ws = WindowWorkspace(sizes, m, np.float64, rule.decay, rows=rows)
    assert ws.rows == max(1, rows // m) * m
    widest = max(np.count_nonzero(X[k : k + ws.rows].any(axis=0)) for k in range(0, n, ws.rows))
    assert (widest <= ws.sparse_limit) == sparse  # the path under test runs
    w, b = [x.copy() for x in net.weights], [x.copy() for x in net.biases]
    for k in range(0, n, m):
        w, b = ref_step(w, b, False, X[k : k + m], Y[k : k + m], eta, lmbda, n)
    with np.errstate(over="ignore"):
        for lo in range(0, n, ws.rows):
            r = min(ws.rows, n - lo)
            ws.X[:r], ws.T[:r] = X[lo : lo + r], Y[lo : lo + r]
            descend_window(net, ws, r, eta)
    assert_same(net, w, b)


@pytest.mark.parametrize("eta, lmbda, n", [(2.0, 2.0, 4), (3.0, 2.0, 4), (0.999, 400.0, 400)])
def test_decay_factors_at_zero_below_zero_and_near_zero(eta, lmbda, n):
    """1 - eta*lmbda/n = 0, -0.5 and 0.001 a step: the windows hold powers of it up to
    the 99th (1e-297), never its inverse, so all three are exact. (The training loop refuses
    factors <= 0 before training - they cannot train - so the engine is driven directly.)"""
    sizes = [12, 6, 3]
    X, Y = sparse_data(n, sizes[0], sizes[-1], seed=4)
    net = nndl.Network(sizes, rng=5)
    w, b = [x.copy() for x in net.weights], [x.copy() for x in net.biases]
    order = np.random.default_rng(6).permutation(n)
    rule = GradientDescent(eta, lmbda, n)
    ws = rule.workspace(net, 1)
    with np.errstate(over="ignore"):
        for lo in range(0, n, ws.rows):
            r = min(ws.rows, n - lo)
            ws.X[:r], ws.T[:r] = X[order[lo : lo + r]], Y[order[lo : lo + r]]
            rule.step(net, ws, r)
    for k in order:
        w, b = ref_step(w, b, False, X[k : k + 1], Y[k : k + 1], eta, lmbda, n)
    assert_same(net, w, b)


def test_float32_with_extreme_decay_stays_finite_and_close():
    sizes, n = [12, 6, 3], 400
    X, Y = sparse_data(n, sizes[0], sizes[-1], seed=7)
    net32 = nndl.Network(sizes, rng=8, dtype="float32")
    net64 = nndl.Network(sizes, rng=8)
    for net in (net32, net64):
        nndl.sgd(net, (X, Y), 2, 1, 0.999, 400.0, rng=9)  # decay factor 0.001 a step
    for a, b in zip(net32.weights + net32.biases, net64.weights + net64.biases):
        assert a.dtype == np.float32 and np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_weights_and_biases_are_views_that_can_be_assigned():
    net = nndl.Network([4, 3, 2], rng=10)
    x = np.arange(4.0).reshape(1, 4)
    before = net.feedforward(x)
    assert net.weights[0].shape == (3, 4) and net.biases[0].shape == (3, 1)
    net.weights[0][1, 2] += 1.0  # in place: the network changes
    assert not np.array_equal(net.feedforward(x), before)
    net.weights = [np.zeros((3, 4)), np.zeros((2, 3))]
    net.biases = [np.zeros((3, 1)), np.ones((2, 1))]
    np.testing.assert_array_equal(net.feedforward(x), np.full((1, 2), 1 / (1 + np.exp(-1.0))))


def test_float32_inputs_of_a_float64_network_are_kept_and_train_bit_for_bit_the_same(mnist_arrays):
    """float32 converts exactly to float64, so the engine keeps such inputs as they are
    (half the memory, no copy) and widens each window as it reads it: same result, bit for bit."""
    X32, y = mnist_arrays.train_X[:300].astype(np.float32), mnist_arrays.train_y[:300]
    net = nndl.Network([784, 12, 10], rng=13)
    kept = net.examples((X32, y))
    assert kept.X.dtype == np.float32 and np.shares_memory(kept.X, X32)
    assert net.examples(kept) is kept  # not re-checked nor copied
    a, b = nndl.Network([784, 12, 10], rng=13), nndl.Network([784, 12, 10], rng=13)
    ha = nndl.sgd(
        a,
        (X32, y),
        2,
        10,
        0.5,
        5.0,
        (X32[:50], y[:50]),
        monitor_evaluation_cost=True,
        monitor_evaluation_accuracy=True,
        rng=14,
    )
    hb = nndl.sgd(
        b,
        (X32.astype(np.float64), y),
        2,
        10,
        0.5,
        5.0,
        (X32[:50].astype(np.float64), y[:50]),
        monitor_evaluation_cost=True,
        monitor_evaluation_accuracy=True,
        rng=14,
    )
    for pa, pb in zip(a.weights + a.biases, b.weights + b.biases):
        assert pa.dtype == np.float64
        np.testing.assert_array_equal(pa, pb)
    assert ha.evaluation_cost == hb.evaluation_cost and ha.evaluation_accuracy == hb.evaluation_accuracy


def test_random_configurations_equal_the_per_example_reference():
    """100 drawn configurations: depth 1-3, layer sizes from 1, n from 1 (mini-batches larger than
    the data too), both costs, lmbda 0 or up to 20, dense, sparse and all-zero inputs, 2 epochs."""
    rng = np.random.default_rng(123)
    for trial in range(100):
        sizes = [int(rng.integers(1, 40))] + [int(rng.integers(1, 12)) for _ in range(rng.integers(1, 4))]
        n, m = int(rng.integers(1, 260)), int(rng.integers(1, 40))
        eta, lmbda = float(rng.uniform(0.01, 3.0)), float(rng.choice([0.0, rng.uniform(0.0, 20.0)]))
        cost = str(rng.choice(["cross-entropy", "quadratic"]))
        kind = trial % 3  # dense, sparse, all zero
        X = (
            rng.standard_normal((n, sizes[0]))
            if kind == 0
            else rng.random((n, sizes[0])) * (rng.random((n, sizes[0])) < 0.1) * (kind == 1)
        )
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
        net = nndl.Network(sizes, cost, rng=trial)
        w, b = [x.copy() for x in net.weights], [x.copy() for x in net.biases]
        twin = np.random.default_rng(trial)
        with np.errstate(over="ignore"):
            for _ in range(2):
                order = twin.permutation(n)
                for k in range(0, n, m):
                    w, b = ref_step(w, b, cost == "quadratic", X[order[k : k + m]], Y[order[k : k + m]], eta, lmbda, n)
        if eta * lmbda >= n:  # decay factor <= 0: refused before training
            with pytest.raises(nndl.ConfigError, match="weight-decay factor"):
                nndl.sgd(net, (X, Y), 2, m, eta, lmbda, rng=np.random.default_rng(trial))
            continue
        if not all(np.isfinite(x).all() for x in w + b):
            with pytest.raises(nndl.DivergenceError):
                nndl.sgd(net, (X, Y), 2, m, eta, lmbda, rng=np.random.default_rng(trial))
            continue
        nndl.sgd(net, (X, Y), 2, m, eta, lmbda, rng=np.random.default_rng(trial))
        for got, want in zip(net.weights + net.biases, w + b):
            assert rel_err(got, want) <= RTOL, (trial, sizes, n, m, eta, lmbda, cost, kind)


@pytest.mark.parametrize("n, m", [(5000, 10), (5033, 10), (250, 7), (3, 10)])
def test_on_batch_reports_progress_about_a_hundred_times_and_ends_at_the_total(n, m):
    """Progress comes about every 1 % (at most once a window of mini-batches) and ends at total."""
    X, Y = sparse_data(n, 30, 3, seed=15)
    calls = []
    nndl.sgd(nndl.Network([30, 4, 3], rng=16), (X, Y), 2, m, 0.5, on_batch=lambda d, t: calls.append((d, t)))
    total = -(-n // m)
    per_epoch = [c for c in calls if c[1] == total]
    assert len(per_epoch) == len(calls)
    ends = [i for i, c in enumerate(calls) if c[0] == total]
    assert len(ends) == 2  # once per epoch, at the end
    first = calls[: ends[0] + 1]
    assert all(a[0] < b[0] for a, b in zip(first, first[1:]))  # strictly increasing
    windows = -(-n // (max(1, 100 // m) * m))  # it can only report between windows
    assert min(windows, 90) <= len(first) <= 110


def test_large_mini_batches_allocate_only_what_one_step_needs():
    """A mini-batch of 100 or more is a window of one step: no (rows, rows) tables; and a
    mini-batch larger than the data set (full-batch training) is sized by the data."""
    ws = WindowWorkspace([784, 30, 10], 60_000, np.float64, 1.0, n=200)
    assert ws.rows == 200 and ws.X.shape == (200, 784) and ws.G is None and ws.D is None
    assert WindowWorkspace([784, 30, 10], 10, np.float64, 1.0).G.shape == (100 * 100,)
    X, Y = sparse_data(200, 30, 3, seed=17)
    net = nndl.Network([30, 5, 3], rng=18)
    w, b = ref_step(
        [x.copy() for x in net.weights],
        [x.copy() for x in net.biases],
        False,
        X[np.random.default_rng(19).permutation(200)],
        Y[np.random.default_rng(19).permutation(200)],
        0.5,
        1.0,
        200,
    )
    nndl.sgd(net, (X, Y), 1, 60_000, 0.5, 1.0, rng=np.random.default_rng(19))
    assert_same(net, w, b)
