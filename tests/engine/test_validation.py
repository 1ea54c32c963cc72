"""Bad arguments raise ConfigError (a ValueError) naming the parameter and the value given.

Checks happen at the public entry points - nndl.sgd, network2's SGD, nndl.Network,
TrainConfig - before any training, so a refused call leaves the network as it was.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import network2
import nndl
from nndl import ConfigError

SIZES = [6, 5, 4]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((12, 6)), rng.integers(0, 4, 12)  # (12, 6), (12,)


@pytest.fixture
def net():
    return nndl.Network(SIZES, rng=1)


def assert_refused(net, match, *args, **kwargs):
    """nndl.sgd(net, *args, **kwargs) raises ConfigError matching ``match`` and changes nothing."""
    before = [a.copy() for a in net.weights + net.biases]
    with pytest.raises(ConfigError, match=match) as info:
        nndl.sgd(net, *args, **kwargs)
    assert isinstance(info.value, ValueError)
    for a, b in zip(net.weights + net.biases, before):
        np.testing.assert_array_equal(a, b)


# --- the data ------------------------------------------------------------------------------


def test_inputs_of_the_wrong_size(net, data):
    X, y = data
    assert_refused(
        net, r"training_data: each input must have 6 values .*got inputs of shape \(5,\)", (X[:, :5], y), 1, 4, 0.5
    )
    book = [(x.reshape(7, 1), int(t)) for x, t in zip(np.hstack([X, X[:, :1]]), y)]
    assert_refused(net, r"training_data: each input must have 6 values", book, 1, 4, 0.5)
    assert_refused(
        net, r"evaluation_data: each input must have 6 values", data, 1, 4, 0.5, evaluation_data=(X[:, :3], y)
    )


def test_inputs_of_different_sizes(net):
    pairs = [(np.zeros((6, 1)), 0), (np.zeros((5, 1)), 1)]
    assert_refused(net, r"training_data: the inputs x do not all have the same size", pairs, 1, 1, 0.5)


@pytest.mark.parametrize("bad", [4, -1, 99])
def test_a_label_outside_the_outputs(net, data, bad):
    X, y = data
    y = y.copy()
    y[5] = bad
    assert_refused(net, rf"training_data: label {bad} at index 5 is outside 0\.\.3", (X, y), 1, 4, 0.5)
    pairs = [(x.reshape(6, 1), int(t)) for x, t in zip(X, y)]
    assert_refused(net, rf"label {bad} at index 5 is outside 0\.\.3", pairs, 1, 4, 0.5)
    assert_refused(
        net,
        rf"evaluation_data: label {bad} at index 5",
        data,
        1,
        4,
        0.5,
        evaluation_data=pairs,
        monitor_evaluation_accuracy=True,
    )


@pytest.mark.parametrize("bad, shown", [(np.inf, "inf"), (1e30, "1e+30"), (4.0, "4.0"), (-2.0, "-2.0")])
def test_a_float_label_outside_the_outputs_is_shown_as_given(net, data, bad, shown):
    X, y = data
    y = y.astype(float)
    y[2] = bad
    assert_refused(net, rf"training_data: label {re.escape(shown)} at index 2 is outside 0\.\.3", (X, y), 1, 4, 0.5)


def test_one_hot_targets_of_the_wrong_size(net, data):
    X, _ = data
    assert_refused(net, r"targets must have 4 values .*got 3", (X, np.eye(3)[np.arange(12) % 3]), 1, 4, 0.5)


def test_labels_that_are_not_integers(net, data):
    X, _ = data
    assert_refused(net, r"labels must be integers 0\.\.3, got dtype float64", (X, np.full(12, 0.5)), 1, 4, 0.5)
    assert_refused(net, r"labels must be integers", (X, np.full(12, np.nan)), 1, 4, 0.5)


@pytest.mark.parametrize(
    "empty", [[], (), zip(), (np.empty((0, 6)), np.empty(0, int))], ids=["list", "tuple", "zip", "arrays"]
)
def test_empty_training_data(net, empty):
    assert_refused(net, r"training_data is empty: it needs at least one example", empty, 1, 4, 0.5)


def test_empty_evaluation_data(net, data):
    assert_refused(
        net, r"evaluation_data is empty", data, 1, 4, 0.5, evaluation_data=[], monitor_evaluation_accuracy=True
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs(net, data, bad):
    X, y = data
    X = X.copy()
    X[3, 2] = bad
    assert_refused(net, r"training_data: inputs contain nan or infinite values", (X, y), 1, 4, 0.5)
    assert_refused(
        net,
        r"evaluation_data: inputs contain nan or infinite values",
        data,
        1,
        4,
        0.5,
        evaluation_data=(X, y),
        monitor_evaluation_cost=True,
    )


def test_non_finite_targets(net, data):
    X, y = data
    targets = np.eye(4)[y]
    targets[0, 0] = np.nan
    assert_refused(net, r"targets contain nan or infinite values", (X, targets), 1, 4, 0.5)


def test_inputs_that_are_not_numbers(net):
    assert_refused(net, r"inputs must be numbers, got dtype <U1", (np.full((3, 6), "a"), np.zeros(3, int)), 1, 1, 0.5)


def test_items_that_are_not_pairs(net):
    assert_refused(net, r"training_data\[1\] must be an \(x, y\) pair, got int", [(np.zeros((6, 1)), 0), 5], 1, 1, 0.5)
    assert_refused(net, r"training_data must be \(X, y\) arrays or a list of \(x, y\) pairs, got int", 7, 1, 1, 0.5)


def test_a_bare_pair_is_refused_with_the_fix():
    """(x, y) on its own - one example, not a list - reads as neither format: say what to pass."""
    net = nndl.Network([2, 3, 2], rng=0)
    x, y = np.array([[0.5], [0.25]]), np.array([[1.0], [0.0]])
    with pytest.raises(
        ConfigError,
        match=r"data is one \(x, y\) pair, x a column of 2 values; pass a list "
        r"of pairs, \[\(x, y\)\]",
    ):
        net.examples((x, y))
    assert net.examples([(x, y)]).X.tolist() == [[0.5, 0.25]]  # the list of it is fine
    assert net.examples((x.T, [0])).X.tolist() == [[0.5, 0.25]]  # and so is (X, y) with X a row


# --- the hyperparameters -------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10", None])
def test_mini_batch_size(net, data, bad):
    assert_refused(net, rf"mini_batch_size must be an integer >= 1, got {bad!r}", data, 1, bad, 0.5)


@pytest.mark.parametrize("bad", [0, 0.0, -0.5, math.nan, math.inf, -math.inf, "0.5", None, True])
def test_eta(net, data, bad):
    assert_refused(net, rf"eta must be a finite number > 0, got {bad!r}", data, 1, 4, bad)


@pytest.mark.parametrize("bad", [-1e-9, -5, math.nan, math.inf, "5"])
def test_lmbda(net, data, bad):
    assert_refused(net, rf"lmbda must be a finite number >= 0, got {bad!r}", data, 1, 4, 0.5, bad)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", None])
def test_epochs(net, data, bad):
    assert_refused(net, rf"epochs must be an integer >= 0, got {bad!r}", data, bad, 4, 0.5)


def test_zero_epochs_is_allowed_and_changes_nothing(net, data):
    before = [a.copy() for a in net.weights]
    history = nndl.sgd(net, data, 0, 4, 0.5, rng=0)
    assert history.as_tuple() == ([], [], [], [])
    for a, b in zip(net.weights, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("flag", ["monitor_evaluation_cost", "monitor_evaluation_accuracy"])
def test_a_monitor_flag_without_evaluation_data_is_named_alone(net, data, flag):
    assert_refused(net, rf"^{flag}=True needs evaluation_data, which is None$", data, 1, 4, 0.5, **{flag: True})


def test_both_monitor_flags_without_evaluation_data(net, data):
    assert_refused(
        net,
        r"^monitor_evaluation_cost and monitor_evaluation_accuracy=True need evaluation_data",
        data,
        1,
        4,
        0.5,
        monitor_evaluation_cost=True,
        monitor_evaluation_accuracy=True,
    )


def test_network2_SGD_checks_before_training(capsys):
    net = network2.Network(SIZES, seed=2)
    pairs = [(np.zeros((6, 1)), 1)] * 5
    with pytest.raises(ValueError, match=r"^monitor_evaluation_accuracy=True needs evaluation_data, which is None"):
        net.SGD(pairs, 1, 2, 0.5, monitor_evaluation_accuracy=True)
    with pytest.raises(ValueError, match=r"mini_batch_size must be an integer >= 1, got 0"):
        net.SGD(pairs, 1, 0, 0.5)
    with pytest.raises(ValueError, match=r"eta must be a finite number > 0, got -0.5"):
        net.SGD(pairs, 1, 2, -0.5)
    with pytest.raises(ValueError, match=r"lmbda must be a finite number >= 0, got -5.0"):
        net.SGD(pairs, 1, 2, 0.5, lmbda=-5.0)
    with pytest.raises(ValueError, match=r"n must be an integer >= 1, got 0"):
        net.update_mini_batch(pairs, 0.5, 0.0, 0)
    assert capsys.readouterr().out == ""  # nothing ran


# --- names and the network -----------------------------------------------------------------


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(
        ConfigError,
        match=r"unknown cost 'softmax'; valid costs are: 'quadratic', 'cross-entropy', "
        r"'log-likelihood'",
    ):
        nndl.Network(SIZES, "softmax")
    with pytest.raises(
        ConfigError, match=r"unknown initializer 'xavier'; valid initializers are: 'default', 'large', 'he'"
    ):
        nndl.Network(SIZES, init="xavier")
    with pytest.raises(ConfigError, match=r"unknown dtype 'float16'; valid dtypes are: 'float64', 'float32'"):
        nndl.Network(SIZES, dtype="float16")
    with pytest.raises(
        ConfigError, match=r"unknown activation 'softplus'; valid activations are: 'sigmoid', 'tanh', 'relu'"
    ):
        nndl.Network(SIZES, activation="softplus")


@pytest.mark.parametrize("sizes", [[784], [], [784, 0, 10], [784, -30, 10], [784, 30.0, 10], [True, 2], "784", 5, None])
def test_bad_sizes(sizes):
    with pytest.raises(ConfigError, match=r"sizes must be a list of at least 2 positive integers .*got"):
        nndl.Network(sizes)


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("cost", "hinge", r"unknown cost 'hinge'; valid costs are: 'quadratic', 'cross-entropy'"),
        ("init", "zeros", r"unknown initializer 'zeros'; valid initializers are: 'default', 'large'"),
        ("dtype", "int8", r"unknown dtype 'int8'; valid dtypes are: 'float64', 'float32'"),
        ("activation", "softmax", r"unknown activation 'softmax'"),
        ("sizes", (784,), r"sizes must be a list of at least 2 positive integers"),
        ("epochs", -1, r"epochs must be an integer >= 0, got -1"),
        ("mini_batch_size", 0, r"mini_batch_size must be an integer >= 1, got 0"),
        ("mini_batch_size", 2.5, r"mini_batch_size must be an integer >= 1, got 2.5"),
        ("mini_batch_size", True, r"mini_batch_size must be an integer >= 1, got True"),
        ("eta", 0.0, r"eta must be a finite number > 0, got 0.0"),
        ("eta", math.nan, r"eta must be a finite number > 0, got nan"),
        ("eta", math.inf, r"eta must be a finite number > 0, got inf"),
        ("lmbda", -1.0, r"lmbda must be a finite number >= 0, got -1.0"),
        ("seed", -1, r"seed must be an integer >= 0, got -1"),
        ("order_seed", 1.5, r"order_seed must be an integer >= 0, got 1.5"),
    ],
)
def test_train_config_checks_every_field(field, value, match):
    with pytest.raises(ConfigError, match=match):
        nndl.TrainConfig(**{field: value})
    with pytest.raises(ConfigError, match=match):
        nndl.TrainConfig().replace(**{field: value})


def test_train_config_from_dict_names_unknown_keys():
    with pytest.raises(ConfigError, match=r"unknown config keys \['learning_rate'\]"):
        nndl.TrainConfig.from_dict({"learning_rate": 0.1})
    assert nndl.TrainConfig.from_dict(nndl.TrainConfig().to_dict()) == nndl.TrainConfig()


def test_feedforward_refuses_the_wrong_input_size(net):
    with pytest.raises(ConfigError, match=r"input must have 6 values per example .*got shape \(5, 1\)"):
        net.feedforward(np.zeros((5, 1)))
    with pytest.raises(ConfigError, match=r"got shape \(3, 7\)"):
        net.feedforward(np.zeros((3, 7)))


def test_parameters_of_the_wrong_shape_are_refused(net):
    with pytest.raises(ConfigError, match=r"weights\[1\] must have shape \(4, 5\), got \(5, 4\)"):
        net.weights = [net.weights[0], net.weights[1].T]
    with pytest.raises(ConfigError, match=r"biases: expected 2 arrays for sizes \[6, 5, 4\], got 1"):
        net.biases = net.biases[:1]
    with pytest.raises(ConfigError, match=r"weights\[0\] contains nan or infinite values"):
        net.weights = [np.full((5, 6), np.nan), net.weights[1]]
