"""A straightforward reference for convolution, max-pooling and a small conv net: one example at
a time, plain loops over output positions, direct convolution (no im2col, no strided tricks).

Shapes are the engine's: one example is (height, width, channels), a kernel (k, k, channels,
maps). Max-pooling's ties go to the first input of the window in row-major order, as in
``nndl.engine.pool``. Activations are computed from z with their own formulas, not taken
from the engine.
"""

from __future__ import annotations

import numpy as np

ACT = {  # name -> (f(z), f'(z)) from z, independently of nndl.activations
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z: np.exp(-z) / (1.0 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1.0 / np.cosh(z) ** 2),
    "relu": (lambda z: np.where(z > 0, z, 0.0), lambda z: np.where(z > 0, 1.0, 0.0)),
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
}


def conv_z(x, w, b):
    """Weighted inputs of a valid, stride-1 convolution: x (H, W, C), w (k, k, C, F), b (F,) ->
    z (H-k+1, W-k+1, F), each entry a sum over its patch."""
    k, F = w.shape[0], w.shape[3]
    Ho, Wo = x.shape[0] - k + 1, x.shape[1] - k + 1
    z = np.zeros((Ho, Wo, F), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            patch = x[i : i + k, j : j + k, :]  # (k, k, C)
            for f in range(F):
                z[i, j, f] = np.sum(patch * w[:, :, :, f]) + b[f]
    return z


def conv_back(x, w, dz):
    """For one example: (dw, db, dx) from dz = dC/dz (Ho, Wo, F), position by position."""
    k, F = w.shape[0], w.shape[3]
    dw, db, dx = np.zeros_like(w), np.zeros(F, dtype=w.dtype), np.zeros_like(x)
    for i in range(dz.shape[0]):
        for j in range(dz.shape[1]):
            for f in range(F):
                g = dz[i, j, f]
                dw[:, :, :, f] += g * x[i : i + k, j : j + k, :]
                db[f] += g
                dx[i : i + k, j : j + k, :] += g * w[:, :, :, f]
    return dw, db, dx


def pool_forward(x, p):
    """Max of each p x p window: x (H, W, C) -> (y (H//p, W//p, C), winners (H//p, W//p, C, 2)),
    the winner being the first largest input of its window in row-major order."""
    Ho, Wo, C = x.shape[0] // p, x.shape[1] // p, x.shape[2]
    y = np.zeros((Ho, Wo, C), dtype=x.dtype)
    win = np.zeros((Ho, Wo, C, 2), dtype=int)
    for i in range(Ho):
        for j in range(Wo):
            for c in range(C):
                best, at = None, None
                for di in range(p):
                    for dj in range(p):
                        v = x[i * p + di, j * p + dj, c]
                        if best is None or v > best:
                            best, at = v, (i * p + di, j * p + dj)
                y[i, j, c] = best
                win[i, j, c] = at
    return y, win


def pool_back(x_shape, win, dy):
    """dC/dx for one example: each window's error goes to its winner."""
    dx = np.zeros(x_shape, dtype=dy.dtype)
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            for c in range(dy.shape[2]):
                r, s = win[i, j, c]
                dx[r, s, c] += dy[i, j, c]
    return dx


def net_gradients(layers, x, y_onehot, masks=None):
    """One example through a small conv net with a softmax output and the log-likelihood cost.

    ``layers``: list of dicts - {"kind": "conv", "w", "b", "act"}, {"kind": "pool", "size"},
    {"kind": "dense", "w" (n_out, n_in), "b" (n_out,), "act"} where the last dense layer's act
    is "softmax". ``masks`` (dropout): {l: the mask multiplying layer l's input, flat}.
    Returns the list of per-layer (dw, db) (None for pools) of C = -ln a_y.
    """
    masks = masks or {}
    acts, zs, wins = [x], [], []
    for l, L in enumerate(layers):
        if l in masks:  # dropped inputs are 0: the layer sees, and its weights learn from, the masked input
            acts[-1] = acts[-1] * masks[l].reshape(acts[-1].shape)
        a = acts[-1]
        if L["kind"] == "conv":
            z = conv_z(a, L["w"], L["b"])
            zs.append(z)
            wins.append(None)
            acts.append(ACT[L["act"]][0](z))
        elif L["kind"] == "pool":
            out, win = pool_forward(a, L["size"])
            zs.append(None)
            wins.append(win)
            acts.append(out)
        elif L["kind"] == "convpool":  # network3: pool, then bias
            pooled, win = pool_forward(conv_z(a, L["w"], np.zeros_like(L["b"])), L["size"])
            zs.append(pooled + L["b"])
            wins.append((win, pooled.shape, a))
            acts.append(ACT[L["act"]][0](zs[-1]))
        else:
            z = L["w"] @ a.reshape(-1) + L["b"]
            zs.append(z)
            wins.append(None)
            if L["act"] == "softmax":
                e = np.exp(z - z.max())
                acts.append(e / e.sum())
            else:
                acts.append(ACT[L["act"]][0](z))
    grads = [None] * len(layers)
    delta = acts[-1] - y_onehot  # dC/dz of the softmax layer
    for l in range(len(layers) - 1, -1, -1):
        L, a_in = layers[l], acts[l]
        if L["kind"] == "dense":
            grads[l] = (np.outer(delta, a_in.reshape(-1)), delta.copy())
            d_in = (L["w"].T @ delta).reshape(a_in.shape)
        elif L["kind"] == "conv":
            dw, db, d_in = conv_back(a_in, L["w"], delta)
            grads[l] = (dw, db)
        elif L["kind"] == "convpool":
            win, _, x_in = wins[l]
            k = L["w"].shape[0]
            conv_shape = (x_in.shape[0] - k + 1, x_in.shape[1] - k + 1, L["w"].shape[3])
            dz = pool_back(conv_shape, win, delta)
            dw, _, d_in = conv_back(x_in, L["w"], dz)
            grads[l] = (dw, delta.sum(axis=(0, 1)))
        else:
            d_in = pool_back(a_in.shape, wins[l], delta)
        if l == 0:
            break
        if l in masks:
            d_in = d_in * masks[l].reshape(d_in.shape)  # a dropped input passes no error down
        below = layers[l - 1]
        if below["kind"] == "pool":
            delta = d_in  # the pool passes dC/dy on
        else:
            delta = d_in * ACT[below["act"]][1](zs[l - 1])
    return grads


def sgd_step(layers, X, Y, eta, lmbda=0.0, n=1, masks=None):
    """One mini-batch step of SGD with L2 decay, network2's rule, example by example:
    w <- (1 - eta*lmbda/n) w - (eta/m) sum_x dC_x/dw,  b <- b - (eta/m) sum_x dC_x/db.
    ``masks``: one ``net_gradients`` masks dict per example (dropout), or None."""
    total = None
    for i, (x, y) in enumerate(zip(X, Y)):
        g = net_gradients(layers, x, y, None if masks is None else masks[i])
        if total is None:
            total = [None if t is None else [t[0].copy(), t[1].copy()] for t in g]
        else:
            for acc, t in zip(total, g):
                if t is not None:
                    acc[0] += t[0]
                    acc[1] += t[1]
    m = len(X)
    for L, acc in zip(layers, total):
        if acc is not None:
            L["w"] = (1.0 - eta * lmbda / n) * L["w"] - (eta / m) * acc[0]
            L["b"] = L["b"] - (eta / m) * acc[1]


def network3_step(layers, X, labels, eta, lmbda, num_training_batches):
    """One step of the book's network3: the mean log-likelihood over the mini-batch plus
    0.5 * lmbda * sum(w^2) / num_training_batches over every layer's weights, so
    w <- w - eta * (mean gradient + lmbda * w / num_training_batches), b <- b - eta * mean gradient."""
    m = len(X)
    total = None
    for x, j in zip(X, labels):
        y = np.zeros(layers[-1]["b"].shape)
        y[j] = 1.0
        g = net_gradients(layers, x, y)
        total = g if total is None else [None if a is None else (a[0] + b[0], a[1] + b[1]) for a, b in zip(total, g)]
    for L, acc in zip(layers, total):
        if acc is not None:
            L["w"] = L["w"] - eta * (acc[0] / m + lmbda * L["w"] / num_training_batches)
            L["b"] = L["b"] - eta * (acc[1] / m)
