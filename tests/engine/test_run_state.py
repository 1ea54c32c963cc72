"""Exact resume, as its own contract, and the architecture a config must share with its network.

A run stopped anywhere (mid-epoch or between epochs), saved to a model file, loaded back and
continued ends where the unbroken run ends, bit for bit: the weights, every history series and
the state it leaves for the next continuation. ``RunState`` carries what must survive
(``state_dict()`` / ``load_state_dict()``), ``fit`` asks nothing else.
"""

from __future__ import annotations

import numpy as np
import pytest

import nndl
from nndl.config import training_streams
from nndl.engine.rules import GradientDescent
from nndl.engine.runstate import RunState
from nndl.engine.schedules import EarlyStopping, make_schedule
from nndl.serialization import load_with_metadata

SERIES = ("evaluation_accuracy", "evaluation_cost", "training_cost", "eta", "saturation")


def data(seed=21):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (230, 16))  # 4 x 4 images
    X[X < 0.4] = 0.0
    return (X, rng.integers(0, 4, 230)), (rng.uniform(0, 1, (40, 16)), rng.integers(0, 4, 40))


MONITOR = dict(monitor_evaluation_cost=True, monitor_training_cost=True, monitor_saturation=True)


@pytest.mark.parametrize(
    "change",
    [
        dict(),
        dict(dtype="float32"),
        dict(momentum=0.5, regularization="l1"),
        dict(momentum=0.5, dtype="float32"),  # the velocity read back in the network's dtype
        dict(dropout=0.3),
        dict(expand="shifts", rotate=10.0),
        dict(expand="shifts", elastic=30.0),
        dict(schedule="halve", schedule_patience=1, early_stopping=2),
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "book",
)
@pytest.mark.parametrize("stop_after", [1, 3, 7])  # windows: mid-epoch, and at an epoch's end
def test_stopped_saved_loaded_and_continued_equals_the_unbroken_run_bit_for_bit(tmp_path, change, stop_after):
    train_data, val = data()
    config = nndl.TrainConfig(sizes=(16, 7, 4), epochs=4, mini_batch_size=10, eta=0.5, lmbda=1.0, seed=5, **change)
    whole, h_whole = nndl.train(config, train_data, val, **MONITOR)
    calls = []
    part, h = nndl.train(
        config, train_data, val, should_stop=lambda: calls.append(1) or len(calls) == stop_after, **MONITOR
    )
    if h.stopped != "interrupted":  # early stopping ended it first
        assert (h.stopped, h.epochs) == (h_whole.stopped, h_whole.epochs)
        return
    n = 230 * (5 if change.get("expand") == "shifts" else 1)
    ends = [min(lo + 100, n) for lo in range(0, n, 100)] * 4  # where each window ends
    assert h.state["position"] == ends[stop_after - 1] % n  # 0: stopped as an epoch ended
    path = nndl.save(part, tmp_path / "stopped.json", config=config, history=h)
    net, saved_config, saved_history = load_with_metadata(path)
    past = nndl.History.from_dict(saved_history)
    left = nndl.TrainConfig.from_dict(saved_config).replace(epochs=config.epochs - past.epochs)
    resumed, h2 = nndl.train(left, train_data, val, net=net, history=past, **MONITOR)
    assert h2.stopped == h_whole.stopped and h2.epochs == h_whole.epochs
    for key in SERIES:
        assert getattr(h2, key) == getattr(h_whole, key), key
    for a, b in zip(resumed.params, whole.params):
        np.testing.assert_array_equal(a.value, b.value)
    assert h2.state == h_whole.state


def test_a_run_state_round_trips_through_its_state_dict():
    """``load_state_dict(state_dict())`` on a fresh run state gives back the same dict, and a
    position that is not the start of a window is refused."""
    net = nndl.Network([6, 5, 3], rng=0)
    rule = GradientDescent(0.5, 1.0, 95, momentum=0.5)
    rule.velocity = [np.full(p.value.shape, 0.25, net.dtype) for p in net.params]

    def state(epoch=2):
        return RunState(net, rule, make_schedule("halve", 0.5, 2), EarlyStopping(3), training_streams(4), 95, 30, epoch)

    first = state()
    first.permutation()
    order = first.permutation()  # the epoch in progress
    first.position = 60
    first.keep_best()
    d = first.state_dict()
    again = state()
    again.load_state_dict(d)
    assert again.state_dict() == d and again.position == 60
    np.testing.assert_array_equal(again.permutation(), order)  # the same epoch's order again
    assert [b.tolist() for b in again.best] == [p.value.tolist() for p in net.params]
    with pytest.raises(nndl.ConfigError, match=r"position 45 is not the start of a window in 95 rows"):
        state().load_state_dict({**d, "position": 45})
    with pytest.raises(nndl.ConfigError, match=r"it is after epoch 2, the history after epoch 3"):
        state(epoch=3).load_state_dict(d)


def test_a_state_saved_before_the_layers_still_continues():
    """Early stopping's best weights as files of the dense-only engine kept them (one (n_in + 1,
    n_out) array per layer, weights transposed and biases last) are read as the same weights."""
    net = nndl.Network([6, 5, 3], rng=0)
    rule = GradientDescent(0.5, 1.0, 95)
    d = RunState(net, rule, make_schedule("halve", 0.5, 2), EarlyStopping(3), training_streams(4), 95, 30).state_dict()
    old = [np.vstack([w.T, b.T]) + 1.0 for w, b in zip(net.weights, net.biases)]  # (n_in + 1, n_out)
    again = RunState(net, rule, make_schedule("halve", 0.5, 2), EarlyStopping(3), training_streams(4), 95, 30)
    again.load_state_dict({**d, "best": [P.tolist() for P in old]})
    expected = [a for w, b in zip(net.weights, net.biases) for a in (w + 1.0, b[:, 0] + 1.0)]
    assert len(again.best) == 4
    for got, want in zip(again.best, expected):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(nndl.ConfigError, match=r"best does not match the network"):
        again.load_state_dict({**d, "best": [P.tolist() for P in old[:1]] + [[1.0]]})


@pytest.mark.parametrize(
    "field, net_kwargs, match",
    [
        ("sizes", dict(sizes=[6, 4, 3]), r"^sizes: the config says \[6, 5, 3\], but the network given has \[6, 4, 3\]"),
        (
            "cost",
            dict(cost="quadratic"),
            r"^cost: the config says 'cross-entropy', but the network given has 'quadratic'",
        ),
        (
            "activation",
            dict(activation="tanh"),
            r"^activation: the config says 'sigmoid', but the network given has 'tanh'",
        ),
        ("dtype", dict(dtype="float32"), r"^dtype: the config says 'float64', but the network given has 'float32'"),
    ],
)
def test_fit_refuses_a_config_of_another_architecture_naming_the_field(field, net_kwargs, match):
    (X, y), _ = data()
    X = X[:, :6]
    kwargs = {"sizes": [6, 5, 3], **net_kwargs}
    net = nndl.Network(kwargs.pop("sizes"), kwargs.pop("cost", "cross-entropy"), rng=0, **kwargs)
    before = [p.value.copy() for p in net.params]
    config = nndl.TrainConfig(sizes=(6, 5, 3), epochs=1)
    with pytest.raises(nndl.ConfigError, match=match) as caught:
        nndl.fit(net, config, (X, y % 3))
    assert caught.value.field == field
    assert caught.value.detail == str(caught.value).removeprefix(f"{field}: ")  # what a form shows by the field
    assert all(np.array_equal(a, p.value) for a, p in zip(before, net.params))  # no step was taken


def test_fit_refuses_a_network_of_other_layers_than_the_config_describes():
    """Same sizes, cost, hidden activation (the first hidden layer's) and dtype, other layers."""
    (X, y), _ = data()
    net = nndl.Network.stack(
        (16,),
        [
            {"kind": "dense", "n": 7, "activation": "sigmoid"},
            {"kind": "dense", "n": 5, "activation": "tanh"},
            {"kind": "dense", "n": 4},
        ],
        rng=0,
    )
    config = nndl.TrainConfig(sizes=(16, 7, 5, 4), epochs=1)
    with pytest.raises(nndl.ConfigError, match=r"^layers: the config says .* but the network given has") as caught:
        nndl.fit(net, config, (X, y))
    assert caught.value.field == "layers"


def _state(stopper=None, epoch=2, momentum=0.5):
    net = nndl.Network([6, 5, 3], rng=0)
    rule = GradientDescent(0.5, 1.0, 95, momentum=momentum)
    return RunState(net, rule, make_schedule("halve", 0.5, 2), stopper, training_streams(4), 95, 30, epoch)


def test_a_state_without_early_stopping_ignores_a_saved_stopper_and_keeps_no_best():
    saved = _state(EarlyStopping(3))
    saved.keep_best()
    d = {**saved.state_dict(), "best": None}
    again = _state(None)
    again.load_state_dict(d)
    assert again.best is None and again.state_dict()["stopper"] is None


def test_a_saved_velocity_is_read_back_per_parameter_also_with_bias_columns():
    """Momentum's velocity: [weights' list, biases' list]; files of earlier versions kept each
    bias as a column (n, 1), which is read as the bias vector (n,)."""
    first = _state()
    d = first.state_dict()
    weights = [np.full((5, 6), 0.5).tolist(), np.full((3, 5), -0.25).tolist()]
    columns = [np.full((5, 1), 1.5).tolist(), np.full((3, 1), 2.5).tolist()]
    again = _state()
    again.load_state_dict({**d, "velocity": [weights, columns]})
    got = [v.tolist() for v in again.rule.velocity]
    assert got == [weights[0], [1.5] * 5, weights[1], [2.5] * 3]
    for bad in ([weights], "velocity", [weights, columns[:1]], [weights, [[float("nan")] * 5, [2.5] * 3]]):
        with pytest.raises(nndl.ConfigError, match=r"^the saved training state is not valid: velocity does not match"):
            _state().load_state_dict({**d, "velocity": bad})


def test_a_damaged_state_is_refused_in_one_bounded_line():
    d = _state().state_dict()
    with pytest.raises(nndl.ConfigError) as e:
        _state().load_state_dict({k: v for k, v in d.items() if k != "order"})
    assert str(e.value) == (
        "the saved training state is not valid (KeyError: 'order'); it belongs to another run or the file was changed"
    )
    with pytest.raises(nndl.ConfigError) as e:
        _state().load_state_dict({**d, "position": 10**100})
    said = f"position {10**100} is not the start of a window in 95 rows"[:80]
    assert str(e.value) == (
        f"the saved training state is not valid (ValueError: {said}); it belongs to another run or the file was changed"
    )


def test_a_saved_best_epoch_or_velocity_of_text_is_refused_as_not_matching_the_network():
    """Values that are not numbers (a changed file) are the one clear refusal, never a TypeError."""
    saved = _state(EarlyStopping(3))
    saved.keep_best()
    d = saved.state_dict()
    for key, bad in (("best", [["x"] * 5] * 2), ("velocity", [[["x"]] * 2, [["y"]] * 2])):
        with pytest.raises(nndl.ConfigError, match=rf"^the saved training state is not valid: {key} does not match"):
            _state(EarlyStopping(3)).load_state_dict({**d, key: bad})


def test_a_history_without_its_state_continues_the_mini_batch_order_as_if_its_epochs_ran_here():
    """A history saved without its state (network2's files) knows only how many epochs ran: the
    order stream skips that many epochs' orders, so the continued run ends where one unbroken
    run of the same config ends; bad training data is refused by its name on that path too."""
    train_data, val = data()
    config = nndl.TrainConfig(sizes=(16, 7, 4), epochs=2, mini_batch_size=10, eta=0.5, lmbda=1.0, seed=5)
    whole, _ = nndl.train(config, train_data)
    first, h = nndl.train(config.replace(epochs=1), train_data)
    h.state = None
    X, y = train_data
    with pytest.raises(nndl.ConfigError, match=r"^training_data") as e:
        nndl.train(config.replace(epochs=1), (X[:, :5], y), net=first, history=h)
    assert "16" in str(e.value)
    again, h = nndl.train(config.replace(epochs=1), train_data, net=first, history=h)
    assert h.epochs == 2
    for a, b in zip(whole.params, again.params):
        np.testing.assert_array_equal(a.value, b.value)


def test_a_described_stack_is_built_with_the_configs_initial_weights_and_trains_with_its_own_config():
    """``network_for`` draws a conv or dense stack's weights with the config's initializer; fit
    takes a stack's config whose sizes list a hidden size the layers replace."""
    config = nndl.TrainConfig(sizes=(16, 7, 4), layers="dense:9", init="large", epochs=1, mini_batch_size=10)
    net = nndl.engine.training.network_for(config, 3)
    want = nndl.Network.stack((16,), config.layer_specs(), config.cost, init="large", rng=3)
    assert [p.value.shape for p in net.params] == [p.value.shape for p in want.params]
    for a, b in zip(net.params, want.params):
        np.testing.assert_array_equal(a.value, b.value)
    nndl.fit(net, config, data()[0])
