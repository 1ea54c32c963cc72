"""Exact mini-batch SGD, several mini-batches at a time: the first layer's products in bulk.

Plain SGD multiplies a 10-row mini-batch by the 784 x 100 first layer twice per step
(forward, and the weight gradient): products so thin that BLAS spends much of its time
packing them. Here a *window* of k consecutive mini-batches (about 100 rows) is taken
together, and the first layer's work is done in three products over the whole window,
while every step still sees the weights exactly as sequential SGD leaves them.

The algebra, for the first layer. Write X_t for the rows of step t (m_t of them: a short
last mini-batch has its own m), delta_t for its error at the first hidden layer (the
backpropagated dC/dz), e_t = -(eta/m_t) delta_t, d = 1 - eta*lmbda/n for the decay, and
W_0, b_0 for the parameters when the window starts. Sequential SGD gives::

    W_t = d^t W_0 + sum_{j<t} d^(t-1-j) X_j^T e_j          b_t = b_0 + sum_{j<t} 1^T e_j
    z_t = X_t W_t + b_t
        = d^t (X_t W_0) + b_0 + sum_{j<t} (d^(t-1-j) X_t X_j^T + 1 1^T) e_j

So the code computes, once per window, ``Z`` = d^t (X_t W_0) + b_0 for all its rows and
the matrix ``M`` with blocks M[t, j] = d^(t-1-j) X_t X_j^T + 1 (all ones) for j < t and 0
otherwise (X X^T is the window's Gram matrix). Step t then needs only the small product
``M[t, :t] @ e[:t]`` added to its rows of Z. At the end of the window one product folds
every step in: ``W_k = d^k W_0 + X^T (R e)``, R scaling the rows of step j by d^(k-1-j).
It is the same arithmetic as one step at a time, reassociated: in float64 the result agrees
with network2's per-example algorithm to ~1e-13 relative or better (float32: ~1e-6, its
own rounding). Only powers of d appear, never 1/d, so decay factors of 0 and below work
too. (|d| > 1, i.e. eta*lmbda > 2n, makes the weights grow without bound: training ends in
a DivergenceError, in float32 possibly a few steps sooner than step by step.)

Layers after the first are small; they take their steps one mini-batch at a time.
Nothing here depends on which neurons the layers use or on dropout: the hidden activation,
the output activation of the cost, and the dropout masks (``nndl.engine.dropout``) enter only
through each step's e_t, which the step computes exactly. What the algebra needs is that a
step changes W linearly - plain SGD with L2 decay (or none); L1 and momentum go one
mini-batch at a time (``nndl.engine.rules``).
Inputs that are 0 (81 % of MNIST's pixels) contribute nothing to z nor to the gradient,
so when a window uses few enough of the input columns only those are multiplied.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Rows per window, measured (s/epoch, best of 3, mini-batch 10): [784, 100, 10] float64 50 rows
# 0.81, 100 rows 0.78, 150 rows 0.90, 200 rows 1.08; [784, 30, 10] 10 rows 0.67, 30 rows 0.53,
# 100 rows 0.43. The Gram matrix grows with the square of the rows; the products' speed levels off.
WINDOW_ROWS = 100


class _Step:
    """Views of one mini-batch's rows in a window's buffers (built once, reused).

    ``lo:hi`` its rows in the window (``mm`` of them); ``z`` its first-layer weighted inputs
    and ``e`` its scaled first-layer error (rows of ``Z`` and ``e``); ``t`` its targets;
    ``a[l]`` (mm, n_l) activations and ``zs[l]`` (mm, n_{l+1}) weighted inputs of layer
    l >= 1 (with dropout, ``a[l]`` is after the mask and ``raw[l]`` before it); ``out`` (mm, n_out) the outputs; ``err[l]`` (mm, n_l) the error passed down to
    hidden layer l (``err[1]`` is ``e``); ``p[l]`` and ``tmp`` scratch; ``ones`` (mm,).
    """

    __slots__ = ("lo", "hi", "mm", "z", "e", "t", "a", "raw", "zs", "out", "err", "p", "tmp", "ones")


class WindowWorkspace:
    """Buffers for windows of ``k`` mini-batches of ``m`` rows, for one decay factor ``d``.

    ``X`` (rows, n_in) and ``T`` (rows, n_out) are filled by the training loop with the
    window's inputs and targets, mini-batch after mini-batch; ``rows`` = k*m, or n when the
    whole data set (``n`` examples, if given) is smaller. The rest is ``descend_window``'s:

    * ``Z``, ``e`` (rows, n_1): first-layer weighted inputs and scaled errors of every step;
    * ``G`` (rows*rows,) flat, so that any r x r prefix is contiguous: the matrix M;
    * the decay tables: ``pow`` (k+1,) d^0..d^k; ``D`` (rows, rows) d^(t-1-j) where j < t,
      else 0; ``earlier`` (rows, rows) 1 where j < t, else 0 (both None when k = 1: one
      step has no earlier steps); ``S`` (rows, 1) d^t; ``R`` (rows, 1) d^(k-1-j);
    * ``used`` (n_in,), ``Xc`` (rows*n_in,) flat, ``W0`` and ``U`` (n_in, n_1): the used
      input columns, the window's inputs in them, the first layer's rows for them and the
      update; only the first ``cols`` rows of ``W0`` and ``U`` are used;
    * per step (``m`` rows): activations ``a[l]`` (contiguous: ufuncs writing into strided
      views measured 1.5-2x slower), errors ``err[l]``, gradients ``g[l]`` (n_l + 1,
      n_{l+1}) with views ``gw[l]`` (weights) and ``gb[l]`` (biases) for the layers l >= 1.
    """

    def __init__(
        self, sizes: Sequence[int], m: int, dtype, decay: float, rows: int = WINDOW_ROWS, n: int | None = None
    ):
        sizes = list(sizes)
        self.sizes, self.m, self.decay = sizes, m, float(decay)
        self.k = k = max(1, rows // m)
        self.rows = B = k * m if n is None else min(k * m, n)
        n0, n1 = sizes[0], sizes[1]
        mm = min(m, B)  # rows of the largest step
        self.X = np.empty((B, n0), dtype)  # (B, n_in)
        self.T = np.empty((B, sizes[-1]), dtype)  # (B, n_out)
        self.Z = np.empty((B, n1), dtype)  # (B, n_1)
        self.e = np.empty((B, n1), dtype)  # (B, n_1)
        self.Xc = np.empty(B * n0, dtype)  # (B, cols) flat
        self.W0 = np.empty((n0, n1), dtype)  # (n_in, n_1), first cols rows used
        self.U = np.empty((n0, n1), dtype)  # (n_in, n_1), first cols rows used
        self.db = np.empty(n1, dtype)  # (n_1,)
        self.ones = np.ones(B, dtype)  # (B,)
        self.used = np.empty(n0, bool)  # (n_in,)
        self.tmp = np.empty((mm, n1), dtype)  # (m, n_1)
        self.a = [None] + [np.empty((mm, n), dtype) for n in sizes[1:-1]]  # (m, n_l)
        self.raw = [None] + [np.empty((mm, n), dtype) for n in sizes[1:-1]]  # (m, n_l) before dropout
        self.zs = [None] + [np.empty((mm, n), dtype) for n in sizes[2:]]  # (m, n_{l+1})
        self.err = [None, None] + [np.empty((mm, n), dtype) for n in sizes[2:-1]]  # (m, n_l), l >= 2
        self.p = [None] + [np.empty((mm, n), dtype) for n in sizes[1:-1]]  # (m, n_l) scratch
        self.g = [None] + [np.empty((i + 1, o), dtype) for i, o in zip(sizes[1:-1], sizes[2:])]
        self.gw = [None] + [g[:-1] for g in self.g[1:]]  # (n_l, n_{l+1}) views
        self.gb = [None] + [g[-1] for g in self.g[1:]]  # (n_{l+1},) views
        self.out = np.empty((mm, sizes[-1]), dtype)  # (m, n_out) outputs
        self.blk = blk = np.arange(B) // m  # (B,) the step of each row
        with np.errstate(over="ignore"):  # |d| > 1 only when training diverges anyway
            self.pow = decay ** np.arange(k + 1, dtype=np.float64)  # (k+1,) d^0 .. d^k
            self.S = self.pow[blk].astype(dtype)[:, None]  # (B, 1) d^t
            self.R = self._row_scale(B)  # (B, 1) d^(k-1-j)
            if B > m:
                gap = blk[:, None] - blk[None, :] - 1  # (B, B) t - j - 1
                earlier = gap >= 0  # (B, B) j < t
                self.G = np.empty(B * B, dtype)  # (B, B) flat
                self.D = np.where(earlier, self.pow[np.maximum(gap, 0)], 0.0).astype(dtype)  # (B, B)
                self.earlier = earlier.astype(dtype)  # (B, B)
            else:
                self.G = self.D = self.earlier = None
        # Gathering and scattering columns costs about a third of the products they save
        # (measured): use the nonzero columns only while they are at most ~80 % of them.
        self.sparse_limit = int(0.8 * n0)
        self._steps = self._views(B)

    def _row_scale(self, rows: int) -> np.ndarray:
        steps = -(-rows // self.m)
        with np.errstate(over="ignore"):
            return self.pow[steps - 1 - self.blk[:rows]].astype(self.X.dtype)[:, None]  # (rows, 1)

    def _views(self, rows: int) -> list:
        steps = []
        for lo in range(0, rows, self.m):
            hi = min(lo + self.m, rows)
            mm = hi - lo
            s = _Step()
            s.lo, s.hi, s.mm = lo, hi, mm
            s.z, s.e, s.t = self.Z[lo:hi], self.e[lo:hi], self.T[lo:hi]
            s.tmp, s.out, s.ones = self.tmp[:mm], self.out[:mm], self.ones[:mm]
            s.a = [None] + [a[:mm] for a in self.a[1:]]  # (mm, n_l)
            s.raw = [None] + [a[:mm] for a in self.raw[1:]]  # (mm, n_l)
            s.zs = [None] + [z[:mm] for z in self.zs[1:]]  # (mm, n_{l+1})
            s.err = [None, s.e] + [d[:mm] for d in self.err[2:]]  # layer 1's error is e itself
            s.p = [None] + [p[:mm] for p in self.p[1:]]
            steps.append(s)
        return steps

    def fold_scales(self, rows: int) -> tuple[np.ndarray, float]:
        """For a window of ``rows`` rows: R (rows, 1), d^(k-1-j) for the rows of step j, and d^k.

        d^k is a Python float: a NumPy float64 scalar would make ``W *= d^k`` compute a
        float32 matrix in float64 and back (NumPy 2's promotion), 8 % of a float32 epoch."""
        R = self.R if rows == self.rows else self._row_scale(rows)
        return R, float(self.pow[-(-rows // self.m)])

    def steps(self, rows: int) -> list:
        """The steps of a window of ``rows`` rows (the last window of an epoch may be shorter)."""
        return self._steps if rows == self.rows else self._views(rows)


def descend_window(net, ws: WindowWorkspace, rows: int, eta: float, masks=None) -> None:
    """Train ``net`` on ``ws.X[:rows]``, ``ws.T[:rows]``: consecutive mini-batches of ``ws.m``
    (the last may be shorter), each one network2's step with ``ws.decay``, in order.

    Equal to calling network2's ``update_mini_batch`` on each mini-batch in turn, to
    rounding (the products are reassociated; see the module docstring). ``masks``: dropout
    masks for the window's rows (``nndl.engine.dropout.Dropout.draw``), or None.
    """
    P = [layer.P for layer in net.layers]  # (n_l + 1, n_{l+1}) each
    act, out_act, cost, decay = net.activation, net.output, net.cost, ws.decay
    L = len(P)
    W = [p[:-1] for p in P]  # (n_l, n_{l+1}) views
    b = [p[-1] for p in P]  # (n_{l+1},) views
    cols, Xc, M = _first_layer_products(ws, rows, W[0], b[0])
    e = ws.e[:rows]  # (r, n_1)
    for s in ws.steps(rows):
        c = -eta / s.mm  # a short last batch has its own m
        z = s.z  # (mm, n_1)
        if s.lo:
            np.dot(M[s.lo : s.hi, : s.lo], e[: s.lo], out=s.tmp)  # earlier steps' updates
            z += s.tmp
        if L == 1:
            out_act.fn_(z, out=s.out)
            np.multiply(cost.delta(z, s.out, s.t), c, out=s.e)
            continue
        _hidden(act, z, s, 1, masks)
        for l in range(1, L):  # small layers: step by step
            zl = s.zs[l]
            np.dot(s.a[l], W[l], out=zl)  # (mm, n_{l+1})
            zl += b[l]
            if l < L - 1:
                _hidden(act, zl, s, l + 1, masks)
            else:
                out_act.fn_(zl, out=s.out)
        delta = cost.delta(s.zs[-1], s.out, s.t)  # (mm, n_out)
        delta *= c
        for l in range(L - 1, 0, -1):
            np.dot(s.a[l].T, delta, out=ws.gw[l])  # (n_l, n_{l+1})
            np.dot(s.ones, delta, out=ws.gb[l])  # (n_{l+1},)
            err = np.dot(delta, W[l].T, out=s.err[l])  # (mm, n_l) old weights
            if masks is None:
                act.times_prime_(err, s.a[l], s.p[l])
            else:  # a dropped neuron: no error
                err *= masks[l][s.lo : s.hi]
                act.times_prime_(err, s.raw[l], s.p[l])
            if decay != 1.0:
                W[l] *= decay
            P[l] += ws.g[l]
            delta = err
    _fold_first_layer(ws, rows, cols, Xc, W[0], b[0])


def _first_layer_products(ws: WindowWorkspace, rows: int, W0, b0):
    """The window's first-layer work before its steps: Z = d^t X_t W_0 + b_0 for every row
    (in ``ws.Z``) and the matrix M (r, r) of the earlier steps' effect (None for one step).
    Only the input columns the window uses are multiplied, while few enough of them are.
    Returns (those columns or None, the window's inputs in them (r, c), M)."""
    X = ws.X[:rows]  # (r, n_in)
    np.logical_or.reduce(X, axis=0, out=ws.used)  # (n_in,)
    cols = ws.used.nonzero()[0]  # (c,)
    if len(cols) <= ws.sparse_limit:
        Xc = X.take(cols, axis=1, out=ws.Xc[: rows * len(cols)].reshape(rows, len(cols)), mode="clip")
        W0c = W0.take(cols, axis=0, out=ws.W0[: len(cols)], mode="clip")  # (c, n_1) copy
    else:
        cols, Xc, W0c = None, X, W0
    Z = ws.Z[:rows]  # (r, n_1)
    np.dot(Xc, W0c, out=Z)  # X_t W_0 for every step t
    Z *= ws.S[:rows]  # d^t X_t W_0
    Z += b0  # + b_0
    M = None
    if rows > ws.m:  # one step needs no Gram matrix
        M = ws.G[: rows * rows].reshape(rows, rows)  # (r, r)
        np.dot(Xc, Xc.T, out=M)  # X_t X_j^T (syrk)
        M *= ws.D[:rows, :rows]  # d^(t-1-j) X_t X_j^T, j < t
        M += ws.earlier[:rows, :rows]  # + 1 1^T, j < t
    return cols, Xc, M


def _fold_first_layer(ws: WindowWorkspace, rows: int, cols, Xc, W0, b0) -> None:
    """Fold the window's steps into the first layer: b += sum e; W = d^k W_0 + X^T (R e)."""
    e = ws.e[:rows]  # (r, n_1)
    np.dot(ws.ones[:rows], e, out=ws.db)  # (n_1,)
    b0 += ws.db
    R, dk = ws.fold_scales(rows)  # (r, 1), d^k
    e *= R
    if dk != 1.0:
        W0 *= dk
    if cols is None:
        np.dot(ws.X[:rows].T, e, out=ws.U)  # (n_in, n_1)
        W0 += ws.U
    else:
        U = np.dot(Xc.T, e, out=ws.U[: len(cols)])  # (c, n_1)
        W0[cols] += U


def _hidden(act, z, s: _Step, l: int, masks) -> None:
    """Hidden layer l's activations of step ``s`` from its weighted inputs ``z``: into
    ``s.a[l]``, or with dropout into ``s.raw[l]`` and then, masked, into ``s.a[l]``."""
    if masks is None:
        act.fn_(z, out=s.a[l])
    else:
        act.fn_(z, out=s.raw[l])
        np.multiply(s.raw[l], masks[l][s.lo : s.hi], out=s.a[l])
