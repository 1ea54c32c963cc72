"""Figures of chapter 6 (Level 4) drawn from a trained conv net or from numbers, for the notebooks: each returns a
``matplotlib.figure.Figure`` (no pyplot, so nothing is shown or kept open behind the caller's back).

* ``fig_receptive_field(image)``: the local receptive fields of a conv layer's first map, on a digit;
* ``fig_filters(net)``: the first conv layer's learned filters, the book's picture;
* ``fig_feature_maps(net, image)``: one digit through the first conv layer and its pooling;
* ``fig_accuracy_curves(curves)``: validation accuracy per epoch of several runs;
* ``fig_level4_ladder(rows)``: chapter 6's ladder, each row's test accuracy beside the book's.

Images are flat rows of 784 pixels (or 28 x 28); a network's conv layers hold ``w`` as
(kernel, kernel, channels, maps) and its layers' outputs are (batch, height, width, maps).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from nndl.errors import ConfigError
from nndl.explore.figures import wrap_to_figure

__all__ = ["fig_accuracy_curves", "fig_feature_maps", "fig_filters", "fig_level4_ladder", "fig_receptive_field"]


def _square(image) -> np.ndarray:
    x = np.asarray(image, dtype=np.float64)
    side = int(round(np.sqrt(x.size)))
    if side * side != x.size:
        raise ConfigError(f"an image must have side x side pixels, got {x.size} values")
    return x.reshape(side, side)  # (28, 28)


def _first_conv(net):
    for i, layer in enumerate(net.layers):
        if getattr(layer, "kind", None) == "conv":
            return i, layer
    raise ConfigError("the network has no conv layer: train it with layers='conv:20x5x5,pool:2,...'")


def _blank(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _title(fig: Figure, title: str, notice: str) -> None:
    fig.suptitle(title + "\n" + wrap_to_figure(notice, fig), fontsize=10)


def fig_receptive_field(image, kernel: int = 5, at=((3, 4), (13, 12))) -> Figure:
    """A digit (left) with the kernel x kernel local receptive fields of the hidden neurons at
    positions ``at`` (row, column) of the first map (right): each hidden neuron sees only its own
    small square of the image, and the squares slide one pixel at a time."""
    x = _square(image)  # (28, 28)
    side = x.shape[0] - kernel + 1  # 24
    fig = Figure(figsize=(8, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.imshow(x, cmap="binary")
    right.imshow(np.zeros((side, side)), cmap="binary", vmin=0, vmax=1)
    for (r, c), color in zip(at, ("tab:red", "tab:blue")):
        left.add_patch(Rectangle((c - 0.5, r - 0.5), kernel, kernel, fill=False, lw=2, color=color))
        right.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, color=color))
    left.set_title(f"input: {x.shape[0]} x {x.shape[1]} pixels", fontsize=10)
    right.set_title(f"first hidden map: {side} x {side} neurons", fontsize=10)
    for ax in (left, right):
        _blank(ax)
        ax.set_xlim(-0.5, x.shape[0] - 0.5 if ax is left else side - 0.5)
        ax.set_ylim(x.shape[0] - 0.5 if ax is left else side - 0.5, -0.5)
    _title(
        fig,
        "Local receptive fields",
        f"Each coloured neuron on the right sees only the {kernel} x {kernel} "
        f"square of the same colour on the left; moving one neuron across the map moves its square one pixel, "
        f"so a {x.shape[0]}-pixel side gives {x.shape[0]} - {kernel} + 1 = {side} neurons.",
    )
    return fig


def fig_filters(net, title: str = "") -> Figure:
    """The first conv layer's filters, one small image per map, dark = large positive weight
    (the book's picture of its 20 learned 5 x 5 filters)."""
    _, conv = _first_conv(net)
    w = np.asarray(conv.w.value, dtype=np.float64)[:, :, 0, :].transpose(2, 0, 1)  # (maps, k, k)
    cols = (len(w) + 1) // 2 if len(w) > 10 else len(w)
    rows = -(-len(w) // cols)
    fig = Figure(figsize=(8, 0.9 * rows + 1.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        _blank(ax)
        ax.axis("off")
    for i, (ax, f) in enumerate(zip(axes, w)):
        ax.axis("on")
        ax.imshow(f, cmap="binary")
        ax.set_title(str(i), fontsize=8)
    k = w.shape[1]
    _title(
        fig,
        title or f"The first conv layer's {len(w)} filters ({k} x {k} weights each)",
        "Dark squares are large positive weights, light ones large negative weights; each filter is one "
        "feature map's shared weights.",
    )
    return fig


def fig_feature_maps(net, image, n_maps: int = 10) -> Figure:
    """One digit (left) through the first conv layer (top row: the first ``n_maps`` feature maps)
    and the pooling layer above it, when there is one (bottom row), dark = strong response."""
    i, conv = _first_conv(net)
    x = _square(image)  # (28, 28)
    outs = net.forward_layers(x.reshape(1, -1).astype(net.dtype))  # [X, a_1 (1, 24, 24, maps), ...]
    maps = outs[i + 1][0]  # (24, 24, maps)
    pooled = outs[i + 2][0] if i + 1 < len(net.layers) and net.layers[i + 1].kind == "pool" else None
    n = min(n_maps, maps.shape[-1])
    rows = 2 if pooled is not None else 1
    fig = Figure(figsize=(10, 1.2 + 1.05 * rows), layout="constrained")
    grid = fig.add_gridspec(rows, n + 2)
    ax = fig.add_subplot(grid[:, :2])
    ax.imshow(x, cmap="binary")
    ax.set_title("the digit", fontsize=9)
    _blank(ax)
    for row, (a, what) in enumerate(((maps, f"conv {maps.shape[0]}x{maps.shape[1]}"), (pooled, "pooled"))[:rows]):
        for f in range(n):
            ax = fig.add_subplot(grid[row, f + 2])
            ax.imshow(a[:, :, f], cmap="binary")
            _blank(ax)
            ax.set_title(f"{what} {f}" if f == 0 else str(f), fontsize=8)
    pooled_text = (
        f" The row below is each map max-pooled to {pooled.shape[0]} x {pooled.shape[1]}: coarser, the same pattern."
        if pooled is not None
        else ""
    )
    _title(
        fig,
        f"Feature maps: the digit through the first {n} of {maps.shape[-1]} maps",
        "Each map lights up where its filter's feature is in the digit (dark = strong), the same feature "
        "found everywhere." + pooled_text,
    )
    return fig


def fig_accuracy_curves(curves: dict, title: str = "Validation accuracy per epoch", notice: str = "") -> Figure:
    """One line per run: ``curves`` maps a label to its accuracy after each epoch, in %."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    for label, values in curves.items():
        values = np.asarray(values, dtype=np.float64)  # (epochs,)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=label)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("validation accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    _title(fig, title, notice)
    return fig


def fig_level4_ladder(rows, title: str = "Chapter 6's ladder: test accuracy", notice: str = "") -> Figure:
    """Horizontal bars, one pair per row of the ladder: ``rows`` is a list of (what the row adds,
    your test accuracy in %, the book's in %); the first row at the top."""
    rows = list(rows)
    labels = [r[0] for r in rows]
    yours = np.array([r[1] for r in rows], dtype=np.float64)  # (rows,)
    book = np.array([r[2] for r in rows], dtype=np.float64)  # (rows,)
    fig = Figure(figsize=(9, 0.55 * len(rows) + 1.8), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    ax.barh(y + 0.2, yours, height=0.4, label="this run", color="tab:blue")
    ax.barh(y - 0.2, book, height=0.4, label="the book (60 epochs, all of MNIST)", color="0.7")
    for yy, v in zip(y, yours):
        ax.text(v, yy + 0.2, f" {v:.2f}%", va="center", fontsize=8)
    for yy, v in zip(y, book):
        ax.text(v, yy - 0.2, f" {v:.2f}%", va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=9)
    low = min(yours.min(), book.min())
    ax.set_xlim(max(0.0, low - 5), 109)  # room for the labels past 100
    ax.set_xticks([t for t in ax.get_xticks() if t <= 100])
    ax.set_xlabel("test accuracy (%)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=9, frameon=False)
    _title(fig, title, notice)
    return fig
