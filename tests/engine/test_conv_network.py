"""A conv net in the engine's stack: whole SGD steps against the per-example loop reference
(``tests/reference_conv.py``) to 1e-12 relative in float64, and training through ``fit``; how
``Network.stack`` reads its specs (the caller's left alone, the network's hidden activation,
what it refuses, word for word)."""

from __future__ import annotations

import numpy as np
import pytest
from reference_conv import sgd_step

from nndl.config import TrainConfig, training_streams
from nndl.engine.network import Network
from nndl.engine.rules import GradientDescent
from nndl.engine.training import train
from nndl.errors import ConfigError

SPECS = [
    {"kind": "conv", "maps": 3, "kernel": 3, "activation": "sigmoid"},
    {"kind": "pool", "size": 2},
    {"kind": "conv", "maps": 4, "kernel": 2, "activation": "tanh"},
    {"kind": "dense", "n": 5, "activation": "relu"},
    {"kind": "dense", "n": 3},
]


def small_net(dtype="float64", seed=0, specs=SPECS, in_shape=(9, 8, 2)):
    return Network.stack(in_shape, specs, "log-likelihood", dtype=dtype, rng=seed)


def as_reference(net):
    """The network's layers as the reference's dicts (copies; dense weights as (n_out, n_in))."""
    out = []
    for layer in net.layers:
        spec = layer.spec()
        if spec["kind"] == "conv":
            out.append(
                {"kind": "conv", "w": layer.w.value.copy(), "b": layer.b.value.copy(), "act": spec["activation"]}
            )
        elif spec["kind"] == "pool":
            out.append({"kind": "pool", "size": spec["size"]})
        else:
            out.append({"kind": "dense", "w": layer.W.T.copy(), "b": layer.P[-1].copy(), "act": spec["activation"]})
    return out


def rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("m,lmbda", [(4, 0.0), (3, 2.0)])
def test_sgd_steps_of_a_conv_net_match_the_per_example_reference(m, lmbda):
    rng = np.random.default_rng(1)
    net = small_net()
    ref = as_reference(net)
    n, eta, steps = 30, 0.7, 5
    X = rng.standard_normal((steps * m, 9 * 8 * 2))  # rows of (height, width, channels)
    labels = rng.integers(0, 3, steps * m)
    T = np.eye(3)[labels]  # (rows, 3) one-hot
    rule = GradientDescent(eta, lmbda, n)
    ws = rule.workspace(net, m)
    for s in range(steps):
        rows = slice(s * m, (s + 1) * m)
        ws.X[:m], ws.T[:m] = X[rows], T[rows]
        rule.step(net, ws, m)
        sgd_step(ref, X[rows].reshape(m, 9, 8, 2), T[rows], eta, lmbda, n)
    got = as_reference(net)
    for a, b in zip(got, ref):
        if a["kind"] != "pool":
            assert rel(a["w"], b["w"]) < 1e-12 and rel(a["b"], b["b"]) < 1e-12
    assert rel(got[0]["w"], as_reference(small_net())[0]["w"]) > 1e-3  # the steps did change it


# a small conv net that learns the committed sample's digits in a few epochs
SAMPLE_CONV = TrainConfig(
    sizes=(784, 10),
    layers="conv:4x5x5:relu,pool:2,dense:30",
    activation="relu",
    init="he",
    cost="log-likelihood",
    mini_batch_size=10,
    eta=0.1,
    lmbda=0.0,
)


@pytest.mark.parametrize("place", ["hidden", "dense"])
def test_dropout_steps_of_a_conv_net_match_the_reference_with_the_documented_masks(place):
    """Dropout in a conv net, inverted, against the per-example reference given the masks the
    engine documents: per window, each dropping layer of neurons from the bottom, uniforms
    (rows, n_l) from the run's stream, kept where u >= p, times 1/(1 - p). 'hidden' drops the
    output of every layer but the last (conv maps and pools too); 'dense', network3's, only
    the inputs of the fully connected layers (here the second conv's maps and the relu layer)."""
    from nndl.engine.dropout import Dropout, dropping_layers

    rng = np.random.default_rng(4)
    net = small_net()
    ref = as_reference(net)
    kinds = [layer.kind for layer in net.layers]  # conv, pool, conv, dense, dense
    where = dropping_layers(place, kinds)
    assert where == ([True] * 4 if place == "hidden" else [False, False, True, True])
    m, eta, lmbda, n, p, steps = 3, 0.7, 2.0, 30, 0.4, 4
    X = rng.standard_normal((steps * m, 9 * 8 * 2))
    T = np.eye(3)[rng.integers(0, 3, steps * m)]  # (rows, 3) one-hot
    rule = GradientDescent(eta, lmbda, n)
    ws = rule.workspace(net, m)
    rule.dropout = Dropout(p, np.random.default_rng(9), net.sizes, ws.rows, net.dtype, where)
    mask_rng = np.random.default_rng(9)
    for s in range(steps):
        rows = slice(s * m, (s + 1) * m)
        ws.X[:m], ws.T[:m] = X[rows], T[rows]
        rule.step(net, ws, m)
        drawn = {
            j + 1: (mask_rng.random((m, net.sizes[j + 1])) >= p) / (1.0 - p) for j in range(len(where)) if where[j]
        }  # {layer l: (m, n_l) masks of its input}
        per_example = [{l: k[i] for l, k in drawn.items()} for i in range(m)]
        sgd_step(ref, X[rows].reshape(m, 9, 8, 2), T[rows], eta, lmbda, n, per_example)
    got = as_reference(net)
    for a, b in zip(got, ref):
        if a["kind"] != "pool":
            assert rel(a["w"], b["w"]) < 1e-12 and rel(a["b"], b["b"]) < 1e-12
    undropped = small_net()
    plain = GradientDescent(eta, lmbda, n)
    pws = plain.workspace(undropped, m)
    for s in range(steps):
        pws.X[:m], pws.T[:m] = X[s * m : (s + 1) * m], T[s * m : (s + 1) * m]
        plain.step(undropped, pws, m)
    assert rel(got[0]["w"], as_reference(undropped)[0]["w"]) > 1e-6  # the masks did change the steps


def test_dropout_on_a_conv_net_trains_network3s_way_and_repeats_and_a_bad_place_is_refused(mnist_sample_splits):
    """--dropout-on dense through ``train``: its own masks (another run than 'hidden'), the same
    run twice is the same network, and on a network of dense layers alone the two places agree."""
    training, validation = mnist_sample_splits
    config = SAMPLE_CONV.replace(epochs=1, dropout=0.5, dropout_on="dense")
    a, _ = train(config, training, validation)
    b, _ = train(config, training, validation)
    c, _ = train(config.replace(dropout_on="hidden"), training, validation)
    assert all(np.array_equal(x.value, y.value) for x, y in zip(a.params, b.params))
    assert not np.array_equal(a.params[0].value, c.params[0].value)
    assert "dropout 0.5 (fully connected inputs)" in config.techniques()
    dense = TrainConfig(sizes=(784, 20, 10), epochs=1, dropout=0.3)
    d, _ = train(dense, (training[0][:200], training[1][:200]))
    e, _ = train(dense.replace(dropout_on="dense"), (training[0][:200], training[1][:200]))
    assert all(np.array_equal(x.value, y.value) for x, y in zip(d.params, e.params))
    with pytest.raises(ConfigError, match="unknown dropout place 'conv'; valid dropout places are: 'hidden', 'dense'"):
        config.replace(dropout_on="conv")


def test_a_conv_net_described_in_one_line_learns_the_sample_digits_through_train(mnist_sample_splits):
    training, validation = mnist_sample_splits
    config = SAMPLE_CONV.replace(epochs=3, dtype="float32")
    before = Network.stack(
        (28, 28, 1),
        config.layer_specs(),
        "log-likelihood",
        init="he",
        dtype="float32",
        rng=training_streams(0, None).init,
    )
    net, history = train(config, training, validation)
    assert (
        [layer.spec() for layer in net.layers]
        == config.layer_specs()
        == [
            {"kind": "conv", "maps": 4, "kernel": 5, "activation": "relu"},
            {"kind": "pool", "size": 2},
            {"kind": "dense", "n": 30, "activation": "relu"},
            {"kind": "dense", "n": 10, "activation": "softmax"},
        ]
    )
    assert history.evaluation_accuracy[-1] > max(before.accuracy(validation), 0.5 * len(validation[1]))  # from ~10 %


@pytest.fixture(scope="module")
def mnist_sample_splits():
    from pathlib import Path

    d = np.load(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
    X = d["train_images"].reshape(-1, 784).astype(np.float32) / 255.0
    y = d["train_labels"].astype(np.int64)
    return (X[:600], y[:600]), (X[1500:1800], y[1500:1800])


@pytest.mark.parametrize(
    "change",
    [dict(), dict(dropout=0.3), dict(momentum=0.5, regularization="l1"), dict(expand="shifts", dtype="float32")],
    ids=str,
)
@pytest.mark.parametrize("stop_after", [1, 3])  # windows: mid-epoch, and at an epoch's end
def test_a_stopped_conv_run_saved_and_resumed_ends_where_the_unbroken_run_ends(tmp_path, change, stop_after):
    import nndl
    from nndl.serialization import load_with_metadata

    rng = np.random.default_rng(21)
    X = rng.uniform(0, 1, (230, 64))  # 8 x 8 images
    train_data, val = (X, rng.integers(0, 4, 230)), (rng.uniform(0, 1, (40, 64)), rng.integers(0, 4, 40))
    config = TrainConfig(
        sizes=(64, 4),
        layers="conv:3x3x3:tanh,pool:2,dense:6",
        cost="log-likelihood",
        epochs=3,
        mini_batch_size=10,
        eta=0.3,
        lmbda=1.0,
        seed=5,
        **change,
    )
    whole, h_whole = train(config, train_data, val, monitor_evaluation_cost=True)
    calls = []
    part, h = train(
        config,
        train_data,
        val,
        should_stop=lambda: calls.append(1) or len(calls) == stop_after,
        monitor_evaluation_cost=True,
    )
    assert h.stopped == "interrupted"
    path = nndl.save(part, tmp_path / "stopped.json", config=config, history=h)
    net, saved_config, saved_history = load_with_metadata(path)
    past = nndl.History.from_dict(saved_history)
    left = TrainConfig.from_dict(saved_config).replace(epochs=config.epochs - past.epochs)
    resumed, h2 = train(left, train_data, val, net=net, history=past, monitor_evaluation_cost=True)
    assert h2.evaluation_accuracy == h_whole.evaluation_accuracy and h2.evaluation_cost == h_whole.evaluation_cost
    for a, b in zip(resumed.params, whole.params):
        np.testing.assert_array_equal(a.value, b.value)


def refused(call) -> str:
    with pytest.raises(ConfigError) as e:
        call()
    return str(e.value)


def test_stack_leaves_the_callers_specs_as_they_were():
    """The output layer's activation is filled in from the cost on a copy, never in the caller's dict."""
    specs = [{"kind": "dense", "n": 3}, {"kind": "dense", "n": 2}]
    net = Network.stack((4,), specs, "log-likelihood", rng=0)
    assert specs == [{"kind": "dense", "n": 3}, {"kind": "dense", "n": 2}]
    assert net.specs()[-1]["activation"] == "softmax"


@pytest.mark.parametrize(
    ("hidden", "want"),
    [
        ([{"kind": "dense", "n": 3}, {"kind": "dense", "n": 3}], "sigmoid"),
        ([{"kind": "dense", "n": 3}, {"kind": "dense", "n": 3, "activation": "tanh"}], "tanh"),
        ([{"kind": "dense", "n": 3, "activation": "relu"}, {"kind": "dense", "n": 3, "activation": "tanh"}], "relu"),
    ],
)
def test_the_networks_activation_is_the_first_one_a_hidden_layer_names_or_sigmoid(hidden, want):
    """Any hidden layer may name it, the last one too; the output layer's (the cost's) never counts."""
    net = Network.stack((4,), [*hidden, {"kind": "dense", "n": 2}], "cross-entropy", rng=0)
    assert net.activation.name == want


def test_stack_refuses_what_is_no_network_in_one_line():
    dense = {"kind": "dense", "n": 2}
    assert refused(lambda: Network.stack((4,), [])) == "a network needs at least one layer"
    assert refused(lambda: Network.stack((4,), ["dense", dense])) == (
        "a layer spec must be an object with a 'kind', got str"
    )
    assert refused(lambda: Network.stack((4,), [dense, 5])) == "a layer spec must be an object with a 'kind', got int"
    assert refused(lambda: Network.stack((4,), [{"kind": "dense", "n": 3, "activation": "softplus"}, dense])) == (
        "unknown activation 'softplus'; valid activations are: 'sigmoid', 'tanh', 'relu'"
    )


@pytest.mark.parametrize("activation", [["relu"], {"relu": 1}])
def test_stack_refuses_an_activation_that_is_no_name_in_one_line(activation):
    """A list or an object where a neuron's name goes (a library caller's spec, not a model file,
    which is checked before): refused as an unknown activation, not a TypeError from a set."""
    dense = {"kind": "dense", "n": 2}
    assert refused(lambda: Network.stack((4,), [{"kind": "dense", "n": 3, "activation": activation}, dense])) == (
        f"unknown activation {activation!r}; valid activations are: 'sigmoid', 'tanh', 'relu'"
    )


def test_a_conv_net_has_no_weights_in_network2s_layout_and_says_where_they_are():
    net = small_net()
    assert not net.dense
    for read in (lambda: net.weights, lambda: net.biases):
        assert refused(read) == (
            "weights and biases in network2's layout exist for dense networks only; use net.layers and their params"
        )


def test_only_the_first_layer_of_a_stack_skips_the_gradient_below_it():
    """The first layer's dC/dx has no taker, so its backward returns None; every other layer's is
    shaped like its input."""
    net = small_net()
    assert [layer.bottom for layer in net.layers] == [True, False, False, False, False]
    x = np.random.default_rng(3).uniform(0, 1, (2, 9, 8, 2))  # (m, 9, 8, 2)
    ys = [x]
    for layer in net.layers:
        ys.append(layer.forward(ys[-1], train=True))
    dy = np.ones_like(ys[-1])  # (m, 3)
    for i in reversed(range(len(net.layers))):
        dy = net.layers[i].backward(dy)
        if i:
            assert dy.shape == ys[i].shape
    assert dy is None
