"""network3.py, the book's chapter 6 module: its snippets run as written (on the committed sample,
one epoch), it prints the book's lines, and its steps are the book's arithmetic - mean
log-likelihood, L2 as 0.5*lmbda*sum(w^2)/num_training_batches, pooling before the bias - held
to a per-example loop reference at 1e-12 relative in float64."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from reference_conv import conv_z, network3_step

import network3
from network3 import ConvPoolLayer, FullyConnectedLayer, Network, ReLU, SoftmaxLayer, linear, sigmoid, tanh
from nndl.errors import ConfigError

SAMPLE = Path(__file__).parents[1] / "data" / "mnist_sample.npz"
LINES = [
    r"Training mini-batch number \d+",
    r"Epoch \d+: validation accuracy \d+\.\d\d%",
    r"This is the best validation accuracy to date\.",
    r"The corresponding test accuracy is \d+\.\d\d%",
    r"Finished training network\.",
    r"Best validation accuracy of \d+\.\d\d% obtained at iteration \d+",
    r"Corresponding test accuracy of \d+\.\d\d%",
]


@pytest.fixture(scope="module")
def data():
    """The sample as load_data_shared gives it, cut small: 300 training, 100 validation, 100 test images."""
    training, validation, test = network3.load_data_shared(str(SAMPLE))
    cut = lambda d, n: (d[0][:n], d[1][:n])  # noqa: E731
    return cut(training, 300), cut(validation, 100), cut(test, 100)


def check_lines(text):
    lines = text.strip().splitlines()
    assert lines, "nothing printed"
    for line in lines:
        assert any(re.fullmatch(p, line) for p in LINES), f"not one of the book's lines: {line!r}"
    assert lines[0] == "Training mini-batch number 0" and "Finished training network." in lines
    return lines


def test_the_chapter_6_snippets_run_as_written(data, capsys):
    training_data, validation_data, test_data = data
    mini_batch_size = 10
    epochs = 1  # the book: 60 (40 with dropout)
    # "A shallow net with 100 hidden neurons"
    net = Network([FullyConnectedLayer(n_in=784, n_out=100), SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
    net.SGD(training_data, epochs, mini_batch_size, 0.1, validation_data, test_data)
    # one convolutional-pooling layer
    net = Network(
        [
            ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28), filter_shape=(20, 1, 5, 5), poolsize=(2, 2)),
            FullyConnectedLayer(n_in=20 * 12 * 12, n_out=100),
            SoftmaxLayer(n_in=100, n_out=10),
        ],
        mini_batch_size,
    )
    net.SGD(training_data, epochs, mini_batch_size, 0.1, validation_data, test_data)
    # two, with rectified linear units and L2 regularization
    net = Network(
        [
            ConvPoolLayer(
                image_shape=(mini_batch_size, 1, 28, 28),
                filter_shape=(20, 1, 5, 5),
                poolsize=(2, 2),
                activation_fn=ReLU,
            ),
            ConvPoolLayer(
                image_shape=(mini_batch_size, 20, 12, 12),
                filter_shape=(40, 20, 5, 5),
                poolsize=(2, 2),
                activation_fn=ReLU,
            ),
            FullyConnectedLayer(n_in=40 * 4 * 4, n_out=100, activation_fn=ReLU),
            SoftmaxLayer(n_in=100, n_out=10),
        ],
        mini_batch_size,
    )
    net.SGD(training_data, epochs, mini_batch_size, 0.03, validation_data, test_data, lmbda=0.1)
    # expanded data (the sample's, as the book's expand_mnist.py expands MNIST), dropout on two FC layers
    expanded_training_data, _, _ = network3.load_data_shared(str(SAMPLE), expand=True)
    expanded_training_data = (expanded_training_data[0][:500], expanded_training_data[1][:500])
    net = Network(
        [
            ConvPoolLayer(
                image_shape=(mini_batch_size, 1, 28, 28),
                filter_shape=(20, 1, 5, 5),
                poolsize=(2, 2),
                activation_fn=ReLU,
            ),
            ConvPoolLayer(
                image_shape=(mini_batch_size, 20, 12, 12),
                filter_shape=(40, 20, 5, 5),
                poolsize=(2, 2),
                activation_fn=ReLU,
            ),
            FullyConnectedLayer(n_in=40 * 4 * 4, n_out=1000, activation_fn=ReLU, p_dropout=0.5),
            FullyConnectedLayer(n_in=1000, n_out=1000, activation_fn=ReLU, p_dropout=0.5),
            SoftmaxLayer(n_in=1000, n_out=10, p_dropout=0.5),
        ],
        mini_batch_size,
    )
    net.SGD(expanded_training_data, epochs, mini_batch_size, 0.03, validation_data, test_data)
    lines = check_lines(capsys.readouterr().out)
    assert lines.count("Finished training network.") == 4


def test_the_books_two_conv_net_learns_the_sample_in_one_epoch():
    training, validation, test = network3.load_data_shared(str(SAMPLE))
    net = Network(
        [
            ConvPoolLayer(image_shape=(10, 1, 28, 28), filter_shape=(20, 1, 5, 5), poolsize=(2, 2), activation_fn=ReLU),
            ConvPoolLayer(
                image_shape=(10, 20, 12, 12), filter_shape=(40, 20, 5, 5), poolsize=(2, 2), activation_fn=ReLU
            ),
            FullyConnectedLayer(n_in=40 * 4 * 4, n_out=100, activation_fn=ReLU),
            SoftmaxLayer(n_in=100, n_out=10),
        ],
        10,
        seed=0,
    )
    net.SGD(training, 1, 10, 0.03, validation, test, lmbda=0.1, out=io.StringIO())
    assert net.best_validation_accuracy > 0.7 and net.test_accuracy > 0.6  # from 10 % by chance


def test_the_lines_count_iterations_and_epochs_as_the_book_does(data):
    training, validation, test = data
    out = io.StringIO()
    net = Network([FullyConnectedLayer(n_in=784, n_out=30), SoftmaxLayer(n_in=30, n_out=10)], 10, seed=1)
    net.SGD((np.tile(training[0], (25, 1)), np.tile(training[1], 25)), 2, 10, 0.5, validation, test, out=out)
    lines = check_lines(out.getvalue())  # 750 mini-batches an epoch
    assert [x for x in lines if x.startswith("Training")] == [f"Training mini-batch number {i}" for i in (0, 1000)]
    v = net.validation_accuracies
    assert [x for x in lines if x.startswith("Epoch")] == [
        f"Epoch {e}: validation accuracy {a:.2%}" for e, a in enumerate(v)
    ]
    best = 1 if v[1] >= v[0] else 0  # a tie goes to the later epoch
    assert f"Best validation accuracy of {v[best]:.2%} obtained at iteration {750 * (best + 1) - 1}" in lines
    assert lines[-1] == f"Corresponding test accuracy of {net.test_accuracy:.2%}"


def tiny(activation=tanh, p=0.0, seed=3, dtype="float64"):
    """Two conv-pool layers (the second's pool 1), a fully connected layer and softmax, on 10x10 images."""
    m = 4
    return Network(
        [
            ConvPoolLayer(
                filter_shape=(3, 1, 3, 3), image_shape=(m, 1, 10, 10), poolsize=(2, 2), activation_fn=activation
            ),
            ConvPoolLayer(filter_shape=(4, 3, 2, 2), image_shape=(m, 3, 4, 4), poolsize=(1, 1), activation_fn=sigmoid),
            FullyConnectedLayer(n_in=36, n_out=5, activation_fn=activation, p_dropout=p),
            SoftmaxLayer(n_in=5, n_out=3),
        ],
        m,
        seed=seed,
        dtype=dtype,
    )


def reference_of(net):
    out = []
    for book, layer in zip(net.layers, net._stack):
        if isinstance(book, ConvPoolLayer):
            out.append(
                {
                    "kind": "convpool",
                    "w": layer.conv.w.value.copy(),
                    "b": layer.b.value.copy(),
                    "size": book.poolsize[0],
                    "act": network3.NEURONS[book.activation_fn],
                }
            )
        else:
            act = "softmax" if isinstance(book, SoftmaxLayer) else network3.NEURONS[book.activation_fn]
            out.append({"kind": "dense", "w": book.w.T.copy(), "b": book.b.copy(), "act": act})
    return out


@pytest.mark.parametrize("activation,lmbda", [(tanh, 0.0), (tanh, 3.0), (ReLU, 0.5), (linear, 0.0)])
def test_steps_are_the_books_arithmetic(activation, lmbda):
    rng = np.random.default_rng(0)
    net = tiny(activation)
    ref = reference_of(net)
    m, steps, eta = 4, 4, 0.4
    X = rng.random((steps * m + 3, 100))  # 3 rows past the last whole mini-batch
    y = rng.integers(0, 3, len(X))
    val = (X[:8], y[:8])
    net.SGD((X, y), 1, m, eta, val, val, lmbda=lmbda, out=io.StringIO())
    for s in range(steps):
        rows = slice(s * m, (s + 1) * m)
        network3_step(ref, X[rows].reshape(m, 10, 10, 1), y[rows], eta, lmbda, steps)
    for a, b in zip(reference_of(net), ref):
        for key in ("w", "b"):
            assert np.max(np.abs(a[key] - b[key])) <= 1e-12 * np.max(np.abs(b[key]))
    assert np.max(np.abs(reference_of(net)[0]["w"] - reference_of(tiny(activation))[0]["w"])) > 1e-4


def test_a_conv_pool_layers_w_reads_as_theanos_true_convolution():
    net = tiny(linear)
    layer = net.layers[0]
    assert layer.w.shape == (3, 1, 3, 3) and layer.b.shape == (3,)
    layer.w[...] = np.arange(27.0).reshape(3, 1, 3, 3)  # asymmetric filters, in the book's layout
    layer.b[...] = 0.0
    x = np.random.default_rng(1).random((1, 10, 10, 1))
    flipped = layer.w[:, :, ::-1, ::-1].transpose(2, 3, 1, 0)  # true convolution = correlation with the flip
    pooled = conv_z(x[0], flipped, np.zeros(3)).reshape(4, 2, 4, 2, 3).max(axis=(1, 3))
    assert np.allclose(net._stack[0].forward(x), pooled, rtol=1e-13)


def test_initial_weights_are_the_books():
    net = Network(
        [
            ConvPoolLayer(filter_shape=(40, 20, 5, 5), image_shape=(10, 20, 12, 12), poolsize=(2, 2)),
            FullyConnectedLayer(n_in=640, n_out=400),
            SoftmaxLayer(n_in=400, n_out=10),
        ],
        10,
        seed=0,
    )
    conv, fc, soft = net.layers
    assert conv.w.std() == pytest.approx(np.sqrt(1 / (40 * 25 / 4)), rel=0.02)  # n_out = maps * area / pool area
    assert fc.w.shape == (640, 400) and fc.w.std() == pytest.approx(np.sqrt(1 / 400), rel=0.02)
    assert conv.b.std() == pytest.approx(1.0, rel=0.3) and fc.b.std() == pytest.approx(1.0, rel=0.15)
    assert not soft.w.any() and not soft.b.any()
    assert net.layers[0].w.dtype == np.float32  # the book's floatX on a GPU


def test_dropout_drops_inputs_in_training_and_scales_them_at_test():
    net = tiny(tanh, p=0.5)
    fc, soft = net.layers[2], net.layers[3]
    soft.w[...] = np.random.default_rng(2).standard_normal(soft.w.shape)
    X = np.random.default_rng(2).random((3, 100))
    a = net._stack[1].forward(net._stack[0].forward(X.reshape(3, 10, 10, 1))).reshape(3, 36)
    z = np.tanh(0.5 * (a @ fc.w) + fc.b) @ soft.w + soft.b  # the book: (1 - p) * x.w + b
    want = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert np.allclose(net.predict(X), want.argmax(axis=1))
    assert np.allclose(net._forward(X), want, rtol=1e-12)
    X = np.random.default_rng(3).random((40, 100))
    y = np.arange(40) % 3
    a, b = tiny(tanh, p=0.5, seed=5), tiny(tanh, p=0.5, seed=5)
    a.SGD((X, y), 2, 4, 0.3, (X, y), None, out=io.StringIO())
    b.SGD((X, y), 2, 4, 0.3, (X, y), None, out=io.StringIO())
    c = tiny(tanh, p=0.0, seed=5)
    c.SGD((X, y), 2, 4, 0.3, (X, y), None, out=io.StringIO())
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))  # seed= repeats a run
    assert not np.allclose(a.layers[2].w, c.layers[2].w)  # the masks did act


def test_expanded_data_is_each_image_and_its_four_shifts():
    X = np.random.default_rng(4).random((3, 784)).astype(np.float32)
    y = np.array([7, 1, 4])
    Xe, ye = network3.expanded(X, y, seed=0)
    assert Xe.shape == (15, 784) and sorted(ye.tolist()) == sorted([7, 1, 4] * 5)
    img = X[1].reshape(28, 28)
    down = np.zeros_like(img)
    down[1:] = img[:-1]
    rows = {r.tobytes() for r in Xe}
    assert img.tobytes() in rows and down.tobytes() in rows


@pytest.mark.parametrize(
    "make,match",
    [
        (
            lambda: tiny().SGD((np.zeros((8, 100)), np.zeros(8, int)), 1, 5, 0.1, None, None),
            "mini_batch_size \\(5\\) must",
        ),
        (
            lambda: Network([FullyConnectedLayer(n_in=784, n_out=30), SoftmaxLayer(n_in=20, n_out=10)], 10),
            "n_in=20 but the layer below gives 30",
        ),
        (lambda: FullyConnectedLayer(n_in=784, n_out=30, activation_fn=np.exp), "activation_fn must be one of"),
        (lambda: ConvPoolLayer(filter_shape=(20, 1, 5, 5), image_shape=(10, 3, 28, 28)), "takes 1 input maps"),
        (lambda: Network([FullyConnectedLayer(n_in=784, n_out=30)], 10), "ending in a SoftmaxLayer"),
        (lambda: network3.load_data_shared("../data/other.pkl.gz"), "unknown data"),
        (lambda: tiny().SGD((np.zeros((8, 99)), np.zeros(8, int)), 1, 4, 0.1, None, None), "rows of 100 values"),
    ],
)
def test_mistakes_are_one_clear_error(make, match):
    with pytest.raises(ConfigError, match=match):
        make()


def test_float32_follows_float64():
    X = np.random.default_rng(5).random((16, 100))
    y = np.arange(16) % 3
    nets = [tiny(ReLU, dtype=d) for d in ("float64", "float32")]
    for net in nets:
        net.SGD((X, y), 1, 4, 0.2, (X, y), None, lmbda=0.1, out=io.StringIO())
    for p, q in zip(*[n.params for n in nets]):
        assert q.dtype == np.float32 and np.allclose(p, q, rtol=1e-4, atol=1e-5)


def test_load_data_shared_reads_the_books_file_names(monkeypatch):
    from nndl.data import load_npz

    sample = load_npz(SAMPLE)
    asked = []
    monkeypatch.setattr(network3, "load_dataset", lambda name: asked.append(name) or sample)
    plain = network3.load_data_shared()  # "../data/mnist.pkl.gz"
    wide = network3.load_data_shared("../data/mnist_expanded.pkl.gz", seed=1)
    assert asked == ["mnist", "mnist"]
    assert len(plain) == 3 and plain[0][0].shape == (1667, 784) and plain[0][0].dtype == np.float32
    assert wide[0][0].shape == (5 * 1667, 784) and np.array_equal(wide[1][0], plain[1][0])
    assert sorted(np.bincount(wide[0][1])) == sorted(5 * np.bincount(plain[0][1]))
