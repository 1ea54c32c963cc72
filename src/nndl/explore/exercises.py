"""The checks of the notebooks' exercises: each takes the reader's answer and says whether it is right.

Each ``check_*`` returns a message starting with "Right:" when the answer is right, and one
starting with "Not answered yet:" when it is still None (so a notebook handed out with empty
answers runs from top to bottom); a wrong answer raises ``NotYetRight`` (an
``AssertionError``) whose message says what the answer gave, what was expected, and where to
look again. The checks measure rather than compare with a stored answer: a derivative is held
to a finite difference, a lambda to the gap it actually closed, a prediction to the spread
actually measured. The library never prints; the notebook prints the message.
"""

from __future__ import annotations

import numpy as np

from nndl.engine.activations import sigmoid
from nndl.engine.costs import CrossEntropyCost, LogLikelihoodCost

__all__ = [
    "NotYetRight",
    "check_conv_network",
    "check_conv_vs_dense",
    "check_delta",
    "check_lambda",
    "check_max_pool",
    "check_momentum",
    "check_softmax_delta",
    "check_z_spread",
]

# The book's chapter 6 network: 28x28 images, 20 maps of 5x5, max-pool 2x2, 40 maps of 5x5, max-pool 2x2,
# 100 fully connected neurons, 10 softmax outputs.
BOOK_CONV_NET = [
    {"kind": "conv", "maps": 20, "kernel": 5},
    {"kind": "pool", "size": 2},
    {"kind": "conv", "maps": 40, "kernel": 5},
    {"kind": "pool", "size": 2},
    {"kind": "dense", "n": 100},
    {"kind": "dense", "n": 10},
]


class NotYetRight(AssertionError):
    """The reader's answer is not right yet; the message says what it gave and what was expected."""


def _not_answered(what: str) -> str:
    return f"Not answered yet: {what} is still None. Write your answer in the cell above and run both cells again."


def _numeric(f, *args, what: str) -> np.ndarray:
    try:
        out = np.asarray(f(*args), dtype=np.float64)
    except Exception as e:  # the reader's code: say what went wrong in it, in one line
        raise NotYetRight(f"{what} raised {type(e).__name__}: {e}") from None
    return out


def _finite_difference(cost, z: np.ndarray, y: np.ndarray, output, h: float = 1e-6) -> np.ndarray:
    """dC/dz_j by central differences, one z_j at a time; z, y (m, n) -> (m, n)."""
    grad = np.empty_like(z)
    for j in range(z.shape[1]):
        e = np.zeros_like(z)
        e[:, j] = h
        plus = [cost.fn(output(zp[None]), yp[None]) for zp, yp in zip(z + e, y)]
        minus = [cost.fn(output(zm[None]), ym[None]) for zm, ym in zip(z - e, y)]
        grad[:, j] = (np.array(plus) - np.array(minus)) / (2 * h)
    return grad


def check_delta(my_delta) -> str:
    """Exercise: the output error delta = dC/dz of one sigmoid neuron with the cross-entropy cost.

    ``my_delta(z, a, y)`` takes arrays of the same shape (a = sigmoid(z)) and returns dC/dz; it is
    held to a central finite difference of ``CrossEntropyCost.fn`` at z from -8 to 8, y in {0, 0.5, 1}.
    """
    if my_delta is None:
        return _not_answered("my_delta")
    z = np.repeat(np.linspace(-8, 8, 17), 3)[:, None]  # (51, 1)
    y = np.tile([0.0, 0.5, 1.0], 17)[:, None]  # (51, 1)
    a = sigmoid(z)
    want = _finite_difference(CrossEntropyCost, z, y, sigmoid)  # (51, 1)
    got = _numeric(my_delta, z.copy(), a.copy(), y.copy(), what="my_delta(z, a, y)")
    if got.shape not in (z.shape, (len(z),)):
        raise NotYetRight(
            f"my_delta(z, a, y) returned shape {got.shape} for inputs of shape {z.shape}; return one value per neuron"
        )
    got = got.reshape(z.shape)
    if np.allclose(got, want, rtol=1e-4, atol=1e-6):
        return (
            "Right: dC/dz = a - y. The sigma'(z) of the chain rule cancels the a(1 - a) in the cost's "
            "derivative, so the error is largest when the neuron is most wrong - no learning slowdown."
        )
    worst = int(np.argmax(np.abs(got - want)))
    hint = ""
    if np.allclose(got, want * a * (1 - a), rtol=1e-4, atol=1e-6):
        hint = " Your delta still carries sigma'(z) = a(1 - a): that is the quadratic cost's; simplify the product."
    elif np.allclose(got, -want, rtol=1e-4, atol=1e-6):
        hint = " Your sign is the other way round."
    raise NotYetRight(
        f"at z = {z.flat[worst]:g}, y = {y.flat[worst]:g} your delta is {got.flat[worst]:.6g}, "
        f"but the cost changes at the rate {want.flat[worst]:.6g} (finite difference).{hint}"
    )


def check_softmax_delta(my_delta) -> str:
    """Exercise: dC/dz_j for a softmax output layer with the log-likelihood cost C = -ln a_y.

    ``my_delta(z, a, y)`` takes z, a (m, 10), a = softmax(z), and one-hot targets y (m, 10); it is
    held to a central finite difference of ``LogLikelihoodCost.fn``.
    """
    if my_delta is None:
        return _not_answered("my_softmax_delta")
    rng = np.random.default_rng(3)
    z = rng.normal(0, 3, size=(6, 10))  # (6, 10)
    y = np.eye(10)[rng.integers(0, 10, size=6)]  # (6, 10) one-hot
    softmax = LogLikelihoodCost.output.fn
    a = softmax(z)
    want = _finite_difference(LogLikelihoodCost, z, y, softmax)  # (6, 10)
    got = _numeric(my_delta, z.copy(), a.copy(), y.copy(), what="my_softmax_delta(z, a, y)")
    if got.shape != z.shape:
        raise NotYetRight(
            f"my_softmax_delta(z, a, y) returned shape {got.shape} for z of shape {z.shape}; "
            f"return dC/dz_j for every output neuron j"
        )
    if np.allclose(got, want, rtol=1e-4, atol=1e-6):
        return (
            "Right: dC/dz_j = a_j - y_j, the same output error as sigmoid outputs with cross-entropy: "
            "softmax with log-likelihood learns without slowdown too."
        )
    i, j = np.unravel_index(int(np.argmax(np.abs(got - want))), z.shape)
    raise NotYetRight(
        f"for example {i}, output neuron {j} (target {y[i, j]:g}, a = {a[i, j]:.4f}) your delta is "
        f"{got[i, j]:.6g}, but the cost changes at the rate {want[i, j]:.6g} (finite difference). "
        f"Remember that z_j changes every a_k through the softmax's denominator."
    )


def _last(history, key: str) -> float:
    values = (history if isinstance(history, dict) else history.to_dict(state=False)).get(key)
    if not values:
        raise NotYetRight(f"the run's history has no {key}: train it with monitor_{key}=True")
    return float(values[-1])


def check_lambda(lmbda, history, baseline, n_train: int, n_test: int) -> str:
    """Exercise: a lambda that closes the overfitting gap of the book's demo (1,000 training images).

    ``history`` is the run trained with ``lmbda``, ``baseline`` the same run with lambda 0 (both
    ``History`` or its dict, with training and evaluation accuracy as counts; evaluation = the
    test set, n_test images). Right when the gap between training and test accuracy at the end is
    at most three quarters of the baseline's and test accuracy is at least 2 points higher.
    """
    if lmbda is None:
        return _not_answered("my_lmbda")
    gaps, tests, trains = [], [], []
    for h in (baseline, history):
        tr = 100 * _last(h, "training_accuracy") / n_train
        te = 100 * _last(h, "evaluation_accuracy") / n_test
        trains.append(tr)
        tests.append(te)
        gaps.append(tr - te)
    said = (
        f"lambda 0: training {trains[0]:.1f}%, test {tests[0]:.1f}%, gap {gaps[0]:.1f} points; "
        f"lambda {lmbda:g}: training {trains[1]:.1f}%, test {tests[1]:.1f}%, gap {gaps[1]:.1f} points"
    )
    if gaps[1] <= 0.75 * gaps[0] and tests[1] >= tests[0] + 2:
        return (
            f"Right: {said}. The weight decay (1 - eta*lambda/n) per step keeps the weights small, so the "
            f"network cannot fit the 1,000 images' noise as closely, and it generalizes better."
        )
    if tests[1] < tests[0] + 2 and trains[1] < trains[0] - 5:
        why = "lambda is so large that the network cannot fit even the training images (underfitting): try smaller"
    elif gaps[1] > 0.75 * gaps[0]:
        why = "the gap has hardly narrowed: try a larger lambda (ten times larger, say)"
    else:
        why = "the gap narrowed but test accuracy did not rise by 2 points: try a lambda a few times smaller or larger"
    raise NotYetRight(f"not closed yet: {said}; {why}.")


def check_z_spread(prediction, measured: dict) -> str:
    """Exercise: predict the standard deviation of z in the first hidden layer before measuring it.

    ``prediction`` maps "large" (N(0, 1) weights) and "default" (N(0, 1/n_in)) to the predicted
    std; ``measured`` is ``nndl.explore.z_distribution(...)``'s result. Right within 20 %.
    """
    if prediction is None:
        return _not_answered("my_prediction")
    if not isinstance(prediction, dict) or set(prediction) != {"large", "default"}:
        raise NotYetRight("my_prediction must be a dict with two numbers: {'large': ..., 'default': ...}")
    lines, wrong = [], []
    for name, label in (("large", "N(0, 1)"), ("default", "N(0, 1/n_in)")):
        want, got = measured[name]["std"], float(prediction[name])
        ok = abs(got - want) <= 0.2 * want
        off = "" if ok else "  <- off by more than 20 %"
        lines.append(f"{label}: you predicted {got:.3g}, measured {want:.3g}{off}")
        if not ok:
            wrong.append(name)
    if not wrong:
        return (
            "Right: " + "; ".join(lines) + ". Var(z) = sum_i x_i^2 Var(w) + Var(b): with N(0, 1) weights the "
            "spread grows with the ink of the image; N(0, 1/n_in) divides sum_i x_i^2 by n_in = 784."
        )
    hint = ""
    if "large" in wrong and abs(float(prediction["large"]) - 28) < 3:
        hint = (
            " 28 = sqrt(784) assumes every pixel is 1; an MNIST digit lights about a fifth of its pixels, "
            "and most of those below 1: compute sum_i x_i^2 from the images."
        )
    raise NotYetRight("; ".join(lines) + "." + hint)


def check_momentum(my_speedup) -> str:
    """Exercise: on a slope of constant gradient, by what factor does momentum mu lengthen the step?

    ``my_speedup(mu)`` is compared with the step v <- mu v - eta g actually settles to, divided
    by plain SGD's eta g, for mu in 0, 0.5, 0.9 and 0.99.
    """
    if my_speedup is None:
        return _not_answered("my_speedup")
    lines, ok = [], True
    for mu in (0.0, 0.5, 0.9, 0.99):
        v = 0.0
        for _ in range(5000):
            v = mu * v - 1.0  # eta g = 1
        want = -v
        got = float(_numeric(my_speedup, mu, what="my_speedup(mu)"))
        good = abs(got - want) <= 1e-3 * want
        ok &= good
        lines.append(f"mu {mu:g}: you said {got:.4g}, the step settles at {want:.4g} x eta g{'' if good else ' <-'}")
    if ok:
        return (
            "Right: 1/(1 - mu). With mu = 0.9 steps grow to ten times plain SGD's on a steady slope, so "
            "momentum at eta 0.05 moves about as fast as plain SGD at eta 0.5."
        )
    raise NotYetRight("; ".join(lines) + ". Hint: in the steady state v = mu v - eta g; solve for v.")


def _book_network():
    """The book's two-conv network built by nndl's engine (its layers' shapes and parameters are measured)."""
    from nndl.engine.network import Network

    return Network.stack((28, 28, 1), BOOK_CONV_NET, cost="log-likelihood", rng=0)


def _shape(value) -> tuple:
    try:
        return tuple(int(v) for v in (value if isinstance(value, (tuple, list)) else (value,)))
    except (TypeError, ValueError):
        raise NotYetRight(f"a shape is a tuple of whole numbers such as (24, 24, 20), got {value!r}") from None


def check_conv_network(shapes, params) -> str:
    """Exercise: each layer's output shape (height, width, maps) or (neurons,) and the number of
    weights and biases of the book's two-conv network, 20@5x5 -> pool 2 -> 40@5x5 -> pool 2 -> 100 -> 10
    on 28x28 images. Both are held to the network nndl's engine builds."""
    if shapes is None or params is None:
        return _not_answered("my_shapes" if shapes is None else "my_params")
    net = _book_network()
    want = [tuple(layer.out_shape) for layer in net.layers]  # 6 shapes
    names = ["conv 20@5x5", "pool 2", "conv 40@5x5", "pool 2", "dense 100", "softmax 10"]
    if not isinstance(shapes, (list, tuple)) or len(shapes) != len(want):
        raise NotYetRight(
            f"my_shapes needs one shape per layer, {len(want)} in all ({', '.join(names)}), got {shapes!r}"
        )
    for name, got, w in zip(names, shapes, want):
        got = _shape(got)
        if got != w and (len(w) != 1 or got != (w[0], 1)):
            hint = (
                " A 5x5 filter fits 28 - 5 + 1 = 24 times along a side ('valid' positions, stride 1)."
                if name.startswith("conv")
                else " Pooling 2x2 halves the height and the width; the maps stay."
                if name.startswith("pool")
                else ""
            )
            raise NotYetRight(f"after the {name} layer you said {got}, the network gives {w}.{hint}")
    n = net.n_params()
    try:
        mine = int(params)
    except (TypeError, ValueError):
        raise NotYetRight(f"my_params is a whole number, got {params!r}") from None
    each = [sum(p.value.size for p in layer.params) for layer in net.layers]
    per_layer = ", ".join(f"{name} {e:,}" for name, e in zip(names, each))
    if mine != n:
        hint = ""
        if mine == n - sum(layer.params[1].value.size for layer in net.layers if layer.params):
            hint = " You left out the biases: one per map of a conv layer, one per neuron of a dense layer."
        elif mine == n - 5 * 5 * 19 * 40:  # 5x5x1 filters in conv 2
            hint = " The second conv layer's filters see all 20 maps below: 5 x 5 x 20 weights each."
        raise NotYetRight(f"you said {mine:,} parameters, the network has {n:,} (per layer: {per_layer}).{hint}")
    return (
        f"Right: {n:,} weights and biases ({per_layer}). The conv layers hold "
        f"{each[0] + each[2]:,} of them; the fully connected layers hold the rest. Shapes: "
        + " -> ".join(str(w) for w in want)
        + "."
    )


def check_conv_vs_dense(counts) -> str:
    """Exercise: the parameters of the first conv layer (20 maps of 5x5 on a 28x28 image) and of a
    fully connected layer with the same number of output neurons (20 x 24 x 24) on the same 784
    pixels. ``counts`` is {"conv": ..., "dense": ...}; held to the layers nndl's engine builds."""
    if counts is None:
        return _not_answered("my_counts")
    if not isinstance(counts, dict) or set(counts) != {"conv", "dense"}:
        raise NotYetRight("my_counts must be a dict with two numbers: {'conv': ..., 'dense': ...}")
    from nndl.engine.layers import build_layer

    conv = build_layer({"kind": "conv", "maps": 20, "kernel": 5, "activation": "sigmoid"}, (28, 28, 1), np.float32)
    n_out = int(np.prod(conv.out_shape))  # 20 * 24 * 24
    want = {"conv": sum(p.value.size for p in conv.params), "dense": (784 + 1) * n_out}  # (n_in + 1) * n_out, counted
    lines, wrong = [], []
    for name in ("conv", "dense"):
        try:
            got = int(counts[name])
        except (TypeError, ValueError):
            raise NotYetRight(f"my_counts[{name!r}] is a whole number, got {counts[name]!r}") from None
        if got != want[name]:
            wrong.append(name)
        lines.append(f"{name}: you said {got:,}, it has {want[name]:,}{' <-' if got != want[name] else ''}")
    if not wrong:
        return (
            f"Right: {'; '.join(lines)}, {want['dense'] / want['conv']:,.0f} times fewer. Local receptive "
            f"fields: each of the {n_out:,} neurons sees 25 pixels, not 784. Shared weights: the 24 x 24 "
            f"neurons of a map use the same 25 weights and bias, so a map has 26 parameters, not 576 x 26."
        )
    hint = (
        " A dense neuron has a weight for each of the 784 pixels and a bias, and there are 20 x 24 x 24 of them."
        if "dense" in wrong
        else " A conv layer's map shares one 5x5 filter and one bias among all its neurons."
    )
    raise NotYetRight("; ".join(lines) + "." + hint)


def check_max_pool(pooled, x) -> str:
    """Exercise: predict max-pooling 2x2 of the 4x4 array ``x``; held to nndl's ``Pool`` layer."""
    if pooled is None:
        return _not_answered("my_pooled")
    from nndl.engine.pool import Pool

    x = np.asarray(x, dtype=np.float64)  # (4, 4)
    want = Pool((4, 4, 1), 2).forward(x.reshape(1, 4, 4, 1))[0, :, :, 0]  # (2, 2)
    try:
        got = np.asarray(pooled, dtype=np.float64)
    except (TypeError, ValueError):
        raise NotYetRight(f"my_pooled is a 2x2 array of numbers, got {pooled!r}") from None
    if got.shape != (2, 2):
        raise NotYetRight(
            f"my_pooled has shape {got.shape}; 2x2 pooling of a 4x4 array gives 2x2: one number for "
            f"each of the four non-overlapping 2x2 windows"
        )
    if np.array_equal(got, want):
        return (
            f"Right: {want.tolist()}. Each number is the largest of its 2x2 window: pooling keeps whether a "
            f"feature was found in that region, not exactly where, and quarters the neurons above."
        )
    mean = x.reshape(2, 2, 2, 2).mean(axis=(1, 3))
    hint = (
        " That is the windows' mean (average pooling); max-pooling keeps the largest."
        if np.allclose(got, mean)
        else " The windows do not overlap: rows 0-1 x columns 0-1, rows 0-1 x columns 2-3, and so on."
    )
    raise NotYetRight(f"you said {got.tolist()}, max-pooling gives {want.tolist()}.{hint}")
