"""The checks of the notebooks' exercises: a right answer passes, None says "not answered yet",
a wrong one raises NotYetRight with a message that says what it gave and what was expected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nndl
from nndl.data import Split, load_npz
from nndl.explore import (
    NotYetRight,
    check_delta,
    check_lambda,
    check_momentum,
    check_softmax_delta,
    check_z_spread,
    fig_cost_comparison,
    results,
    run_record,
    z_distribution,
)

NPZ = Path(__file__).parents[1] / "data" / "mnist_sample.npz"


@pytest.mark.parametrize("check", [check_delta, check_softmax_delta, check_momentum])
def test_none_is_not_answered_yet(check):
    assert check(None).startswith("Not answered yet:")
    assert check_lambda(None, None, None, 1, 1).startswith("Not answered yet:")
    assert check_z_spread(None, {}).startswith("Not answered yet:")


def test_cross_entropy_delta_right_and_wrong():
    assert check_delta(lambda z, a, y: a - y).startswith("Right:")
    assert check_delta(lambda z, a, y: (a - y).ravel()).startswith("Right:")  # one value per neuron
    with pytest.raises(NotYetRight, match="still carries sigma'"):
        check_delta(lambda z, a, y: (a - y) * a * (1 - a))  # the quadratic cost's
    with pytest.raises(NotYetRight, match="sign is the other way"):
        check_delta(lambda z, a, y: y - a)
    with pytest.raises(NotYetRight, match="raised NameError"):
        check_delta(lambda z, a, y: undefined_name)  # noqa: F821
    with pytest.raises(NotYetRight, match="shape"):
        check_delta(lambda z, a, y: np.zeros(3))


def test_softmax_delta_right_and_wrong():
    assert check_softmax_delta(lambda z, a, y: a - y).startswith("Right:")
    with pytest.raises(NotYetRight, match="denominator"):
        check_softmax_delta(lambda z, a, y: -y / a)  # forgets the softmax's coupling
    with pytest.raises(NotYetRight, match="shape"):
        check_softmax_delta(lambda z, a, y: (a - y).sum(axis=1))


def test_momentum_speedup_right_and_wrong():
    assert check_momentum(lambda mu: 1 / (1 - mu)).startswith("Right:")
    with pytest.raises(NotYetRight, match="mu 0.9: you said 1.9, the step settles at 10"):
        check_momentum(lambda mu: 1 + mu)


def _history(train_pct, test_pct, n_train=1000, n_test=500):
    return {
        "training_accuracy": [0, round(train_pct * n_train / 100)],
        "evaluation_accuracy": [0, round(test_pct * n_test / 100)],
    }


def test_lambda_closes_the_gap_only_when_the_gap_narrows_and_test_accuracy_rises():
    baseline = _history(100, 80)  # gap 20
    assert check_lambda(1.0, _history(99, 86), baseline, 1000, 500).startswith("Right:")  # gap 13, +6
    with pytest.raises(NotYetRight, match="hardly narrowed"):
        check_lambda(0.01, _history(100, 82), baseline, 1000, 500)  # gap 18
    with pytest.raises(NotYetRight, match="underfitting"):
        check_lambda(50.0, _history(80, 75), baseline, 1000, 500)  # gap 5, but test fell
    with pytest.raises(NotYetRight, match="did not rise by 2 points"):
        check_lambda(3.0, _history(95, 81), baseline, 1000, 500)  # gap 14, +1
    with pytest.raises(NotYetRight, match="monitor_training_accuracy"):
        check_lambda(1.0, {"training_accuracy": [], "evaluation_accuracy": [1]}, baseline, 1000, 500)


def test_z_spread_prediction_within_a_fifth_of_what_is_measured():
    images = load_npz(NPZ).training.images[:1000].astype(np.float64)
    measured = z_distribution(images, seed=0)
    s = float(np.mean(np.sum(images**2, axis=1)))  # Var(z) = sum x^2 Var(w) + Var(b)
    right = {"large": (s + 1) ** 0.5, "default": (s / 784 + 1) ** 0.5}
    assert check_z_spread(right, measured).startswith("Right:")
    with pytest.raises(NotYetRight, match="assumes every pixel is 1"):
        check_z_spread({"large": 28.0, "default": right["default"]}, measured)
    with pytest.raises(NotYetRight, match="dict with two numbers"):
        check_z_spread(9.0, measured)


def test_run_record_of_nndl_train_draws_with_the_exploration_figures():
    training, validation, test = load_npz(NPZ)
    config = nndl.TrainConfig(sizes=(784, 10, 10), epochs=2)
    runs = {}
    for name, cost, eta in (("baseline", "quadratic", 3.0), ("cross-entropy", "cross-entropy", 0.5)):
        c = config.replace(cost=cost, eta=eta)
        net, history = nndl.train(c, training, validation)
        runs[name] = run_record(c, net, history, training, validation, test)
    rec = runs["cross-entropy"]
    assert rec["n_train"] == len(training) and rec["evaluation_data"] == "validation"
    assert rec["history"]["evaluation_accuracy"] == history.evaluation_accuracy
    assert rec["final"]["test_accuracy"] == net.accuracy(test) / len(test)
    assert "state" not in rec["history"]
    fig = fig_cost_comparison(results(runs, training, validation, test, quick=True))
    assert "quick run" in fig._suptitle.get_text()
    small = Split(training.images[:100], training.labels[:100])
    assert run_record(config, net, history, small, validation, test, evaluation="test")["n_train"] == 100
    with pytest.raises(nndl.ConfigError, match="evaluation must be one of"):
        run_record(config, net, history, training, validation, test, evaluation="train")
