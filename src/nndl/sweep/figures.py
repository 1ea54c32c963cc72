"""A sweep's figures, drawn from its database rows alone (``nndl sweep plot`` redraws them).

* ``eta_training_cost.png`` - the book's figure for choosing eta (chapter 3): training cost
  against epoch, one curve per learning rate; a panel per value of the other swept fields;
* ``validation_accuracy.png`` - final validation accuracy against each swept field, the
  mean over seeds with the spread from the lowest to the highest seed;
* ``heatmap.png`` - for a grid over two fields, the mean validation accuracy of each cell.

Built on ``matplotlib.figure.Figure`` (no pyplot, no display) and written atomically.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from nndl.figstyle import legend_beside, plain_log_ticks
from nndl.fileio import atomic_path

from .spec import LOG_UNIFORM, SweepSpec, value_text

ETA_FIGURE, ACCURACY_FIGURE, HEATMAP_FIGURE = "eta_training_cost.png", "validation_accuracy.png", "heatmap.png"
MAX_PANELS = 4  # eta panels; the best-scoring combinations of the other fields
MAX_LINES = 6  # lines per accuracy panel
SOURCE = 'Neural Networks and Deep Learning, chapter 3: "How to choose a neural network\'s hyper-parameters?"'


def _key(v):
    return tuple(v) if isinstance(v, list) else v


def _order(values):
    """Values sorted numerically where they are numbers, else in first-seen order."""
    uniq = list(dict.fromkeys(_key(v) for v in values))
    if all(isinstance(v, (int, float)) and v is not None for v in uniq):
        return sorted(uniq)
    return uniq


def _by_value(combo: tuple) -> list:
    """A sort key for a combination of the other fields' values: numbers in order, then the rest."""
    return [(0, v, "") if isinstance(v, (int, float)) and not isinstance(v, bool) else (1, 0, str(v)) for _, v in combo]


def _others(params: dict, skip) -> tuple:
    return tuple((k, _key(v)) for k, v in params.items() if k not in skip)


def _label(combo: tuple) -> str:
    return ", ".join(f"{k} {value_text(v)}" for k, v in combo) or "all trials"


def _done(rows):
    return [r for r in rows if r["status"] == "done"]


def _mean_accuracy(rows) -> float:
    return float(np.mean([r["validation_accuracy"] for r in rows])) if rows else -1.0


def _describe(rows) -> str:
    r = _done(rows)[0]
    c = r["config"]
    return (
        f"{c['sizes']}, {c['cost']}, {c['epochs']} epochs, mini-batch {c['mini_batch_size']}, "
        f"{r['n_train']:,} training and {r['n_evaluation']:,} validation images"
    )


def fig_eta(rows: list[dict], spec: SweepSpec) -> Figure | None:
    """Training cost per epoch, one curve per eta (mean over seeds, band: lowest to highest)."""
    done = [r for r in _done(rows) if r["history"].get("training_cost")]
    if "eta" not in spec.swept() or not done:
        return None
    groups = defaultdict(list)
    for r in done:
        groups[_others(r["params"], ("eta", "seed"))].append(r)
    best = sorted(groups, key=lambda c: -_mean_accuracy(groups[c]))[:MAX_PANELS]  # the best combinations,
    combos = sorted(best, key=_by_value)  # in order of their values
    etas = _order(r["params"]["eta"] for r in rows)
    colours = colormaps["plasma"](np.linspace(0.05, 0.85, len(etas)))
    fig = Figure(figsize=(max(10.0, 6.4 * len(combos) + 0.6), 5.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(combos), squeeze=False)[0])
    diverged = sorted({r["params"]["eta"] for r in rows if r["status"] == "diverged"})
    for ax, combo in zip(axes, combos):
        for eta, colour in zip(etas, colours):
            runs = [r for r in groups[combo] if r["params"]["eta"] == eta]
            if not runs:
                continue
            n = min(len(r["history"]["training_cost"]) for r in runs)
            costs = np.array([r["history"]["training_cost"][:n] for r in runs])  # (seeds, epochs)
            x = np.arange(1, n + 1)
            ax.plot(x, costs.mean(axis=0), color=colour, lw=2, label=f"eta = {eta:g}")
            if len(runs) > 1:
                ax.fill_between(x, costs.min(axis=0), costs.max(axis=0), color=colour, alpha=0.2, lw=0)
        c = groups[combo][0]["config"]
        ax.set(
            title=_label(combo) if combo else f"lambda {c['lmbda']:g}",
            xlabel="epoch",
            ylabel="cost on the training data",
        )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    legend_beside(axes[-1], title="learning rate")  # the same in every panel
    seeds = len(spec.seeds)
    note = (f"mean over {seeds} seeds, band: lowest to highest; " if seeds > 1 else "") + _describe(rows)
    if diverged:
        note += f"; diverged (no curve): eta {', '.join(f'{e:g}' for e in diverged)}"
    fig.suptitle(
        "Choosing the learning rate: the training cost per epoch, one curve per eta\n"
        "too large an eta makes the cost oscillate or climb, too small makes it fall slowly: "
        "take the largest eta whose cost falls steadily\n" + note + f"\n({SOURCE})",
        fontsize=10,
    )
    return fig


def fig_accuracy(rows: list[dict], spec: SweepSpec) -> Figure | None:
    """Final validation accuracy against each swept field: mean over seeds, bars lowest-highest."""
    done = _done(rows)
    swept = spec.swept()
    if not done or not swept:
        return None
    fig = Figure(figsize=(5.6 * len(swept) + 0.6, 4.8), layout="constrained")
    axes = fig.subplots(1, len(swept), squeeze=False)[0]
    for ax, name in zip(axes, swept):
        values = _order(r["params"][name] for r in done)
        numeric = spec.random is not None and name in spec.ranges
        if numeric:  # random draws: every trial is a point at its value
            x = np.array([r["params"][name] for r in done], float)
            ax.scatter(x, [100 * r["validation_accuracy"] for r in done], s=22, color="#1f77b4", alpha=0.8)
            if name in LOG_UNIFORM:
                ax.set_xscale("log")
                plain_log_ticks(ax.xaxis)
        else:
            groups = defaultdict(list)
            for r in done:
                groups[_others(r["params"], (name, "seed"))].append(r)
            best = sorted(groups, key=lambda c: -_mean_accuracy(groups[c]))[:MAX_LINES]
            combos = sorted(best, key=_by_value)  # legend in order of value
            pos = {v: i for i, v in enumerate(values)}
            for k, combo in enumerate(combos):
                xs, mean, lo, hi = [], [], [], []
                for v in values:
                    acc = [100 * r["validation_accuracy"] for r in groups[combo] if _key(r["params"][name]) == v]
                    if acc:
                        xs.append(pos[v] + 0.06 * (k - (len(combos) - 1) / 2))
                        mean.append(np.mean(acc))
                        lo.append(min(acc))
                        hi.append(max(acc))
                mean, lo, hi = map(np.asarray, (mean, lo, hi))
                ax.errorbar(xs, mean, yerr=[mean - lo, hi - mean], marker="o", capsize=3, label=_label(combo))
            ax.set_xticks(range(len(values)), [value_text(v) for v in values])
            if len(combos) > 1 or combos[0]:
                legend_beside(ax, fontsize=8)  # off the points
        ax.set(title=f"{name}", xlabel=name, ylabel="validation accuracy (%)")
        ax.grid(alpha=0.3)
    seeds = len(spec.seeds)
    how = f"points: mean over {seeds} seeds, bars: lowest to highest seed" if seeds > 1 else "one seed per point"
    if spec.random is not None:
        how = f"{spec.random} random draws" + (f" x {seeds} seeds" if seeds > 1 else "")
    best = max(done, key=lambda r: r["validation_accuracy"])
    fig.suptitle(
        f"Final validation accuracy against each swept field - higher is better; the best trial: "
        f"{_label(_others(best['params'], ()))} at {100 * best['validation_accuracy']:.2f}%\n"
        f"{how}; {_describe(rows)}",
        fontsize=10,
    )
    return fig


def fig_heatmap(rows: list[dict], spec: SweepSpec) -> Figure | None:
    """Mean validation accuracy over seeds for each cell of a two-field grid."""
    swept, done = spec.swept(), _done(rows)
    if len(swept) != 2 or spec.random is not None or not done:
        return None
    fy, fx = swept
    ys, xs = _order(spec.values[fy]), _order(spec.values[fx])
    grid = np.full((len(ys), len(xs)), np.nan)  # (rows: fy, cols: fx)
    for i, vy in enumerate(ys):
        for j, vx in enumerate(xs):
            acc = [
                r["validation_accuracy"] for r in done if _key(r["params"][fy]) == vy and _key(r["params"][fx]) == vx
            ]
            if acc:
                grid[i, j] = 100 * np.mean(acc)
    fig = Figure(figsize=(max(6.5, 1.3 * len(xs) + 3.5), 0.9 * len(ys) + 2.6), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(grid, cmap="viridis", aspect="auto")
    fig.colorbar(im, ax=ax, label="validation accuracy (%)")
    best = np.unravel_index(np.nanargmax(grid), grid.shape) if np.isfinite(grid).any() else None
    lo, hi = np.nanmin(grid), np.nanmax(grid)
    for i in range(len(ys)):
        for j in range(len(xs)):
            text = "diverged" if np.isnan(grid[i, j]) else f"{grid[i, j]:.2f}"
            light = np.isnan(grid[i, j]) or grid[i, j] < lo + 0.6 * (hi - lo)
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                color="white" if light else "black",
                fontweight="bold" if (i, j) == best else "normal",
            )
    ax.set_xticks(range(len(xs)), [value_text(v) for v in xs])
    ax.set_yticks(range(len(ys)), [value_text(v) for v in ys])
    ax.set(xlabel=fx, ylabel=fy)
    seeds = len(spec.seeds)
    fig.suptitle(
        f"Validation accuracy (%) for each {fy} and {fx}"
        + (f", mean over {seeds} seeds" if seeds > 1 else "")
        + "\nthe brightest cell (in bold) is the best pair; along a row or a column,\n"
        "the field whose change moves the colour most matters most",
        fontsize=10,
    )
    return fig


DRAW = {ETA_FIGURE: fig_eta, ACCURACY_FIGURE: fig_accuracy, HEATMAP_FIGURE: fig_heatmap}


def draw_all(rows: list[dict], spec: SweepSpec, folder) -> list[Path]:
    """Write every figure that this sweep has data for into ``folder``; return their paths."""
    folder = Path(folder)
    paths = []
    for name, draw in DRAW.items():
        fig = draw(rows, spec)
        if fig is None:
            continue
        path = folder / name
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110)
        paths.append(path)
    return paths
