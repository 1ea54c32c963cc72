"""Costs: values worked out by hand, deltas, and behaviour when the sigmoid saturates.

The book's cross-entropy wraps the sum in ``np.nan_to_num``, which turns ln(0) = -inf into
-1.8e308: a "cost" of 1.8e308 for one wrong saturated output, and a nan warning on the way.
Here a saturated output must give a finite number, no warning, and the exact value
wherever the exact value is finite (a = y = 1 gives 0).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import network2
import nndl
from nndl import COSTS, ConfigError, CrossEntropyCost, LogLikelihoodCost, QuadraticCost, get_cost


def no_warnings(f, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (log of 0, 0 * inf) fails the test
        return f(*args)


# --- values by hand ------------------------------------------------------------------------


def test_quadratic_cost_by_hand():
    a = np.array([[0.2], [0.9]])
    y = np.array([[0.0], [1.0]])
    assert QuadraticCost.fn(a, y) == pytest.approx(0.5 * (0.2**2 + 0.1**2), rel=1e-15)  # 0.025
    rows = np.array([[0.2, 0.9], [0.5, 0.5]])  # a batch: the costs of the rows add up
    targets = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert QuadraticCost.fn(rows, targets) == pytest.approx(0.025 + 0.25, rel=1e-15)


def test_cross_entropy_by_hand():
    a = np.array([[0.5], [0.25]])
    y = np.array([[1.0], [0.0]])
    assert CrossEntropyCost.fn(a, y) == pytest.approx(math.log(2) - math.log(0.75), rel=1e-15)
    # a target in between: -(0.3 ln 0.6 + 0.7 ln 0.4)
    assert CrossEntropyCost.fn(np.array([0.6]), np.array([0.3])) == pytest.approx(
        -(0.3 * math.log(0.6) + 0.7 * math.log(0.4)), rel=1e-15
    )


def test_cost_fn_returns_a_python_float():
    for cost in COSTS.values():
        assert type(cost.fn(np.array([[0.5]]), np.array([[1.0]]))) is float


def test_deltas_by_hand():
    z = np.array([[0.0], [math.log(3.0)]])  # sigmoid: 1/2 and 3/4; sigma' = 1/4 and 3/16
    a = nndl.sigmoid(z)
    y = np.array([[1.0], [0.0]])
    np.testing.assert_allclose(CrossEntropyCost.delta(z, a, y), [[-0.5], [0.75]], rtol=1e-15)
    np.testing.assert_allclose(QuadraticCost.delta(z, a, y), [[-0.5 * 0.25], [0.75 * 3 / 16]], rtol=1e-14)


# --- saturation ----------------------------------------------------------------------------

SATURATED = [  # (a, y, exact cost): a sigmoid output rounded to exactly 0.0 or 1.0
    (1.0, 1.0, 0.0),
    (0.0, 0.0, 0.0),
    (0.0, 1.0, math.inf),
    (1.0, 0.0, math.inf),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("a, y, exact", SATURATED)
def test_cross_entropy_at_saturation_is_finite_and_exact_where_defined(a, y, exact, dtype):
    value = no_warnings(CrossEntropyCost.fn, np.array([[a]], dtype), np.array([[y]], dtype))
    assert math.isfinite(value)
    if math.isfinite(exact):
        assert value == exact
    else:
        # infinitely wrong: at least what the nearest unsaturated (normal) output costs, which
        # gives the right answer a probability of tiny (a = 0) or epsneg (a = 1); not 1.8e308
        info = np.finfo(dtype)
        right_answer_probability = float(info.tiny if a == 0.0 else info.epsneg)
        assert value >= -math.log(right_answer_probability) * (1 - 1e-6)
        assert value < 1e4


def test_cross_entropy_of_a_batch_with_saturated_entries():
    a = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 1.0]])
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    assert no_warnings(CrossEntropyCost.fn, a, y) == pytest.approx(math.log(2), rel=1e-15)
    y_soft = np.array([[0.3, 0.0, 1.0], [0.0, 1.0, 1.0]])  # a = 1 but y = 0.3: infinitely wrong
    value = no_warnings(CrossEntropyCost.fn, a, y_soft)
    assert math.isfinite(value) and 100 < value < 1e4


@pytest.mark.parametrize("a, y, exact", SATURATED)
def test_quadratic_cost_at_saturation(a, y, exact):
    assert no_warnings(QuadraticCost.fn, np.array([[a]]), np.array([[y]])) == 0.5 * (a - y) ** 2


def test_deltas_at_saturation():
    z = np.array([[-800.0], [800.0]])  # sigmoid is exactly 0.0 and 1.0
    a = no_warnings(nndl.sigmoid, z)
    assert a.tolist() == [[0.0], [1.0]]
    y = np.array([[1.0], [0.0]])  # both outputs as wrong as can be
    np.testing.assert_array_equal(CrossEntropyCost.delta(z, a, y), [[-1.0], [1.0]])  # still learns
    np.testing.assert_array_equal(QuadraticCost.delta(z, a, y), [[0.0], [0.0]])  # the slowdown


def test_a_saturated_network_has_a_finite_total_cost():
    net = nndl.Network([2, 1], "cross-entropy", rng=0)
    net.weights = [np.array([[1000.0, 0.0]])]
    net.biases = [np.array([[0.0]])]
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])  # outputs exactly 1.0 and 0.0
    assert net.feedforward(X).ravel().tolist() == [1.0, 0.0]
    assert no_warnings(net.total_cost, (X, np.array([[1.0], [0.0]]))) == 0.0  # both right
    wrong = no_warnings(net.total_cost, (X, np.array([[0.0], [1.0]])))  # both wrong
    assert math.isfinite(wrong) and 100 < wrong < 1e4


# --- the registry --------------------------------------------------------------------------


def test_costs_are_registered_by_name_and_by_network2_class_name():
    assert COSTS == {"quadratic": QuadraticCost, "cross-entropy": CrossEntropyCost, "log-likelihood": LogLikelihoodCost}
    assert get_cost("LogLikelihoodCost") is LogLikelihoodCost
    assert get_cost("CrossEntropyCost") is CrossEntropyCost
    assert get_cost("QuadraticCost") is QuadraticCost
    assert get_cost(QuadraticCost) is QuadraticCost
    assert get_cost(QuadraticCost()) is QuadraticCost  # an instance, as some network2 code passes
    assert network2.QuadraticCost is QuadraticCost and network2.CrossEntropyCost is CrossEntropyCost


@pytest.mark.parametrize("name", ["hinge", "", "crossentropy", None, 3, "__class__", "Network"])
def test_unknown_cost_name_lists_the_valid_ones(name):
    with pytest.raises(ConfigError, match=r"unknown cost .*valid costs are: 'quadratic', 'cross-entropy'"):
        get_cost(name)
