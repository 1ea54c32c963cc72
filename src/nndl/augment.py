"""Artificially expanded training data, made a window at a time: memory stays that of the images.

The book's chapter 3 (and its ``expand_mnist.py``) expands MNIST's 50,000 training images to
250,000: each image, then the image shifted by one pixel down, up, right and left, the row or
column shifted in filled with 0. Held as float64 that is 1.5 GB; here the expanded set is
*virtual*: row v of it is image v // 5 under shift v % 5, and the training loop gathers each
window's rows (about 100) and shifts them on the spot. An epoch visits every one of the
250,000 rows once, in a random order, as a shuffled expanded set would be visited.

Optionally every gathered row is also turned by a random angle, uniform in
[-rotate, +rotate] degrees about the image centre, and/or distorted elastically (Simard,
Steinkraus and Platt 2003, the "elastic distortions" the book's chapters 3 and 6 cite): each
pixel is displaced by a random field, uniform noise in [-1, 1] smoothed by a Gaussian of
``ELASTIC_SIGMA`` pixels and scaled by ``elastic`` (their alpha). Both are drawn afresh each time
the row is used, from the run's own ``augment`` stream, and applied in one bilinear resampling
(0 outside the image).

Contract: ``Expansion.factor`` rows per image; ``Expansion.gather(X, idx, out, stage)`` writes
the rows ``idx`` of the virtual set into ``out`` (rows, n_in). ``EXPANSIONS`` is the table.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError
from .registry import lookup

# expand_mnist.py's four shifts, in its order: (rows moved, columns moved)
SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))  # the image itself, down, up, right, left


def image_side(n_in: int, what: str) -> int:
    """The side of square images of ``n_in`` pixels (28 for 784), else ``ConfigError``."""
    side = math.isqrt(n_in)
    if side * side != n_in or side < 2:
        raise ConfigError(f"{what} needs square images (such as 784 = 28 x 28 inputs); the network has {n_in} inputs")
    return side


def shift_images(src: np.ndarray, dy: int, dx: int, out: np.ndarray) -> None:
    """``out`` = ``src`` (k, side, side) moved dy rows down and dx columns right, 0 shifted in."""
    side = src.shape[1]
    out[...] = 0
    y0, y1 = max(dy, 0), side + min(dy, 0)  # the rows of out that receive a pixel
    x0, x1 = max(dx, 0), side + min(dx, 0)  # the columns of out that receive a pixel
    out[:, y0:y1, x0:x1] = src[:, y0 - dy : y1 - dy, x0 - dx : x1 - dx]


class NoExpansion:
    """The training set as it is: row v is image v."""

    name = "none"
    factor = 1

    @staticmethod
    def gather(X, idx, out, stage=None) -> None:
        """out (rows, n_in) = X[idx] (mode="clip": idx is in range, and "raise" copies twice)."""
        if stage is None:
            np.take(X, idx, axis=0, out=out, mode="clip")
        else:  # float32 images for a float64 network: gathered in float32, widened exactly
            out[...] = np.take(X, idx, axis=0, out=stage[: len(idx)], mode="clip")


class ShiftExpansion:
    """expand_mnist.py: each image and its four one-pixel shifts, five rows per image."""

    name = "shifts"
    factor = len(SHIFTS)

    @staticmethod
    def gather(X, idx, out, stage=None) -> None:
        rows = len(idx)
        side = image_side(X.shape[1], "expand='shifts'")
        images, kinds = np.divmod(idx, len(SHIFTS))  # (rows,) each
        src = np.take(X, images, axis=0, out=None if stage is None else stage[:rows], mode="clip")
        S = src.reshape(rows, side, side)  # (rows, side, side)
        O = out.reshape(rows, side, side)
        for k, (dy, dx) in enumerate(SHIFTS):
            r = np.flatnonzero(kinds == k)  # rows with this shift
            if not len(r):
                continue
            if k == 0:
                O[r] = S[r]
            else:
                block = np.empty((len(r), side, side), out.dtype)
                shift_images(S[r], dy, dx, block)
                O[r] = block


EXPANSIONS = {NoExpansion.name: NoExpansion, ShiftExpansion.name: ShiftExpansion}


def get_expansion(name):
    """The expansion registered as ``name`` ('none' or 'shifts')."""
    return lookup(EXPANSIONS, name, "expand")


def rotation_sources(degrees: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each output pixel reads from when each row turns by its angle (rows,) in degrees:
    (source row, source column), each (rows, side*side), counter-clockwise for positive angles,
    about the image centre."""
    c = (side - 1) / 2.0
    theta = np.deg2rad(np.asarray(degrees, np.float64))[:, None]  # (rows, 1)
    cos, sin = np.cos(theta), np.sin(theta)
    yy, xx = np.divmod(np.arange(side * side), side)  # (n_in,) output pixel
    yy, xx = yy - c, xx - c
    sy = cos * yy + sin * xx + c  # (rows, n_in) source row
    sx = cos * xx - sin * yy + c  # (rows, n_in) source column
    return sy, sx


def resample_rows(X: np.ndarray, sy: np.ndarray, sx: np.ndarray) -> None:
    """Set each pixel of each row of ``X`` (rows, side*side), in place, to the bilinear
    interpolation of that row at (sy, sx) (rows, side*side), its source row and column;
    points outside the image read as 0."""
    rows, n_in = X.shape
    side = image_side(n_in, "resampling")
    # points beyond the image read 0s: a border of one row/column before it and two after it,
    # so that with coordinates clipped into [-1, side] all four neighbours are in the padded copy
    sy = np.clip(sy, -1.0, side)
    sx = np.clip(sx, -1.0, side)
    y0, x0 = np.floor(sy), np.floor(sx)
    fy, fx = sy - y0, sx - x0  # (rows, n_in) in [0, 1)
    w = side + 3
    padded = np.zeros((rows, w, w), np.float64)
    padded[:, 1 : side + 1, 1 : side + 1] = X.reshape(rows, side, side)
    flat = padded.reshape(rows, -1)
    base = (y0.astype(np.intp) + 1) * w + (x0.astype(np.intp) + 1)  # (rows, n_in) top-left

    def at(offset):
        return np.take_along_axis(flat, base + offset, axis=1)

    top = at(0) * (1 - fx) + at(1) * fx
    bottom = at(w) * (1 - fx) + at(w + 1) * fx
    X[...] = top * (1 - fy) + bottom * fy


def rotate_rows(X: np.ndarray, degrees: np.ndarray) -> None:
    """Turn each row of ``X`` (rows, side*side), in place, by its angle (rows,) in degrees.

    Each output pixel takes the bilinear interpolation of the input at the point that the
    rotation carries onto it (counter-clockwise for positive angles), about the image centre;
    points outside the image read as 0.
    """
    side = image_side(X.shape[1], "rotate")
    resample_rows(X, *rotation_sources(degrees, side))


ELASTIC_SIGMA = 4.0  # pixels: Simard, Steinkraus and Platt's smoothing for MNIST (with alpha 34)


def gaussian_smoother(side: int, sigma: float = ELASTIC_SIGMA) -> np.ndarray:
    """G (side, side): G @ F @ G.T smooths a (side, side) field F with a Gaussian of ``sigma``
    pixels, zeros beyond the edges; the kernel's weights (to 4 sigma) sum to 1."""
    radius = int(4 * sigma + 0.5)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)  # (2 radius + 1,)
    taps /= taps.sum()
    d = np.arange(side)[:, None] - np.arange(side)[None, :]  # (side, side) offsets
    return np.where(np.abs(d) <= radius, taps[np.clip(d + radius, 0, 2 * radius)], 0.0)


def elastic_fields(rows: int, side: int, alpha: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Random displacement fields (dy, dx), each (rows, side*side) in pixels: uniform noise in
    [-1, 1] per pixel smoothed by ``gaussian_smoother`` and scaled by ``alpha`` (Simard et al.'s
    elastic distortion; at alpha 34 a pixel moves about 1.4 pixels on average)."""
    G = gaussian_smoother(side)  # (side, side)
    noise = rng.uniform(-1.0, 1.0, (2, rows, side, side))  # (2, rows, side, side)
    fields = alpha * (G @ noise @ G.T)  # (2, rows, side, side)
    return fields[0].reshape(rows, -1), fields[1].reshape(rows, -1)


class Augmenter:
    """What the training loop calls per window: gather, expand, rotate, distort.

    ``n`` is the size of the virtual training set (``factor`` rows per image). ``rng`` draws
    the rotations and the elastic fields (None when ``rotate`` and ``elastic`` are 0).
    """

    def __init__(self, expand: str, rotate: float, n_images: int, n_in: int, rng, elastic: float = 0.0):
        self.expansion = get_expansion(expand)
        self.rotate = float(rotate)
        self.elastic = float(elastic)
        self.rng = rng
        self.n = n_images * self.expansion.factor
        if self.expansion is not NoExpansion:
            image_side(n_in, f"expand={expand!r}")
        if self.rotate:
            image_side(n_in, "rotate")
        if self.elastic:
            image_side(n_in, "elastic")

    @property
    def identity(self) -> bool:
        """True when rows are the images as they are (the loop's plain gather)."""
        return self.expansion is NoExpansion and not self.rotate and not self.elastic

    def gather(self, X, idx, out, stage=None) -> None:
        """out (rows, n_in) = the virtual rows ``idx``; also returns nothing: targets are the
        images' own, ``idx // factor``. The angles are drawn first, then the fields, so a run
        without elastic distortion draws exactly the angles it always drew."""
        self.expansion.gather(X, idx, out, stage)
        if not (self.rotate or self.elastic):
            return
        rows, side = len(idx), image_side(out.shape[1], "rotate and elastic")
        if self.rotate:
            angles = self.rng.uniform(-self.rotate, self.rotate, rows)  # (rows,) degrees
            sy, sx = rotation_sources(angles, side)  # (rows, n_in) each
        else:
            sy, sx = rotation_sources(np.zeros(rows), side)
        if self.elastic:
            dy, dx = elastic_fields(rows, side, self.elastic, self.rng)  # (rows, n_in) each
            sy, sx = sy + dy, sx + dx
        resample_rows(out, sy, sx)

    def images(self, idx) -> np.ndarray:
        """The image each virtual row comes from (rows,)."""
        return idx // self.expansion.factor
