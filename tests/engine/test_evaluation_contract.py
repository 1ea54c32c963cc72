"""Evaluation holds over data of any size, once per epoch, and training runs BLAS on one thread.

Promises held here (README "The book's code, as written", "Speed"; ``nndl.Network.evaluate``):

* ``evaluate``, ``accuracy``, ``total_cost`` and ``predict`` give the same numbers on data that
  spans several of their 10,000-row chunks as a single pass over the rows would: MNIST's
  50,000 training images are five chunks, and no other test uses more than 10,000 rows;
* the training loop's per-epoch training and evaluation figures are those numbers too;
* evaluation data is evaluated once per epoch (network2 computes its accuracy twice);
* the training loop runs BLAS on one thread unless ``OPENBLAS_NUM_THREADS``,
  ``MKL_NUM_THREADS`` or ``OMP_NUM_THREADS`` is set, and restores the caller's setting after.

The data are small rows (a [5, 4, 3] network), so 25,000 of them cost milliseconds.
"""

from __future__ import annotations

import numpy as np
import pytest

import network2
import nndl

SIZES = [5, 4, 3]
N_BIG = 25_123  # two whole 10,000-row chunks and a partial third


def big_data(n=N_BIG, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, SIZES[0])), rng.integers(0, SIZES[-1], n)


def one_pass(net, X, y, lmbda):
    """(total cost, correct) from one forward pass over all rows, with the book's formulas."""
    out = net.feedforward(X)  # (n, n_out)
    T = np.eye(SIZES[-1])[y]  # (n, n_out)
    cost = net.cost.fn(out, T) / len(X) + 0.5 * (lmbda / len(X)) * sum(float((w * w).sum()) for w in net.weights)
    return cost, int(np.count_nonzero(out.argmax(axis=1) == y))


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy", "log-likelihood"])
def test_cost_and_accuracy_over_several_chunks_equal_one_pass(cost):
    X, y = big_data()
    net = nndl.Network(SIZES, cost, rng=1)
    want_cost, want_correct = one_pass(net, X, y, 3.0)
    got_cost, got_correct = net.evaluate((X, y), 3.0)
    assert got_correct == want_correct
    assert got_cost == pytest.approx(want_cost, rel=1e-12)
    assert net.accuracy((X, y)) == want_correct
    assert net.total_cost((X, y), 3.0) == pytest.approx(want_cost, rel=1e-12)
    # each chunk counts: the rows past the first chunk alone give the rest of the count
    assert net.accuracy((X[10_000:], y[10_000:])) == want_correct - net.accuracy((X[:10_000], y[:10_000]))


def test_predict_over_several_chunks_equals_one_pass():
    X, _ = big_data()
    net = nndl.Network(SIZES, rng=2)
    predicted = net.predict(X)
    assert predicted.shape == (N_BIG,)
    np.testing.assert_array_equal(predicted, net.feedforward(X).argmax(axis=1))
    assert net.predict(X[:0]).shape == (0,)


def test_network2_accuracy_and_total_cost_over_several_chunks():
    X, y = big_data(n=21_000, seed=3)
    net = network2.Network(SIZES, seed=4)
    want_cost, want_correct = one_pass(net, X, y, 5.0)
    pairs = [(x.reshape(-1, 1), int(t)) for x, t in zip(X, y)]
    assert net.accuracy(pairs) == want_correct
    assert net.total_cost(pairs, 5.0) == pytest.approx(want_cost, rel=1e-12)


def test_the_training_loop_reports_whole_set_figures_over_several_chunks():
    """Training accuracy and cost after each epoch cover every one of the 25,123 rows (as
    MNIST's 50,000), and so do the evaluation figures."""
    X, y = big_data()
    Xv, yv = big_data(n=20_500, seed=5)
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=2, mini_batch_size=50, eta=0.1, lmbda=1.0, seed=6)
    reports = []

    def on_epoch(report):
        reports.append((report, one_pass(net_ref[0], X, y, 1.0), one_pass(net_ref[0], Xv, yv, 1.0)))

    net_ref = [nndl.Network(SIZES, rng=nndl.training_streams(6).init)]
    net, h = nndl.train(
        config,
        (X, y),
        (Xv, yv),
        net=net_ref[0],
        monitor_training_accuracy=True,
        monitor_training_cost=True,
        monitor_evaluation_cost=True,
        on_epoch=on_epoch,
    )
    assert len(reports) == 2
    for report, (tc, ta), (ec, ea) in reports:
        assert report.training_accuracy == ta and report.evaluation_accuracy == ea
        assert report.training_cost == pytest.approx(tc, rel=1e-12)
        assert report.evaluation_cost == pytest.approx(ec, rel=1e-12)
    assert h.training_accuracy == [r.training_accuracy for r, _, _ in reports]
    assert h.n_training == N_BIG and h.n_evaluation == 20_500


# --- one evaluation per epoch ---------------------------------------------------------------


def count_passes_over(net, rows):
    """Wrap ``net.forward`` to count the forward passes over batches of ``rows`` rows."""
    calls = []
    forward = net.forward

    def counting(X):
        if len(X) == rows:
            calls.append(1)
        return forward(X)

    net.forward = counting
    return calls


@pytest.mark.parametrize("cost, accuracy", [(True, True), (False, True), (True, False)])
def test_evaluation_data_is_evaluated_once_per_epoch(cost, accuracy):
    X, y = big_data(n=130, seed=7)
    Xv, yv = big_data(n=37, seed=8)  # a size nothing else has
    net = nndl.Network(SIZES, rng=9)
    calls = count_passes_over(net, 37)
    h = nndl.sgd(
        net,
        (X, y),
        3,
        10,
        0.5,
        1.0,
        (Xv, yv),
        monitor_evaluation_cost=cost,
        monitor_evaluation_accuracy=accuracy,
        rng=10,
    )
    assert len(calls) == 3
    assert len(h.evaluation_cost) == (3 if cost else 0) and len(h.evaluation_accuracy) == (3 if accuracy else 0)


def test_network2_evaluates_once_per_epoch_with_every_monitor_flag(capsys):
    X, y = big_data(n=130, seed=11)
    Xv, yv = big_data(n=37, seed=12)
    net = network2.Network(SIZES, seed=13)
    evaluation = [(x.reshape(-1, 1), int(t)) for x, t in zip(Xv, yv)]
    calls = count_passes_over(net, 37)
    result = net.SGD(
        [(x.reshape(-1, 1), int(t)) for x, t in zip(X, y)],
        2,
        10,
        0.5,
        1.0,
        evaluation,
        monitor_evaluation_cost=True,
        monitor_evaluation_accuracy=True,
        monitor_training_cost=True,
        monitor_training_accuracy=True,
        seed=14,
    )
    assert len(calls) == 2
    assert [len(r) for r in result] == [2, 2, 2, 2]
    assert capsys.readouterr().out.count("Accuracy on evaluation data") == 2


def test_training_data_is_evaluated_once_per_epoch_for_both_training_monitors():
    X, y = big_data(n=1131, seed=15)  # the divergence probe takes 1,000
    net = nndl.Network(SIZES, rng=16)
    calls = count_passes_over(net, 1131)
    nndl.sgd(net, (X, y), 2, 10, 0.5, 1.0, monitor_training_cost=True, monitor_training_accuracy=True, rng=17)
    assert len(calls) == 2


# --- BLAS threads inside the training loop --------------------------------------------------

from blas_helpers import USER_VARS, blas_threads_now, two_blas_threads  # noqa: E402,F401


def threads_seen_while_training(**kwargs):
    seen = []
    X, y = big_data(n=60, seed=18)
    nndl.sgd(
        nndl.Network(SIZES, rng=19),
        (X, y),
        2,
        10,
        0.5,
        0.0,
        on_epoch=lambda r: seen.append(blas_threads_now()),
        on_batch=lambda d, t: seen.append(blas_threads_now()),
        **kwargs,
    )
    return seen


def test_the_training_loop_runs_blas_on_one_thread_and_restores_the_callers(two_blas_threads):
    seen = threads_seen_while_training()
    assert seen and all(s == {1} for s in seen), seen
    assert blas_threads_now() == {2}  # restored after training


@pytest.mark.parametrize("var", USER_VARS)
def test_a_thread_count_the_user_set_is_left_alone(two_blas_threads, monkeypatch, var):
    monkeypatch.setenv(var, "2")
    seen = threads_seen_while_training()
    assert seen and all(s == {2} for s in seen), seen


def test_an_empty_variable_does_not_count_as_set(two_blas_threads, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "")
    seen = threads_seen_while_training()
    assert seen and all(s == {1} for s in seen), seen


def test_a_forward_pass_takes_10000_rows_at_a_time_or_as_many_as_256_mib_of_activations_hold():
    """chunk_rows: 10,000 rows, fewer when 10,000 rows of every layer's activations and z
    (float64) would need more than the budget; at least one."""
    assert nndl.Network([784, 100, 10], rng=0).chunk_rows() == 10_000
    wide = nndl.Network([20_000, 2, 1], rng=0)  # 20,003 neurons: 320,048 bytes a row
    assert wide.chunk_rows() == (256 * 2**20) // (8 * 20_003 * 2) == 838
    assert isinstance(wide.chunk_rows(), int)
    assert wide.chunk_rows(budget_bytes=320_048 * 5 + 1) == 5 and wide.chunk_rows(budget_bytes=1) == 1


@pytest.mark.parametrize("regularization", ["l2", "l1"])
def test_the_training_cost_is_reported_with_and_without_the_regularization_term(regularization):
    """network2's total cost adds the regularizer's term for the set's n; the loop also reports
    the cost without it (what figure 5 and network2's extra line show), for the same weights."""
    from nndl.engine.regularizers import get_regularizer

    rng = np.random.default_rng(3)
    X, y = rng.uniform(0, 1, (60, 8)), rng.integers(0, 3, 60)
    config = nndl.TrainConfig(sizes=(8, 5, 3), epochs=2, eta=0.3, lmbda=2.0, regularization=regularization)
    reports = []
    net, history = nndl.train(config, (X, y), monitor_training_cost=True, on_epoch=reports.append)
    last = reports[-1]
    without, _ = net.evaluate((X, y), 0.0, accuracy=False)
    with_term, _ = net.evaluate((X, y), 2.0, accuracy=False, regularizer=get_regularizer(regularization))
    assert last.training_cost == pytest.approx(with_term, rel=1e-12)
    assert last.training_cost_without_regularization == pytest.approx(without, rel=1e-12)
    assert last.training_cost_without_regularization < last.training_cost
