"""The dense layer (network2's layer in the stack) and the layer registry: what they refuse and
say, their defaults, and a forward pass for inference that leaves a training step's state alone."""

from __future__ import annotations

import numpy as np
import pytest

from nndl.engine.initializers import get_initializer
from nndl.engine.layers import Dense, build_layer
from nndl.errors import ConfigError


def refused(call) -> str:
    with pytest.raises(ConfigError) as e:
        call()
    return str(e.value)


def test_a_dense_layer_flattens_an_image_and_is_sigmoid_by_default():
    layer = Dense((4, 3, 2), 5)
    assert (layer.in_shape, layer.out_shape, layer.W.shape) == ((4, 3, 2), (5,), (24, 5))
    assert layer.activation.name == "sigmoid"
    assert build_layer({"kind": "dense", "n": 5}, (24,), np.float64).activation.name == "sigmoid"
    assert build_layer({"kind": "dense", "n": 5, "activation": "softmax"}, [24], np.float32).activation.name == (
        "softmax"
    )


@pytest.mark.parametrize("n", [0, -3, True, "5", 2.0, None])
def test_a_dense_spec_needs_a_positive_integer_n(n):
    message = refused(lambda: build_layer({"kind": "dense", "n": n}, (6,), np.float64))
    assert message == f"a dense layer's n must be a positive integer, got {n!r}"


def test_a_long_n_in_a_model_file_is_echoed_cut_to_40_characters():
    """A hostile model file's n echoes as a short line: the value is cut at 40 characters."""
    from nndl.errors import quote

    message = refused(lambda: build_layer({"kind": "dense", "n": "9" * 500}, (6,), np.float64))
    assert message == f"a dense layer's n must be a positive integer, got {quote('9' * 500, 40)}"
    assert message != f"a dense layer's n must be a positive integer, got {quote('9' * 500, 41)}"
    assert len(message) < 120


def test_unknown_kinds_activations_and_specs_are_refused_naming_what_is_valid():
    assert refused(lambda: build_layer({"kind": "lstm"}, (6,), np.float64)) == (
        "unknown layer kind 'lstm'; valid layer kinds are: 'dense', 'conv', 'pool'"
    )
    assert refused(lambda: build_layer("dense", (6,), np.float64)) == (
        "a layer spec must be an object with a 'kind', got str"
    )
    assert refused(lambda: Dense((6,), 2, "softplus")).startswith(
        "unknown activation 'softplus'; valid activations are: 'sigmoid', "
    )


def test_inference_between_a_training_forward_and_its_backward_changes_nothing():
    """A monitor may evaluate the network (``forward(x)``) between a training step's forward
    and backward passes: the gradients are still those of the training batch."""
    rng = np.random.default_rng(3)
    layers = [Dense((6,), 4, "tanh"), Dense((6,), 4, "tanh")]
    for layer in layers:
        layer.init_biases(np.random.default_rng(0))
        layer.init_weights(np.random.default_rng(1), get_initializer("default"))
    X, other, dy = rng.standard_normal((5, 6)), rng.standard_normal((7, 6)), rng.standard_normal((5, 4))
    plain, interrupted = layers
    plain.forward(X, train=True)
    dx = plain.backward(dy)
    interrupted.forward(X, train=True)
    interrupted.forward(other)
    np.testing.assert_array_equal(interrupted.backward(dy), dx)
    np.testing.assert_array_equal(interrupted.G, plain.G)
