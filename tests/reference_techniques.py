"""A straightforward per-example reference for the techniques of chapter 3, in the book's style.

network2.py's ``backprop`` and ``update_mini_batch`` (one (n, 1) column at a time, the
gradients summed per mini-batch), widened to what the rest of chapter 3 adds: tanh and ReLU
hidden neurons, a softmax output layer with the log-likelihood cost, L1 beside L2, momentum,
and dropout with masks given from outside. It imports nothing from nndl, so an error in the
engine cannot hide in the reference too.
"""

from __future__ import annotations

import numpy as np


def hidden_fn(name, z):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(name)


def hidden_prime(name, z):
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(float)
    raise ValueError(name)


def output_fn(cost, z):
    """The output layer of each cost: softmax for the log-likelihood, the sigmoid otherwise."""
    if cost == "log-likelihood":
        e = np.exp(z - z.max())
        return e / e.sum()
    return 1.0 / (1.0 + np.exp(-z))


def output_delta(cost, z, a, y):
    if cost == "quadratic":
        s = 1.0 / (1.0 + np.exp(-z))
        return (a - y) * s * (1 - s)
    return a - y  # cross-entropy with a sigmoid, log-likelihood with softmax


def backprop(weights, biases, x, y, hidden, cost, masks=None):
    """Gradients (nabla_b, nabla_w) of one example; ``masks[l]`` (n_l, 1) for hidden layer l."""
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    activation = x
    activations = [x]
    zs = []
    L = len(weights)
    for l, (b, w) in enumerate(zip(biases, weights)):
        z = np.dot(w, activation) + b
        zs.append(z)
        if l == L - 1:
            activation = output_fn(cost, z)
        else:
            activation = hidden_fn(hidden, z)
            if masks is not None:
                activation = activation * masks[l + 1]
        activations.append(activation)
    delta = output_delta(cost, zs[-1], activations[-1], y)
    nabla_b[-1] = delta
    nabla_w[-1] = np.dot(delta, activations[-2].transpose())
    for l in range(2, L + 1):
        delta = np.dot(weights[-l + 1].transpose(), delta) * hidden_prime(hidden, zs[-l])
        if masks is not None:
            delta = delta * masks[L - l + 1]
        nabla_b[-l] = delta
        nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
    return nabla_b, nabla_w


class Reference:
    """Parameters, velocities, and the book's update with the chapter's options."""

    def __init__(self, weights, biases, hidden="sigmoid", cost="cross-entropy", regularization="l2", momentum=0.0):
        self.weights = [np.array(w, dtype=np.float64) for w in weights]
        self.biases = [np.array(b, dtype=np.float64) for b in biases]
        self.hidden, self.cost, self.regularization, self.mu = hidden, cost, regularization, momentum
        self.vw = [np.zeros(w.shape) for w in self.weights]
        self.vb = [np.zeros(b.shape) for b in self.biases]

    def update_mini_batch(self, mini_batch, eta, lmbda, n, masks=None):
        """``mini_batch``: (x, y) columns; ``masks``: per example, a list of per-layer columns."""
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for i, (x, y) in enumerate(mini_batch):
            db, dw = backprop(
                self.weights, self.biases, x, y, self.hidden, self.cost, None if masks is None else masks[i]
            )
            nabla_b = [nb + d for nb, d in zip(nabla_b, db)]
            nabla_w = [nw + d for nw, d in zip(nabla_w, dw)]
        m = len(mini_batch)
        if self.regularization == "l2":
            penalty = [(lmbda / n) * w for w in self.weights]
        else:
            penalty = [(lmbda / n) * np.sign(w) for w in self.weights]
        if self.mu == 0.0:  # the book's form: decay, then the gradient step
            self.weights = [w - eta * p - (eta / m) * nw for w, p, nw in zip(self.weights, penalty, nabla_w)]
            self.biases = [b - (eta / m) * nb for b, nb in zip(self.biases, nabla_b)]
            return
        self.vw = [self.mu * v - eta * (nw / m + p) for v, nw, p in zip(self.vw, nabla_w, penalty)]
        self.vb = [self.mu * v - eta * (nb / m) for v, nb in zip(self.vb, nabla_b)]
        self.weights = [w + v for w, v in zip(self.weights, self.vw)]
        self.biases = [b + v for b, v in zip(self.biases, self.vb)]


def dropout_masks(rng, p, hidden_sizes, rows):
    """The masks the engine documents: per window, per hidden layer, uniforms (rows, n_l) in
    float64; kept where u >= p, scaled by 1/(1 - p). Returns per row a list indexed by layer."""
    layers = [(rng.random((rows, n)) >= p) / (1.0 - p) for n in hidden_sizes]
    return [[None] + [layer[r].reshape(-1, 1) for layer in layers] + [None] for r in range(rows)]


def expand_like_expand_mnist(images):
    """expand_mnist.py's list for (n, 784) images: each image, then shifted down, up, right, left
    by one pixel (np.roll, the rolled-in row or column set to 0)."""
    out = []
    for x in images:
        out.append(x)
        image = np.reshape(x, (-1, 28))
        for d, axis, index_position, index in [
            (1, 0, "first", 0),
            (-1, 0, "first", 27),
            (1, 1, "last", 0),
            (-1, 1, "last", 27),
        ]:
            new_img = np.roll(image, d, axis)
            if index_position == "first":
                new_img[index, :] = np.zeros(28)
            else:
                new_img[:, index] = np.zeros(28)
            out.append(np.reshape(new_img, 784))
    return np.array(out)


def rotate_bilinear(image, degrees):
    """One (side, side) image turned counter-clockwise by ``degrees`` about its centre, pixel by
    pixel: each output pixel reads the input at the point the rotation carries onto it,
    bilinearly, 0 outside (``warp_bilinear`` with no displacement)."""
    still = np.zeros(image.shape)
    return warp_bilinear(image, degrees, still, still)


def rotate_rows_bilinear(rows, degrees):
    """``rotate_bilinear`` for each row of (k, side*side) images by its angle (k,), in float64."""
    rows = np.asarray(rows, dtype=float)
    side = int(round(np.sqrt(rows.shape[1])))
    return np.stack([rotate_bilinear(x.reshape(side, side), float(a)).ravel() for x, a in zip(rows, degrees)])


def smooth_gaussian_direct(field, sigma):
    """A (side, side) field smoothed by a Gaussian of ``sigma`` pixels, by the definition: each
    output pixel (r, q) the sum over every pixel (i, j) within 4 sigma (rounded) on both axes of
    g(r - i) g(q - j) field[i, j], 0 beyond the edges, g(d) = exp(-d^2 / 2 sigma^2) divided by its
    sum over the full width (a 4-D kernel, not nndl's two matrix products)."""
    side = field.shape[0]
    radius = int(4 * sigma + 0.5)
    total = sum(np.exp(-0.5 * (d / sigma) ** 2) for d in range(-radius, radius + 1))
    d = np.arange(side)[:, None] - np.arange(side)[None, :]  # (side, side): r - i
    g = np.where(np.abs(d) <= radius, np.exp(-0.5 * (d / sigma) ** 2) / total, 0.0)
    kernel = g[:, None, :, None] * g[None, :, None, :]  # (r, q, i, j)
    return np.einsum("rqij,ij->rq", kernel, field)


def warp_bilinear(image, degrees, dy, dx):
    """One (side, side) image turned by ``degrees`` (as ``rotate_bilinear``) and each output
    pixel's source point then moved by (dy, dx) (side, side), read bilinearly, 0 outside."""
    side = image.shape[0]
    c = (side - 1) / 2.0
    t = np.deg2rad(degrees)
    out = np.zeros_like(image, dtype=float)

    def px(r, q):
        return image[r, q] if 0 <= r < side and 0 <= q < side else 0.0

    for r in range(side):
        for q in range(side):
            y, x = r - c, q - c
            sy = np.cos(t) * y + np.sin(t) * x + c + dy[r, q]
            sx = np.cos(t) * x - np.sin(t) * y + c + dx[r, q]
            y0, x0 = int(np.floor(sy)), int(np.floor(sx))
            fy, fx = sy - y0, sx - x0
            out[r, q] = (1 - fy) * ((1 - fx) * px(y0, x0) + fx * px(y0, x0 + 1)) + fy * (
                (1 - fx) * px(y0 + 1, x0) + fx * px(y0 + 1, x0 + 1)
            )
    return out


def elastic_rows(rows, degrees, alpha, rng, sigma=4.0):
    """Simard et al.'s elastic distortion after a rotation, image by image, drawing as nndl's
    augmenter documents: the angles were drawn already; then uniform noise in [-1, 1] of shape
    (2, k, side, side), dy's fields first, each smoothed by ``smooth_gaussian_direct`` and scaled
    by ``alpha``."""
    rows = np.asarray(rows, dtype=float)
    k, side = len(rows), int(round(np.sqrt(rows.shape[1])))
    noise = rng.uniform(-1.0, 1.0, (2, k, side, side))
    out = []
    for n in range(k):
        dy = alpha * smooth_gaussian_direct(noise[0, n], sigma)
        dx = alpha * smooth_gaussian_direct(noise[1, n], sigma)
        out.append(warp_bilinear(rows[n].reshape(side, side), float(degrees[n]), dy, dx).ravel())
    return np.stack(out)
