"""The windowed engine (the fast path for dense stacks) against the generic stack of layers.

``GradientDescent.workspace`` hands network2's dense stack to the windowed engine when a step is
linear in the weights; every other network goes one mini-batch at a time through the layers'
forward and backward passes. Both must take the same steps: here the same runs go through
each, window after window, and end with the same parameters to 1e-13 (float64).
"""

from __future__ import annotations

import numpy as np
import pytest

import nndl
from nndl.engine.dropout import Dropout
from nndl.engine.rules import GradientDescent, PlainWorkspace, linear_steps
from nndl.engine.windowed import WindowWorkspace

RTOL = 1e-13


def sparse_rows(n, n_in, n_out, seed):
    """Rows with about 70 % zeros (MNIST has 81 %), so the windowed engine's sparse path runs too."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_in))
    X[X < 0.7] = 0.0
    return X, np.eye(n_out)[rng.integers(0, n_out, n)]


def run(net, rule, ws, X, T, epochs, seed):
    """Train ``net`` in windows of ``ws.rows`` rows, in one fixed order per epoch."""
    order_rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):
        for _ in range(epochs):
            order = order_rng.permutation(len(X))
            for lo in range(0, len(X), ws.rows):
                idx = order[lo : lo + ws.rows]
                ws.X[: len(idx)], ws.T[: len(idx)] = X[idx], T[idx]
                rule.step(net, ws, len(idx))


CASES = [
    dict(),
    dict(activation="tanh"),
    dict(activation="relu", init="he"),
    dict(cost="log-likelihood"),
    dict(cost="quadratic", eta=3.0),
    dict(lmbda=0.0),
    dict(dropout=0.3),
    dict(sizes=(30, 12, 9, 5), m=7),
    dict(sizes=(30, 5)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "book")
def test_the_windowed_engine_takes_the_generic_stacks_steps(case):
    case = dict(case)
    sizes, m, p = case.pop("sizes", (30, 12, 5)), case.pop("m", 10), case.pop("dropout", 0.0)
    eta, lmbda = case.pop("eta", 0.5), case.pop("lmbda", 2.0)
    X, T = sparse_rows(233, sizes[0], sizes[-1], seed=1)  # a short last window and batch
    nets = []
    for kind in (WindowWorkspace, PlainWorkspace):
        net = nndl.Network(
            sizes,
            case.get("cost", "cross-entropy"),
            init=case.get("init", "default"),
            activation=case.get("activation", "sigmoid"),
            rng=2,
        )
        rule = GradientDescent(eta, lmbda, len(X))
        ws = rule.workspace(net, m) if kind is WindowWorkspace else PlainWorkspace(net.sizes, m, net.dtype, n=len(X))
        assert type(ws) is kind
        if p:
            rule.dropout = Dropout(p, np.random.default_rng(3), net.sizes, ws.rows, net.dtype)
        run(net, rule, ws, X, T, epochs=2, seed=4)
        nets.append(net)
    fast, generic = nets
    for a, b in zip(fast.params, generic.params):
        assert np.max(np.abs(a.value - b.value)) <= RTOL * np.max(np.abs(b.value)), a.name
    assert not np.array_equal(fast.params[0].value, nndl.Network(sizes, rng=2).params[0].value)  # it trained


def test_the_fast_path_is_chosen_in_one_place_for_dense_stacks_with_linear_steps():
    """``GradientDescent.workspace``: windowed for network2's dense stack and linear steps, the
    layers one mini-batch at a time otherwise (L1, momentum, or a stack of other layers)."""
    dense = nndl.Network([6, 4, 3], rng=0)
    other = nndl.Network.stack(
        (6,),
        [
            {"kind": "dense", "n": 4, "activation": "tanh"},
            {"kind": "dense", "n": 5, "activation": "sigmoid"},
            {"kind": "dense", "n": 3},
        ],
        rng=0,
    )
    assert dense.dense and not other.dense
    assert isinstance(GradientDescent(0.5, 1.0, 10).workspace(dense, 10), WindowWorkspace)
    assert isinstance(GradientDescent(0.5, 1.0, 10).workspace(other, 10), PlainWorkspace)
    assert isinstance(GradientDescent(0.5, 1.0, 10, regularization="l1").workspace(dense, 10), PlainWorkspace)
    assert isinstance(GradientDescent(0.5, 1.0, 10, momentum=0.5).workspace(dense, 10), PlainWorkspace)
    assert linear_steps("l1", 0.0, 0.0) and not linear_steps("l1", 1.0, 0.0) and not linear_steps("l2", 1.0, 0.1)
