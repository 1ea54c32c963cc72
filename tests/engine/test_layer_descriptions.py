"""Layer descriptions a learner types (``nndl.engine.describe``): parsed to specs and back,
checked by arithmetic before anything is allocated, hostile ones refused in one line."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nndl.config import TrainConfig
from nndl.engine.describe import EXAMPLE, MAX_PARAMS, check_stack, describe, input_shape, parse_layers
from nndl.errors import ConfigError


def test_the_books_network_in_one_line():
    specs = parse_layers(EXAMPLE)
    assert specs == [
        {"kind": "conv", "maps": 20, "kernel": 5},
        {"kind": "pool", "size": 2},
        {"kind": "conv", "maps": 40, "kernel": 5},
        {"kind": "pool", "size": 2},
        {"kind": "dense", "n": 100, "activation": "relu"},
    ]
    assert describe(specs) == EXAMPLE
    assert parse_layers(" conv:20x5 , pool:2 ") == specs[:2]
    out = specs + [{"kind": "dense", "n": 10}]
    assert check_stack(input_shape(784, specs), out) == (25 + 1) * 20 + (500 + 1) * 40 + (640 + 1) * 100 + 101 * 10


def test_a_config_fills_in_the_activation_and_the_output_layer():
    config = TrainConfig(layers="conv:6x5x5,pool:2,dense:30:tanh", activation="relu", cost="log-likelihood")
    assert config.in_shape() == (28, 28, 1)
    assert config.layer_specs() == [
        {"kind": "conv", "maps": 6, "kernel": 5, "activation": "relu"},
        {"kind": "pool", "size": 2},
        {"kind": "dense", "n": 30, "activation": "tanh"},
        {"kind": "dense", "n": 10, "activation": "softmax"},
    ]
    assert TrainConfig().layer_specs()[0] == {"kind": "dense", "n": 100, "activation": "sigmoid"}


@pytest.mark.parametrize(
    "text,match",
    [
        ("conv:20x5x4", "filters must be square"),
        ("conv:20", "item 1, 'conv:20', is not one of its forms"),
        ("pool:2,dense:100:softplus", "unknown activation 'softplus'"),
        ("conv:20x5x5;pool:2", "is not one of its forms"),
        ("conv:1234567x5", "is not one of its forms"),  # at most 6 digits: bounded int()
        ("dense:" + "9" * 5000, "more than 1,000"),
        (",".join(["pool:1"] * 40), "40 layers, more than 32"),
        ("conv:20x29", "a 29x29 filter does not fit in 28x28"),
        ("pool:2,pool:2,pool:2,pool:2,pool:2", "a 2x2 pool does not fit in 1x1"),
        ("dense:100,conv:20x5", "needs images below it"),
        ("conv:0x5", "positive integer maps"),
        ("conv:4096x5,dense:999999", "too large at layer 2"),
        ("conv:999999x1", "too large at layer 1"),
    ],
)
def test_bad_descriptions_are_refused_in_one_line_naming_the_field(text, match):
    with pytest.raises(ConfigError, match=match) as e:
        TrainConfig(layers=text)
    assert e.value.field == "layers" and "\n" not in str(e.value) and len(str(e.value)) < 300


def test_a_huge_stack_is_refused_by_arithmetic_without_allocating_it():
    tracemalloc.start()
    with pytest.raises(ConfigError, match=f"at most {MAX_PARAMS:,}"):
        check_stack((28, 28, 1), [{"kind": "conv", "maps": 4000, "kernel": 1}, {"kind": "dense", "n": 10**9}])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000


@pytest.mark.parametrize(
    "specs,match",
    [
        ([{"kind": "conv", "maps": True, "kernel": 5}], "positive integer maps"),
        ([{"kind": "conv", "maps": 2, "kernel": "5"}], "positive integer kernel"),
        ([{"kind": "lstm"}], "unknown kind 'lstm'"),
        (["conv"], "unknown kind None"),
        ([], "a list of 1 to 33 layers"),
    ],
)
def test_specs_read_from_a_file_are_checked_the_same_way(specs, match):
    with pytest.raises(ConfigError, match=match):
        check_stack((28, 28, 1), specs)


ALPHABET = "convpoldeseigmrlutahnx:,0123456789 "


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60) | st.text(max_size=30))
def test_any_text_is_parsed_and_checked_or_refused_with_a_config_error(text):
    try:
        specs = parse_layers(text)
    except ConfigError as e:
        assert e.field == "layers" and "\n" not in str(e)
        return
    assert parse_layers(describe(specs)) == specs
    try:
        check_stack((28, 28, 1), specs + [{"kind": "dense", "n": 10}])
    except ConfigError as e:
        assert e.field == "layers" and "\n" not in str(e)


def test_a_training_steps_buffers_are_counted_by_hand_for_the_books_network():
    """step_values, worked out for conv 20@5x5 -> pool 2 -> dense 100 -> 10 on 28x28x1 images: the input
    784; the conv layer's patch matrix twice, 2 * 24*24 * 5*5*1 = 28,800, and its output four times,
    4 * 24*24*20 = 46,080; the pool's output 4 * 12*12*20 = 11,520; the dense layers 4 * 100 and 4 * 10."""
    from nndl.engine.describe import step_values

    specs = [
        {"kind": "conv", "maps": 20, "kernel": 5},
        {"kind": "pool", "size": 2},
        {"kind": "dense", "n": 100},
        {"kind": "dense", "n": 10},
    ]
    assert step_values((28, 28, 1), specs) == 784 + 28_800 + 46_080 + 11_520 + 400 + 40
    assert step_values((784,), [{"kind": "dense", "n": 30}, {"kind": "dense", "n": 10}]) == 784 + 120 + 40
    two = [{"kind": "conv", "maps": 4, "kernel": 3}, {"kind": "conv", "maps": 2, "kernel": 2}]
    # 6x6x3 -> conv 3x3: 4x4 positions, patches of 27 -> 4x4x4; conv 2x2: 3x3 positions, patches of 16 -> 3x3x2
    assert step_values((6, 6, 3), two) == 108 + 2 * 16 * 27 + 4 * 64 + 2 * 9 * 16 + 4 * 18


def test_a_pool_layer_pools_2x2_by_default_and_names_itself_when_its_input_is_no_image():
    from nndl.engine.pool import Pool

    assert Pool((6, 4, 3)).out_shape == (3, 2, 3)
    with pytest.raises(ConfigError, match=r"^a pool layer needs images \(height, width, channels\) below it"):
        Pool((100,))


def refusal(specs, in_shape=(13, 9, 2)) -> ConfigError:
    with pytest.raises(ConfigError) as e:
        check_stack(in_shape, specs)
    assert e.value.field == "layers" and e.value.detail == str(e.value).removeprefix("layers: ")
    return e.value


def test_a_stack_on_images_that_are_not_square_follows_height_and_width_apart():
    """13 x 9 x 2 images: conv 4@3x3 -> 11 x 7 x 4 ((9 * 2 + 1) * 4 = 76 parameters), pool 2 ->
    5 x 3 x 4 (the odd row and column dropped), dense 7 -> (60 + 1) * 7 = 427 parameters."""
    from nndl.engine.describe import step_values

    specs = [{"kind": "conv", "maps": 4, "kernel": 3}, {"kind": "pool", "size": 2}, {"kind": "dense", "n": 7}]
    params = check_stack((13, 9, 2), specs)
    assert params == 76 + 427 and isinstance(params, int)
    # step_values: the input 234; patches 2 * 77 positions * 18; outputs 4 * 308, 4 * 60, 4 * 7
    values = step_values((13, 9, 2), specs)
    assert values == 234 + 2 * 77 * 18 + 4 * 308 + 4 * 60 + 4 * 7 and isinstance(values, int)
    # a filter or pool as large as the smaller side fits; one larger is refused naming both sides
    assert check_stack((13, 9, 2), [{"kind": "conv", "maps": 1, "kernel": 9}]) == 9 * 9 * 2 + 1
    assert check_stack((13, 9, 2), [{"kind": "pool", "size": 9}]) == 0
    assert str(refusal([{"kind": "conv", "maps": 1, "kernel": 10}])) == (
        "layers: layer 1: a 10x10 filter does not fit in 13x9 images"
    )
    assert str(refusal([{"kind": "conv", "maps": 4, "kernel": 7}, {"kind": "pool", "size": 4}])) == (
        "layers: layer 2: a 4x4 pool does not fit in 7x3 images"
    )


def test_the_limits_of_a_stack_are_inclusive():
    pools = [{"kind": "pool", "size": 1}] * 32 + [{"kind": "dense", "n": 10}]  # 33 layers: the most
    assert check_stack((28, 28, 1), pools) == 785 * 10
    assert (
        str(refusal(pools + [{"kind": "dense", "n": 10}], (28, 28, 1))) == "layers: a stack is a list of 1 to 33 layers"
    )
    assert check_stack((1,), [{"kind": "dense", "n": 5_000_000}]) == 10_000_000  # MAX_VALUES values an example
    assert "too large at layer 1" in str(refusal([{"kind": "dense", "n": 5_000_001}], (1,)))
    assert check_stack((49,), [{"kind": "dense", "n": 1_000_000}]) == MAX_PARAMS
    assert "too large at layer 1" in str(refusal([{"kind": "dense", "n": 1_000_000}], (50,)))
    assert len(parse_layers(",".join(["pool:1"] * 32))) == 32
    assert parse_layers("pool:1" + " " * 994) == [{"kind": "pool", "size": 1}]  # 1,000 characters
    with pytest.raises(ConfigError, match=r"^layers: 1,001 characters, more than 1,000; a description is "):
        parse_layers("pool:1" + " " * 995)


def test_a_refused_layer_is_named_by_its_place_and_kind_and_its_value_quoted():
    assert str(refusal([{"kind": "conv", "maps": True, "kernel": 5}])) == (
        "layers: layer 1 (conv) needs a positive integer maps, got True"
    )
    assert str(refusal([{"kind": "conv", "maps": 2, "kernel": "5" * 100}])) == (
        f"layers: layer 1 (conv) needs a positive integer kernel, got '{'5' * 40}'... (100 characters in all)"
    )
    pool = {"kind": "pool", "size": 1}
    assert "layer 2 (conv) needs a positive integer maps, got 0" in str(
        refusal([pool, {"kind": "conv", "maps": 0, "kernel": 1}])
    )
    assert "layer 2 (conv) needs a positive integer kernel, got 0" in str(
        refusal([pool, {"kind": "conv", "maps": 1, "kernel": 0}])
    )
    assert "layer 2 (pool) needs a positive integer size, got 0" in str(refusal([pool, {"kind": "pool", "size": 0}]))
    assert "layer 2 (dense) needs a positive integer n, got -1" in str(refusal([pool, {"kind": "dense", "n": -1}]))
    assert str(refusal([{"kind": "dense", "n": 10}, pool])) == (
        "layers: layer 2 (pool) needs images below it, but gets 10 values from a dense layer"
    )
    assert str(refusal([{"kind": "k" * 50}])) == (
        f"layers: layer 1 is of unknown kind '{'k' * 20}'... (50 characters in all); kinds are 'conv', 'pool', 'dense'"
    )


def test_input_shape_reads_square_images_for_an_image_stack_and_a_vector_otherwise():
    assert input_shape(784, []) == (784,) and input_shape(784, [{"kind": "dense", "n": 3}]) == (784,)
    assert input_shape(784, [{"kind": "pool", "size": 2}]) == (28, 28, 1)
    with pytest.raises(ConfigError) as e:
        input_shape(785, [{"kind": "conv", "maps": 2, "kernel": 3}])
    assert str(e.value) == "layers: a conv or pool layer needs square images, and 785 inputs are not side x side pixels"
    assert e.value.field == "layers"


def test_parsed_text_keeps_each_items_activation_and_quotes_what_it_refuses():
    assert parse_layers("conv:20x5x5:relu,pool:3,dense:7:tanh") == [
        {"kind": "conv", "maps": 20, "kernel": 5, "activation": "relu"},
        {"kind": "pool", "size": 3},
        {"kind": "dense", "n": 7, "activation": "tanh"},
    ]
    assert parse_layers("") == parse_layers("  ") == []  # no hidden layers described
    form = "; a description is conv:MAPSxK[xK][:ACTIVATION], pool:P or dense:N[:ACTIVATION], comma-separated"

    def message(text):
        with pytest.raises(ConfigError) as e:
            parse_layers(text)
        assert e.value.field == "layers"
        return str(e.value)

    assert message(5).startswith(f"layers: expected text, got int{form}")
    long = "conv:" + "x" * 60
    assert message(long).startswith(
        f"layers: item 1, '{long[:40]}'... (65 characters in all), is not one of its forms;"
    )
    assert message("pool:2,conv:20x5x4").startswith("layers: item 2, 'conv:20x5x4': filters must be square (K x K);")
    assert message("dense:3:softplus").startswith(
        "layers: item 1: unknown activation 'softplus'; valid activations are 'sigmoid', 'tanh', 'relu', 'linear';"
    )


def test_every_activation_a_description_offers_builds_trains_and_round_trips_through_a_model_file(tmp_path):
    """The grammar offers network3's linear neurons beside the hidden ones: a description naming
    any of them builds (it was refused with "unknown activation 'linear'"), its layer computes
    z itself, and a saved model loads to the same outputs. The network's own hidden neurons
    (what files and reports name) are the first the description gives that network2 knows."""
    import numpy as np

    import nndl
    from nndl.engine.activations import LAYER_ACTIVATIONS
    from nndl.engine.training import network_for

    rng = np.random.default_rng(0)
    X, y = rng.random((40, 784)), rng.integers(0, 10, 40)
    for act in LAYER_ACTIVATIONS:
        config = TrainConfig(
            cost="log-likelihood", layers=f"conv:2x5:{act},pool:2,dense:12:{act}", epochs=1, lmbda=0.0, eta=0.05
        )
        net, _ = nndl.train(config, (X, y))
        assert (net.layers[0].activation.name, net.layers[2].activation.name) == (act, act)  # conv, dense
        assert net.activation.name == ("sigmoid" if act == "linear" else act)
        nndl.save(net, tmp_path / f"{act}.json")
        again = nndl.load(tmp_path / f"{act}.json")
        np.testing.assert_array_equal(again.forward(X[:5]), net.forward(X[:5]))
    net = network_for(TrainConfig(cost="log-likelihood", layers="dense:12:linear,dense:8:relu"), rng=1)
    assert net.activation.name == "relu"
    dense = net.layers[0]
    z = X[:3] @ dense.params[0].value.T + dense.params[1].value  # (3, 12) the weighted input
    np.testing.assert_allclose(dense.forward(X[:3]), z, rtol=1e-13)
