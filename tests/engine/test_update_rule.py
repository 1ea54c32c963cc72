"""The update rule's public promises, beyond exactness (``nndl.GradientDescent``, ``nndl.engine.regularizers``,
``nndl.engine.costs``): the checks it makes, what L1 does at zero, what it costs, what it keeps.

* ``GradientDescent`` (public API) refuses a learning rate <= 0 naming it, and a decay factor
  1 - eta*lmbda/n <= 0 naming the hyperparameter further from the book's (eta 0.5, lambda 5),
  with the limit that would fix it;
* L1's sgn(0) = 0: a weight at exactly 0 with no gradient stays at 0 (its docstring), with and
  without momentum; its cost term is (lmbda / n) sum |w| wherever costs are reported;
* buffers are sized by the data: a mini-batch larger than the data set takes the data set's rows;
* a run without momentum keeps no velocity in its saved state (a model file would double);
* dropout masks are drawn per window also for mini-batches of more than 50 rows;
* the cross-entropy cost of a saturated wrong answer is about 87 in float32 and 708 in float64
  (-ln of the dtype's smallest normal number), and integer inputs work too.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from test_techniques_exactness import assert_like_reference, data, reference_run

import nndl
from nndl.engine.base import Param
from nndl.engine.costs import CrossEntropyCost, LogLikelihoodCost, get_cost
from nndl.engine.regularizers import L1, L2
from nndl.engine.rules import GradientDescent


@pytest.mark.parametrize("eta", [0.0, -1.0, math.nan])
def test_gradient_descent_refuses_a_learning_rate_that_is_not_positive(eta):
    with pytest.raises(nndl.ConfigError, match=r"^eta must be a finite number > 0, got"):
        GradientDescent(eta, 1.0, 10)
    rule = GradientDescent(0.5, 1.0, 10)
    with pytest.raises(nndl.ConfigError, match=r"^eta must be a finite number > 0, got"):
        rule.set_eta(eta)


@pytest.mark.parametrize(
    "eta, lmbda, n, blamed, fix",
    [
        (1.0, 10.0, 10, "eta", "use a smaller eta (below 1 with lmbda 10)"),  # both 2x the book's: eta
        (1.0, 11.0, 10, "lmbda", "use a smaller lmbda (below 10 with eta 1; the book uses 5.0)"),
        (3.0, 12.0, 30, "eta", "use a smaller eta (below 2.5 with lmbda 12)"),  # 6x against 2.4x
        (0.6, 200.0, 100, "lmbda", "use a smaller lmbda (below 166.7 with eta 0.6; the book uses 5.0)"),
    ],
)
def test_a_decay_factor_at_or_below_zero_names_the_culprit_and_the_limit(eta, lmbda, n, blamed, fix):
    rule = GradientDescent(eta, lmbda, n)
    with pytest.raises(nndl.ConfigError) as e:
        rule.check_decay()
    message = str(e.value)
    assert e.value.field == blamed  # the config field a command line or a form points at
    assert message.startswith(
        f"{blamed} is too large: the L2 weight-decay factor 1 - eta*lmbda/n is {1 - eta * lmbda / n:.4g} <= 0"
    ), message
    assert f"eta * lmbda must stay below n = {n:,} (here {eta:g} x {lmbda:g})" in message
    assert message.endswith(fix), message


def test_without_n_the_rule_decays_as_for_one_training_example():
    """n defaults to 1: the weights shrink by 1 - eta*lmbda per step, the biases not at all."""
    rule = GradientDescent(0.1, 0.5)
    assert rule.n == 1 and rule.decay == 1.0 - 0.1 * 0.5
    w = Param("w", np.array([[2.0, -4.0]]), np.array([[0.5, 0.25]]), True)  # (1, 2)
    b = Param("b", np.array([1.0]), np.array([0.5]), False)  # (1,)
    rule.apply([w, b])
    np.testing.assert_array_equal(w.value, [[2.0 * 0.95 + 0.5, -4.0 * 0.95 + 0.25]])
    np.testing.assert_array_equal(b.value, [1.5])


def test_a_positive_decay_factor_and_l1_are_not_refused():
    GradientDescent(1.0, 9.0, 10).check_decay()  # factor 0.1
    GradientDescent(10.0, 10.0, 10, regularization="l1").check_decay()  # L1 has no factor


def test_a_workspace_of_an_older_learning_rate_is_refused():
    net = nndl.Network([4, 3, 2], rng=0)
    rule = GradientDescent(0.5, 1.0, 20)
    ws = rule.workspace(net, 5)
    rule.set_eta(0.25)
    with pytest.raises(nndl.ConfigError, match="^the workspace was made for another learning rate; ask for a new one$"):
        rule.step(net, ws, 5)


@pytest.mark.parametrize("regularization, momentum", [("l2", 0.0), ("l1", 0.0), ("l2", 0.5)])
def test_a_mini_batch_larger_than_the_data_set_takes_the_data_sets_rows(regularization, momentum):
    net = nndl.Network([30, 5, 3], rng=1)
    ws = GradientDescent(0.5, 1.0, 200, regularization=regularization, momentum=momentum).workspace(net, 60_000)
    assert ws.rows == 200 and ws.X.shape == (200, 30) and ws.T.shape == (200, 3)
    assert ws.X.dtype == ws.T.dtype == np.float64
    ws32 = GradientDescent(0.5, 1.0, 200, regularization=regularization, momentum=momentum).workspace(
        nndl.Network([30, 5, 3], dtype="float32", rng=1), 10
    )
    assert ws32.X.dtype == ws32.T.dtype == np.float32  # a float32 run computes in float32


# --- L1 at zero, L1's cost ------------------------------------------------------------------


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_an_l1_weight_at_exactly_zero_with_no_gradient_stays_zero(momentum):
    """Inputs 2 and 5 are always 0, so their weights get no gradient; set to 0, sgn(0) = 0 keeps
    them there, while L1 moves every other weight."""
    rng = np.random.default_rng(2)
    X = rng.uniform(0.1, 1.0, (40, 6))
    X[:, [2, 5]] = 0.0
    y = rng.integers(0, 3, 40)
    net = nndl.Network([6, 4, 3], rng=3)
    w = net.weights[0]
    w[:, [2, 5]] = 0.0
    net.weights = [w, net.weights[1]]
    start = net.weights[0].copy()
    config = nndl.TrainConfig(
        sizes=(6, 4, 3), epochs=2, mini_batch_size=5, eta=0.3, lmbda=2.0, regularization="l1", momentum=momentum
    )
    nndl.train(config, (X, y), net=net)
    assert np.all(net.weights[0][:, [2, 5]] == 0.0)
    assert np.all(net.weights[0][:, [0, 1, 3, 4]] != start[:, [0, 1, 3, 4]])


def test_the_l1_cost_term_is_lmbda_over_n_times_the_sum_of_absolute_weights():
    X, y = data(n=60, seed=4)
    net = nndl.Network((8, 6, 5, 4), rng=5)
    base = net.evaluate((X, y), 0.0)[0]
    l1 = 3.0 / 60 * sum(float(np.abs(w).sum()) for w in net.weights)
    assert net.evaluate((X, y), 3.0, regularizer=L1)[0] == pytest.approx(base + l1, rel=1e-12)
    assert L1.cost(net.weights, 3.0, 60) == pytest.approx(l1, rel=1e-12)
    assert L2.cost(net.weights, 3.0, 60) == pytest.approx(1.5 / 60 * sum(float((w * w).sum()) for w in net.weights))


def test_an_l1_runs_reported_costs_carry_the_l1_term():
    X, y = data(n=130, seed=6)
    Xv, yv = data(n=40, seed=7)
    config = nndl.TrainConfig(
        sizes=(8, 6, 5, 4), epochs=2, mini_batch_size=25, eta=0.5, lmbda=4.0, regularization="l1", seed=8
    )
    net, h = nndl.train(config, (X, y), (Xv, yv), monitor_training_cost=True, monitor_evaluation_cost=True)

    def term(n):
        return 4.0 / n * sum(float(np.abs(w).sum()) for w in net.weights)

    assert h.training_cost[-1] == pytest.approx(net.evaluate((X, y), 0.0)[0] + term(130), rel=1e-12)
    assert h.evaluation_cost[-1] == pytest.approx(net.evaluate((Xv, yv), 0.0)[0] + term(40), rel=1e-12)


# --- what an interrupted run keeps ------------------------------------------------------------


@pytest.mark.parametrize(
    "change, velocity", [({}, False), (dict(regularization="l1"), False), (dict(momentum=0.5), True)]
)
def test_a_run_without_momentum_keeps_no_velocity(change, velocity):
    X, y = data(seed=9)
    config = nndl.TrainConfig(sizes=(8, 6, 5, 4), epochs=2, mini_batch_size=25, eta=0.2, lmbda=1.0, seed=10).replace(
        **change
    )
    calls = []
    net, h = nndl.train(config, (X, y), should_stop=lambda: calls.append(1) or len(calls) == 1)
    state = json.loads(json.dumps(h.to_dict()))["state"]
    assert state["position"] == 100
    assert (state["velocity"] is not None) == velocity


# --- dropout with large mini-batches ----------------------------------------------------------


@pytest.mark.parametrize("change", [dict(dropout=0.3), dict(dropout=0.3, momentum=0.5, eta=0.2)])
def test_dropout_with_mini_batches_of_more_than_50_rows_equals_the_reference(change):
    """A window is max(1, 100 // m) mini-batches: one mini-batch of 60 rows, so the masks are
    drawn 60 rows at a time (the reference draws them as the engine documents)."""
    config = nndl.TrainConfig(sizes=(8, 6, 5, 4), epochs=2, mini_batch_size=60, eta=0.8, lmbda=3.0, seed=11).replace(
        **change
    )
    X, y = data(seed=12)
    net, _ = nndl.train(config, (X, y))
    assert_like_reference(net, reference_run(config, X, y))


# --- the costs at saturation, and their names -------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("a, y", [(0.0, 1.0), (1.0, 0.0)])
def test_a_saturated_wrong_answer_costs_minus_ln_of_the_dtypes_smallest_normal(dtype, a, y):
    with np.errstate(all="raise"):
        value = CrossEntropyCost.fn(np.array([[a]], dtype), np.array([[y]], dtype))
        ll = LogLikelihoodCost.fn(np.array([[a, 1 - a]], dtype), np.array([[y, 1 - y]], dtype))
    tiny = float(np.finfo(dtype).tiny)  # 1.2e-38 or 2.2e-308
    assert value == pytest.approx(-math.log(tiny), rel=1e-6)  # 87.3 or 708.4
    assert ll == pytest.approx(-math.log(tiny), rel=1e-6)


def test_the_costs_take_integer_outputs():
    assert CrossEntropyCost.fn(np.array([[0, 1]]), np.array([[1, 0]])) == pytest.approx(2 * 708.396, rel=1e-5)
    assert CrossEntropyCost.fn(np.array([[1, 0]]), np.array([[1, 0]])) == 0.0


@pytest.mark.parametrize("bad", [dict, int, object, "CrossEntropy", None])
def test_get_cost_refuses_what_is_not_a_registered_cost(bad):
    with pytest.raises(nndl.ConfigError, match="valid costs are"):
        get_cost(bad)


def test_get_cost_takes_a_class_an_instance_a_name_or_a_class_name():
    for given in (CrossEntropyCost, CrossEntropyCost(), "cross-entropy", "CrossEntropyCost"):
        assert get_cost(given) is CrossEntropyCost


def test_a_float32_run_one_mini_batch_at_a_time_computes_in_float32():
    """The fast option is float32 throughout: an L1 run equals float32 steps taken by hand with
    the network's own backward pass and the rule's update, bit for bit."""
    X, y = data(n=40, seed=13)
    X = X.astype(np.float32)
    config = nndl.TrainConfig(
        sizes=(8, 6, 5, 4),
        epochs=1,
        mini_batch_size=10,
        eta=0.5,
        lmbda=2.0,
        regularization="l1",
        dtype="float32",
        seed=14,
    )
    net, _ = nndl.train(config, (X, y))
    streams = nndl.training_streams(14)
    twin = nndl.Network(config.sizes, init=config.init, dtype="float32", rng=streams.init)
    rule = GradientDescent(0.5, 2.0, 40, regularization="l1")
    order = streams.order.permutation(40)
    T = np.eye(4, dtype=np.float32)[y]
    for lo in range(0, 40, 10):
        twin.gradients(X[order[lo : lo + 10]], T[order[lo : lo + 10]], rule.gradient_scale(10))
        rule.apply(twin.params)
    for a, b in zip(net.weights + net.biases, twin.weights + twin.biases):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)


def test_gradient_descent_refuses_an_unknown_regularization_listing_the_valid_ones():
    with pytest.raises(nndl.ConfigError, match=r"^unknown regularization 'l3'; valid regularizations are: 'l2', 'l1'$"):
        GradientDescent(0.5, 1.0, 10, regularization="l3")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lmbda=-1.0), r"^lmbda must be a finite number >= 0, got -1.0$"),
        (dict(momentum=1.0), r"^momentum must be a finite number >= 0 and < 1, got 1.0$"),
        (dict(momentum=-0.1), r"^momentum must be a finite number >= 0 and < 1, got -0.1$"),
        (dict(n=0), r"^n must be an integer >= 1, got 0$"),
    ],
)
def test_gradient_descent_checks_its_other_arguments_naming_each(kwargs, match):
    with pytest.raises(nndl.ConfigError, match=match):
        GradientDescent(0.5, **{"lmbda": 1.0, "n": 10, **kwargs})


def test_plain_gradient_descent_by_default():
    rule = GradientDescent(0.5)
    assert (rule.lmbda, rule.momentum, rule.decay, rule.windowed) == (0.0, 0.0, 1.0, True)


@pytest.mark.parametrize(
    "change",
    [
        {},
        dict(lmbda=0.0),
        dict(regularization="l1"),
        dict(regularization="l1", lmbda=0.0),
        dict(momentum=0.5),
        dict(momentum=0.5, lmbda=0.0),
        dict(dropout=0.5),
    ],
)
def test_the_windowed_engine_takes_exactly_the_configs_the_config_calls_fast(change):
    """TrainConfig.fast_path (plain SGD with L2, or with no regularization at all) is what the
    rule hands the windowed engine; the rest goes one mini-batch at a time."""
    from nndl.engine.rules import PlainWorkspace
    from nndl.engine.windowed import WindowWorkspace

    config = nndl.TrainConfig(sizes=(8, 6, 4), lmbda=2.0).replace(**change)
    rule = GradientDescent(
        config.eta, config.lmbda, 100, regularization=config.regularization, momentum=config.momentum
    )
    assert rule.windowed == config.fast_path
    ws = rule.workspace(nndl.Network(config.sizes, rng=0), config.mini_batch_size)
    assert isinstance(ws, WindowWorkspace if config.fast_path else PlainWorkspace)


def test_a_plain_workspace_holds_a_window_of_whole_mini_batches():
    from nndl.engine.rules import PlainWorkspace

    assert PlainWorkspace([4, 3, 2], 10, np.float64).rows == 100
    assert PlainWorkspace([4, 3, 2], 30, np.float64).rows == 90
    assert PlainWorkspace([4, 3, 2], 30, np.float64, n=50).rows == 50
    assert PlainWorkspace([4, 3, 2], 300, np.float64).rows == 300


def test_a_rule_made_with_dropout_drops_neurons_in_its_steps():
    """``GradientDescent(..., dropout=Dropout(...))``: the masks come from the rule's own Dropout."""
    from nndl.engine.dropout import Dropout

    X, y = data(n=50, seed=15)
    T = np.eye(4)[y]
    nets = [nndl.Network((8, 6, 5, 4), rng=16) for _ in range(3)]
    rules = [
        GradientDescent(0.5, 1.0, 50, dropout=Dropout(0.5, np.random.default_rng(17), (8, 6, 5, 4), 50, np.float64)),
        GradientDescent(0.5, 1.0, 50),
        GradientDescent(0.5, 1.0, 50),
    ]
    rules[2].dropout = Dropout(0.5, np.random.default_rng(17), (8, 6, 5, 4), 50, np.float64)
    for net, rule in zip(nets, rules):
        ws = rule.workspace(net, 10)
        ws.X[:50], ws.T[:50] = X, T
        rule.step(net, ws, 50)
    np.testing.assert_array_equal(nets[0].weights[1], nets[2].weights[1])
    assert not np.array_equal(nets[0].weights[1], nets[1].weights[1])
