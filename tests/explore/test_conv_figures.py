"""The chapter 6 figures of nndl.explore draw what they say: the first conv layer's own weights, the
digit's own feature maps through the network, every ladder row beside the book's number."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nndl
from nndl.data import load_npz
from nndl.explore import fig_accuracy_curves, fig_feature_maps, fig_filters, fig_level4_ladder, fig_receptive_field

NPZ = Path(__file__).parents[1] / "data" / "mnist_sample.npz"


@pytest.fixture(scope="module")
def conv_net():
    training, validation, _ = load_npz(NPZ)
    config = nndl.TrainConfig(
        layers="conv:6x5x5,pool:2,dense:20",
        cost="log-likelihood",
        activation="relu",
        init="he",
        eta=0.03,
        epochs=1,
        dtype="float32",
    )
    net, _ = nndl.train(config, training, validation)
    return net, training.images[0]


def _images(fig):
    return [im.get_array() for ax in fig.axes for im in ax.get_images()]


def test_filters_are_the_first_conv_layers_weights(conv_net):
    net, _ = conv_net
    shown = _images(fig_filters(net))
    w = net.layers[0].w.value  # (5, 5, 1, 6)
    assert len(shown) == 6
    for f, image in enumerate(shown):
        np.testing.assert_array_equal(image, w[:, :, 0, f])


def test_feature_maps_are_the_networks_own_outputs(conv_net):
    net, digit = conv_net
    fig = fig_feature_maps(net, digit, n_maps=4)
    shown = _images(fig)
    outs = net.forward_layers(digit.reshape(1, -1))
    assert len(shown) == 1 + 4 + 4  # the digit, 4 maps, 4 pooled
    np.testing.assert_array_equal(shown[0], digit.reshape(28, 28))
    for f in range(4):
        np.testing.assert_allclose(shown[1 + f], outs[1][0, :, :, f])
        np.testing.assert_allclose(shown[5 + f], outs[2][0, :, :, f])
    assert "12 x 12" in fig._suptitle.get_text()


def test_a_dense_network_has_no_filters_to_draw():
    net = nndl.Network([784, 10, 10])
    with pytest.raises(nndl.ConfigError, match="no conv layer"):
        fig_filters(net)


def test_receptive_field_squares_sit_where_the_neurons_are():
    fig = fig_receptive_field(np.zeros(784), kernel=5, at=((3, 4),))
    left, right = fig.axes
    (square,), (neuron,) = left.patches, right.patches
    assert square.get_xy() == (3.5, 2.5) and square.get_width() == square.get_height() == 5
    assert neuron.get_xy() == (3.5, 2.5) and neuron.get_width() == 1
    assert right.get_images()[0].get_array().shape == (24, 24)
    with pytest.raises(nndl.ConfigError, match="side x side"):
        fig_receptive_field(np.zeros(780))


def test_ladder_and_curves_draw_every_row():
    rows = [("a", 80.0, 97.8), ("b", 91.5, 99.23)]
    fig = fig_level4_ladder(rows)
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 2) for p in ax.patches)
    assert widths == [80.0, 91.5, 97.8, 99.23]
    at = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert at["a"] > at["b"]  # the first row at the top
    fig = fig_accuracy_curves({"x": [10, 20, 30], "y": [5, 6]})
    assert [list(line.get_ydata()) for line in fig.axes[0].get_lines()] == [[10, 20, 30], [5, 6]]
