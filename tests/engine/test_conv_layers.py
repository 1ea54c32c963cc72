"""The convolution and max-pooling layers: exact against a per-example loop reference (direct
convolution, no im2col) to 1e-12 relative in float64, gradients against finite differences,
ties in max-pooling going to the first input in row-major order, and float32."""

from __future__ import annotations

import numpy as np
import pytest
from reference_conv import ACT, conv_back, conv_z, pool_back, pool_forward

from nndl.engine.conv import Conv
from nndl.engine.initializers import get_initializer
from nndl.engine.pool import Pool
from nndl.errors import ConfigError

RTOL = 1e-12


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def make_conv(shape=(9, 8, 3), maps=4, kernel=3, activation="sigmoid", dtype="float64", seed=0):
    """A conv layer with its parameters drawn as a network draws them (biases N(0, 1), weights
    N(0, 1/fan_in))."""
    layer = Conv(shape, maps, kernel, activation, dtype)
    rng = np.random.default_rng(seed)
    layer.init_biases(rng)
    layer.init_weights(rng, get_initializer("default"))
    return layer


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
@pytest.mark.parametrize("shape,maps,kernel", [((9, 8, 3), 4, 3), ((6, 6, 1), 2, 5), ((5, 7, 2), 3, 1)])
def test_conv_forward_and_backward_match_the_loop_reference(activation, shape, maps, kernel):
    rng = np.random.default_rng(1)
    layer = make_conv(shape, maps, kernel, activation)
    X = rng.standard_normal((4,) + shape)  # (batch, H, W, C)
    Y = layer.forward(X, train=True).copy()
    dY = rng.standard_normal(Y.shape)  # dC/dy
    dX = layer.backward(dY).copy()
    f, fp = ACT[activation]
    dw, db = np.zeros_like(layer.w.value), np.zeros_like(layer.b.value)
    for x, dy, y, dx in zip(X, dY, Y, dX):
        z = conv_z(x, layer.w.value, layer.b.value)
        assert rel_err(y, f(z)) < RTOL
        gw, gb, gx = conv_back(x, layer.w.value, dy * fp(z))
        dw += gw
        db += gb
        assert rel_err(dx, gx) < RTOL
    assert rel_err(layer.w.grad, dw) < RTOL
    assert rel_err(layer.b.grad, db) < RTOL


def test_conv_backward_wrt_z_takes_the_error_as_given():
    rng = np.random.default_rng(2)
    layer = make_conv(activation="sigmoid")
    X = rng.standard_normal((3, 9, 8, 3))
    layer.forward(X, train=True)
    dZ = rng.standard_normal((3,) + layer.out_shape)
    dX = layer.backward(dZ, wrt_z=True).copy()
    ref = np.stack([conv_back(x, layer.w.value, dz)[2] for x, dz in zip(X, dZ)])
    assert rel_err(dX, ref) < RTOL


def loss_and_grads(layer, X, R):
    """L = sum(y * R) for a fixed R: dL/dy = R."""
    y = layer.forward(X, train=True)
    loss = float(np.sum(y * R))
    dx = layer.backward(R)
    return loss, dx.copy(), [p.grad.copy() for p in layer.params]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "linear"])
def test_conv_gradients_match_finite_differences(activation):
    rng = np.random.default_rng(3)
    layer = make_conv((7, 6, 2), 3, 3, activation)
    X = rng.standard_normal((2, 7, 6, 2))
    R = rng.standard_normal((2,) + layer.out_shape)
    _, dx, grads = loss_and_grads(layer, X, R)
    h = 1e-6
    for p, g in zip(layer.params, grads):
        for idx in [tuple(rng.integers(0, s) for s in p.value.shape) for _ in range(8)]:
            old = p.value[idx]
            p.value[idx] = old + h
            up = float(np.sum(layer.forward(X) * R))
            p.value[idx] = old - h
            down = float(np.sum(layer.forward(X) * R))
            p.value[idx] = old
            assert (up - down) / (2 * h) == pytest.approx(g[idx], rel=1e-6, abs=1e-8)
    for idx in [tuple(rng.integers(0, s) for s in X.shape) for _ in range(8)]:
        Xp, Xm = X.copy(), X.copy()
        Xp[idx] += h
        Xm[idx] -= h
        num = (np.sum(layer.forward(Xp) * R) - np.sum(layer.forward(Xm) * R)) / (2 * h)
        assert num == pytest.approx(dx[idx], rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("shape,size", [((8, 8, 3), 2), ((7, 9, 2), 2), ((9, 9, 1), 3), ((4, 4, 2), 1)])
def test_pool_matches_the_loop_reference(shape, size):
    rng = np.random.default_rng(4)
    layer = Pool(shape, size)
    X = rng.standard_normal((3,) + shape)
    Y = layer.forward(X, train=True).copy()
    dY = rng.standard_normal(Y.shape)
    dX = layer.backward(dY).copy()
    assert layer.out_shape == (shape[0] // size, shape[1] // size, shape[2])
    for x, y, dy, dx in zip(X, Y, dY, dX):
        ry, win = pool_forward(x, size)
        assert np.array_equal(y, ry)
        assert np.array_equal(dx, pool_back(x.shape, win, dy))


def test_pool_ties_go_to_the_first_input_in_row_major_order():
    layer = Pool((4, 4, 1), 2)
    x = np.zeros((1, 4, 4, 1))
    x[0, 0:2, 0:2, 0] = [[1.0, 1.0], [1.0, 1.0]]  # four-way tie: top left wins
    x[0, 0:2, 2:4, 0] = [[0.0, 2.0], [2.0, 0.0]]  # top right wins over bottom left
    x[0, 2:4, 0:2, 0] = [[0.0, 0.0], [3.0, 3.0]]  # bottom left wins over bottom right
    x[0, 2:4, 2:4, 0] = [[-1.0, -2.0], [-1.0, -1.0]]  # three-way tie of negatives
    layer.forward(x, train=True)
    dx = layer.backward(np.ones((1, 2, 2, 1)))[0, :, :, 0]
    want = np.array([[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]], float)
    assert np.array_equal(dx, want)
    assert np.array_equal(pool_back(x[0].shape, pool_forward(x[0], 2)[1], np.ones((2, 2, 1)))[:, :, 0], want)


def test_pool_drops_the_rows_and_columns_left_over():
    layer = Pool((5, 5, 1), 2)
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    y = layer.forward(x, train=True)
    assert y[0, :, :, 0].tolist() == [[6.0, 8.0], [16.0, 18.0]]
    dx = layer.backward(np.ones((1, 2, 2, 1)))
    assert dx[0, 4, :, 0].tolist() == [0.0] * 5 and dx[0, :, 4, 0].tolist() == [0.0] * 5


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layers_keep_their_dtype_and_float32_agrees(dtype):
    rng = np.random.default_rng(5)
    conv64 = make_conv(dtype="float64")
    conv = make_conv(dtype=dtype)
    pool = Pool(conv.out_shape, 2, dtype)
    X = rng.standard_normal((3, 9, 8, 3))
    y = pool.forward(conv.forward(X.astype(dtype), train=True), train=True)
    dx = conv.backward(pool.backward(np.ones_like(y)))
    assert y.dtype == dx.dtype == conv.w.grad.dtype == np.dtype(dtype)
    y64 = Pool(conv.out_shape, 2).forward(conv64.forward(X))
    assert np.allclose(y, y64, rtol=1e-5, atol=1e-6)


def test_first_layer_skips_the_input_gradient_but_fills_its_own():
    rng = np.random.default_rng(6)
    a, b = make_conv(), make_conv()
    b.bottom = True
    X = rng.standard_normal((2, 9, 8, 3))
    dY = rng.standard_normal((2,) + a.out_shape)
    a.forward(X, train=True)
    b.forward(X, train=True)
    a.backward(dY)
    assert b.backward(dY) is None
    assert np.array_equal(a.w.grad, b.w.grad) and np.array_equal(a.b.grad, b.b.grad)


def test_training_buffers_are_kept_per_batch_size():
    rng = np.random.default_rng(7)
    layer = make_conv()
    X = rng.standard_normal((5, 9, 8, 3))
    full = layer.forward(X, train=True).copy()
    short = layer.forward(X[:2], train=True).copy()
    assert np.array_equal(layer.forward(X, train=True), full)
    assert np.array_equal(short, full[:2])


@pytest.mark.parametrize(
    "args,match",
    [
        (((9, 8), 4, 3), "height, width, channels"),
        (((9, 8, 3), 0, 3), "maps must be an integer from 1 to 4096, got 0"),
        (((9, 8, 3), 10**9, 3), "maps must be an integer from 1 to 4096"),
        (((9, 8, 3), 4, 2.5), "kernel must be an integer"),
        (((4, 8, 3), 4, 5), "does not fit"),
    ],
)
def test_conv_refuses_bad_shapes_in_one_line(args, match):
    with pytest.raises(ConfigError, match=match):
        Conv(*args)


def test_conv_refuses_an_unknown_activation_naming_the_valid_ones():
    with pytest.raises(ConfigError, match="'linear'"):
        Conv((9, 8, 3), 4, 3, "softplus")


def test_layers_are_registered_and_rebuilt_from_their_specs():
    from nndl.engine.layers import LAYERS, build_layer

    conv = build_layer({"kind": "conv", "maps": 6, "kernel": 5, "activation": "relu"}, (28, 28, 1), np.float32)
    pool = build_layer({"kind": "pool", "size": 2}, conv.out_shape, np.float32)
    assert {"conv", "pool"} <= set(LAYERS)
    assert (conv.out_shape, pool.out_shape) == ((24, 24, 6), (12, 12, 6))
    assert conv.spec() == {"kind": "conv", "maps": 6, "kernel": 5, "activation": "relu"}
    assert pool.spec() == {"kind": "pool", "size": 2}
    assert conv.w.value.dtype == np.float32


def test_pool_refuses_a_size_larger_than_the_image():
    with pytest.raises(ConfigError, match="size must be an integer from 1 to 3, got 4"):
        Pool((3, 3, 1), 4)


@pytest.mark.parametrize(
    "args,message",
    [
        (((9, 8), 4, 3), "a conv layer needs images (height, width, channels) below it, got the shape (9, 8)"),
        (((9, 0, 3), 4, 3), "a conv layer needs images (height, width, channels) below it, got the shape (9, 0, 3)"),
        (((70, 70, 1), 1, 65), "a conv layer's kernel must be an integer from 1 to 64, got 65"),
        (((9, 8, 3), 4, 3, "softplus"), "unknown activation 'softplus'; valid activations are: "),
    ],
)
def test_conv_refusals_name_the_layer_and_what_is_allowed(args, message):
    with pytest.raises(ConfigError) as e:
        Conv(*args)
    assert str(e.value).startswith(message)


def test_conv_defaults_and_a_kernel_as_large_as_the_image():
    from nndl.engine.layers import build_layer

    assert Conv((9, 8, 3), 4, 3).activation.name == "sigmoid"
    assert build_layer({"kind": "conv", "maps": 4, "kernel": 3}, (9, 8, 3), np.float64).activation.name == "sigmoid"
    assert Conv((5, 7, 2), 2, 5).out_shape == (1, 3, 2)  # kernel == the smaller side: one row of positions
    # the parameters' names, as a model file's errors call them ("layer 1's w has shape ...")
    assert [(p.name, p.decays) for p in Conv((5, 7, 2), 2, 5).params] == [("w", True), ("b", False)]


def test_pool_is_rebuilt_from_its_spec_with_its_size_and_dtype():
    from nndl.engine.layers import build_layer

    pool = build_layer({"kind": "pool", "size": 3}, (9, 9, 2), np.float32)
    assert (pool.size, pool.out_shape) == (3, (3, 3, 2))
    assert pool.forward(np.ones((2, 9, 9, 2), np.float32), train=True).dtype == np.float32
    assert build_layer({"kind": "pool"}, (9, 9, 2), np.float64).size == 2


def test_pool_cannot_be_the_last_layer():
    pool = Pool((4, 4, 1))
    pool.forward(np.ones((1, 4, 4, 1)), train=True)
    with pytest.raises(ConfigError) as e:
        pool.backward(np.ones((1, 2, 2, 1)), wrt_z=True)
    assert str(e.value) == "a pool layer has no weighted input: it cannot be the last layer"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_and_errors_keep_the_layers_dtype_and_inference_returns_new_arrays(dtype):
    """Inference (``train=False``) gives an array of its own, that a later call leaves alone; a
    training step's arrays and every parameter and gradient are in the layer's dtype."""
    rng = np.random.default_rng(8)
    conv = make_conv(dtype=np.dtype(dtype).name)
    pool = Pool(conv.out_shape, 2, dtype)
    X = rng.standard_normal((3, 9, 8, 3)).astype(dtype)
    for layer, x in ((conv, X), (pool, conv.forward(X))):
        first = layer.forward(x)
        kept = first.copy()
        again = layer.forward(x * 2)
        assert again is not first and np.array_equal(first, kept) and first.dtype == dtype
        y = layer.forward(x, train=True)
        assert y.dtype == dtype and layer.backward(np.ones_like(y)).dtype == dtype
    assert all(a.dtype == dtype for p in conv.params for a in (p.value, p.grad))
