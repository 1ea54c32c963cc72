"""The checks of level4.ipynb's exercises, held to nndl's conv and pool layers: a right answer passes,
None says "not answered yet", a wrong one raises NotYetRight saying what it gave and what was expected."""

from __future__ import annotations

import numpy as np
import pytest

from nndl.explore import NotYetRight, check_conv_network, check_conv_vs_dense, check_max_pool

# The book's network, worked out by hand: a 5x5 filter fits 28 - 5 + 1 = 24 times along a side.
SHAPES = [(24, 24, 20), (12, 12, 20), (8, 8, 40), (4, 4, 40), (100,), (10,)]
PARAMS = (5 * 5 * 1 + 1) * 20 + (5 * 5 * 20 + 1) * 40 + (4 * 4 * 40 + 1) * 100 + (100 + 1) * 10


def test_none_is_not_answered_yet():
    assert check_conv_network(None, None).startswith("Not answered yet: my_shapes")
    assert check_conv_network(SHAPES, None).startswith("Not answered yet: my_params")
    assert check_conv_vs_dense(None).startswith("Not answered yet:")
    assert check_max_pool(None, np.zeros((4, 4))).startswith("Not answered yet:")


def test_conv_network_shapes_and_parameters():
    assert PARAMS == 85_670
    assert check_conv_network(SHAPES, PARAMS).startswith("Right: 85,670")
    assert check_conv_network([list(s) for s in SHAPES], float(PARAMS)).startswith("Right:")
    with pytest.raises(NotYetRight, match=r"after the conv 20@5x5 layer you said \(28, 28, 20\).*24 times"):
        check_conv_network([(28, 28, 20)] + SHAPES[1:], PARAMS)
    with pytest.raises(NotYetRight, match="halves the height"):
        check_conv_network(SHAPES[:1] + [(24, 24, 20)] + SHAPES[2:], PARAMS)
    with pytest.raises(NotYetRight, match="one shape per layer, 6"):
        check_conv_network(SHAPES[:4], PARAMS)
    with pytest.raises(NotYetRight, match="left out the biases"):
        check_conv_network(SHAPES, PARAMS - 20 - 40 - 100 - 10)
    with pytest.raises(NotYetRight, match="sees all 20 maps|see all 20 maps"):
        check_conv_network(SHAPES, PARAMS - 5 * 5 * 19 * 40)
    with pytest.raises(NotYetRight, match="the network has 85,670"):
        check_conv_network(SHAPES, PARAMS + 1)


def test_conv_against_dense_parameters():
    right = {"conv": (5 * 5 + 1) * 20, "dense": (784 + 1) * 20 * 24 * 24}
    assert check_conv_vs_dense(right).startswith("Right: conv: you said 520")
    with pytest.raises(NotYetRight, match="weight for each of the 784 pixels"):
        check_conv_vs_dense({"conv": 520, "dense": 784 * 20 * 24 * 24})  # no biases
    with pytest.raises(NotYetRight, match="shares one 5x5 filter"):
        check_conv_vs_dense({"conv": 26 * 20 * 24 * 24, "dense": right["dense"]})  # local, not shared
    with pytest.raises(NotYetRight, match="dict with two numbers"):
        check_conv_vs_dense(520)


def test_max_pool_prediction_held_to_the_pool_layer():
    x = np.array([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [6, 2, 3, 3]])
    assert check_max_pool([[4, 5], [6, 7]], x).startswith("Right:")
    assert check_max_pool(np.array([[4.0, 5.0], [6.0, 7.0]]), x).startswith("Right:")
    with pytest.raises(NotYetRight, match="average pooling"):
        check_max_pool(x.reshape(2, 2, 2, 2).mean(axis=(1, 3)), x)
    with pytest.raises(NotYetRight, match="do not overlap"):
        check_max_pool([[4, 3], [7, 7]], x)
    with pytest.raises(NotYetRight, match="shape"):
        check_max_pool([4, 5, 6, 7], x)
