"""The figures of the beyond-Level-3 exploration, drawn from its results dict alone.

As ``nndl.explore.figures`` does for Level 3: nothing here trains or loads data, so
``--replot`` redraws a finished exploration from its results.json; figures are built on
``matplotlib.figure.Figure`` (no pyplot, no display) and written atomically. ``CAPTIONS``
says in a sentence or two what to notice in each; the figures carry it as their subtitle
and the report page shows it beside them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from nndl.explore.beyond import ladder_stats
from nndl.explore.figures import wrap_to_figure as _wrap
from nndl.fileio import atomic_path

FILES = ("1_softmax_vs_sigmoid.png", "2_learning_rate_schedule.png", "3_dropout_vs_l2.png", "4_momentum.png",
         "5_hidden_neurons.png", "6_expanded_data.png", "7_ladder_past_98.png")

CAPTIONS = {
    "1_softmax_vs_sigmoid.png":
        "Same start, same mini-batches: a softmax output layer with the log-likelihood cost learns about as fast "
        "as sigmoid outputs with cross-entropy (both have output error a - y). The curves cross back and forth "
        "within about half a point, the epoch-to-epoch noise of a constant eta; what softmax adds is outputs "
        "that form a probability distribution.",
    "2_learning_rate_schedule.png":
        "The book's schedule: eta is halved (dashed lines) each time validation accuracy has gone 10 epochs "
        "without a new best, and training stops at eta/128. The accuracy curve calms down after each halving: "
        "smaller steps let the weights settle.",
    "3_dropout_vs_l2.png":
        "On 1,000 training images the book's [784, 30, 10] network soon gets every training image right; what "
        "differs is the validation accuracy. L2 and dropout both narrow the gap between the curves (shaded) and "
        "raise validation accuracy: they regularize.",
    "4_momentum.png":
        "Training cost per epoch. With momentum mu the steps build up to about eta/(1 - mu): mu = 0.9 at "
        "eta 0.05 goes down much as plain SGD at eta 0.5 does, and far faster than plain SGD at the same eta.",
    "5_hidden_neurons.png":
        "Sigmoid, tanh and ReLU hidden neurons, each with the initialization it needs. Right: the share of "
        "saturated neurons (derivative below 4% of its largest value), where learning stalls; for ReLU "
        "it is the share that is off (z < 0).",
    "6_expanded_data.png":
        "Left: one digit and the four one-pixel shifts the book adds for each image (and, as an option, small "
        "rotations). Right: for the same number of images seen, the expanded data keeps improving where the "
        "original 50,000 have stopped.",
    "7_ladder_past_98.png":
        "Each row adds techniques to the one above; bars are the mean test accuracy of its three seeds, the "
        "whiskers the smallest and largest. The dashed line is 98 %.",
}

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _quick(results: dict, text: str) -> str:
    return f"{text}  [quick run: small data, few epochs]" if results["options"].get("quick") else text


def _save(fig: Figure, folder: Path, name: str) -> Path:
    for ax in fig.axes:
        if ax.get_xlabel().startswith("epoch"):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    path = folder / name
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path


def _figure(results: dict, name: str, title: str, size, ncols: int = 1, numbers: str = ""):
    """A figure with its title, its caption and (``numbers``) what this run measured, wrapped."""
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(1, ncols) if ncols > 1 else [fig.subplots()]
    fig.suptitle("\n".join([_quick(results, title), _wrap(CAPTIONS[name], fig)]
                           + ([_wrap(numbers, fig)] if numbers else [])), fontsize=10)
    return fig, axes


def _acc(results: dict, run: dict, key: str = "evaluation_accuracy", n: int | None = None) -> np.ndarray:
    n = n or results["sizes"]["validation"]
    return 100.0 * np.asarray(run["history"][key], dtype=float) / n


def _epochs(values) -> np.ndarray:
    return np.arange(1, len(values) + 1)


def _run(results: dict, name: str) -> dict:
    return results["runs"][name]


def _first_seed(results: dict, key: str) -> dict:
    return _run(results, f"{key}-seed{results['options']['seed']}")


def fig_softmax(results: dict) -> Figure:
    name = FILES[0]
    fig, (ax,) = _figure(results, name, "Softmax + log-likelihood against sigmoid + cross-entropy", (10, 5.6))
    for run, colour, label in ((_first_seed(results, "level3"), COLOURS[0], "sigmoid outputs, cross-entropy"),
                               (_run(results, "softmax"), COLOURS[1], "softmax outputs, log-likelihood")):
        acc = _acc(results, run)
        ax.plot(_epochs(acc), acc, "o-", ms=3, color=colour,
                label=f"{label}: final {acc[-1]:.2f}% (test {100 * run['final']['test_accuracy']:.2f}%)")
    cfg = _run(results, "softmax")["config"]
    ax.set(title=f"{cfg['sizes']}, lambda {cfg['lmbda']:g}, eta {cfg['eta']:g}, same seed", xlabel="epoch",
           ylabel="validation accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def fig_schedule(results: dict) -> Figure:
    name = FILES[1]
    run = _first_seed(results, "schedule")
    fig = Figure(figsize=(11, 7), layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
    fig.suptitle(_quick(results, "The book's learning-rate schedule") + "\n" + _wrap(CAPTIONS[name], fig),
                 fontsize=10)
    acc = _acc(results, run)
    eta = np.asarray(run["history"]["eta"], dtype=float)
    x = _epochs(acc)
    ax1.plot(x, acc, "o-", ms=2.5, color=COLOURS[0], label="validation accuracy")
    best = int(np.argmax(acc))
    ax1.annotate(f"best {acc[best]:.2f}% (epoch {best + 1})", xy=(best + 1, acc[best]), xytext=(0.5, 0.2),
                 textcoords="axes fraction", arrowprops={"arrowstyle": "->"})
    halvings = [int(e) for e in np.flatnonzero(np.diff(eta) < 0) + 1]      # last epoch at the old eta
    for e in halvings:
        for ax in (ax1, ax2):
            ax.axvline(e + 0.5, color="0.5", ls="--", lw=0.8)
    stopped = run["history"].get("stopped") or f"it ran all its {len(acc)} epochs"
    ax1.set(ylabel="validation accuracy (%)",
            title=_wrap(f"{run['config']['sizes']}, eta0 {eta[0]:g}, patience {run['config']['schedule_patience']} "
                        f"epochs: {stopped}", fig, 9))
    ax1.grid(alpha=0.3)
    ax1.legend(loc="lower right")
    ax2.step(x, eta, where="mid", color=COLOURS[1])
    ax2.set_yscale("log", base=2)
    ax2.set(xlabel="epoch", ylabel="eta")
    ax2.grid(alpha=0.3)
    return fig


def fig_dropout(results: dict) -> Figure:
    name = FILES[2]
    runs = [(k, _run(results, f"overfit-{k}")) for k in ("none", "l2", "dropout")]
    n_train = runs[0][1]["n_train"]
    fig, axes = _figure(results, name, f"Dropout against L2 on the first {n_train:,} training images", (16, 5.6), 3,
                        numbers=overfit_summary(results))
    titles = {"none": "no regularization", "l2": "L2, lambda {lmbda:g}", "dropout": "dropout p = {dropout:g}"}
    for ax, (key, run) in zip(axes, runs):
        tr = _acc(results, run, "training_accuracy", run["n_train"])
        va = _acc(results, run)
        x = _epochs(tr)
        ax.plot(x, tr, color=COLOURS[2], label=f"training ({run['n_train']:,} images)")
        ax.plot(x, va, color=COLOURS[3], label=f"validation ({results['sizes']['validation']:,} images)")
        ax.fill_between(x, va, tr, color="0.88")
        ax.set(title=titles[key].format(**run["config"]) + f": validation {va[-1]:.2f}%, gap {tr[-1] - va[-1]:.1f}",
               xlabel="epoch", ylabel="accuracy (%)", ylim=(min(60, va.min()), 101))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    return fig


def overfit_summary(results: dict) -> str:
    """What figure 3 shows in this run, in numbers: each run's final gap and validation accuracy."""
    parts = []
    for key, what in (("none", "without regularization"), ("l2", "with L2"), ("dropout", "with dropout")):
        run = _run(results, f"overfit-{key}")
        tr, va = _acc(results, run, "training_accuracy", run["n_train"]), _acc(results, run)
        parts.append(f"{tr[-1] - va[-1]:.1f} points {what} ({va[-1]:.2f}% validation)")
    return f"Here, after {len(va)} epochs, the gap is " + ", ".join(parts[:-1]) + " and " + parts[-1] + "."


def fig_momentum(results: dict) -> Figure:
    name = FILES[3]
    runs = [r for k, r in results["runs"].items() if r.get("group") == "momentum"]
    fig, (ax1, ax2) = _figure(results, name, "Momentum against plain SGD", (14, 5.6), 2)
    for colour, run in zip(COLOURS, runs):
        c = run["config"]
        label = (f"momentum mu {c['momentum']:g}, eta {c['eta']:g}" if c["momentum"] else f"plain SGD, eta {c['eta']:g}")
        cost = np.asarray(run["history"]["training_cost"], dtype=float)
        ax1.plot(_epochs(cost), cost, "o-", ms=3, color=colour, label=label)
        acc = _acc(results, run)
        ax2.plot(_epochs(acc), acc, "o-", ms=3, color=colour, label=f"{label}: {acc[-1]:.2f}%")
    ax1.set(title="training cost (cross-entropy + L2 term)", xlabel="epoch", ylabel="cost")
    ax1.set_yscale("log")
    ax2.set(title="validation accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    return fig


def fig_neurons(results: dict) -> Figure:
    name = FILES[4]
    runs = [("sigmoid", _first_seed(results, "level3")), ("tanh", _run(results, "neurons-tanh")),
            ("relu", _run(results, "neurons-relu"))]
    fig, (ax1, ax2) = _figure(results, name, "Sigmoid, tanh and ReLU hidden neurons", (14, 5.6), 2)
    for colour, (act, run) in zip(COLOURS, runs):
        c = run["config"]
        init = {"default": "N(0, 1/n_in)", "he": "N(0, 2/n_in)", "large": "N(0, 1)"}[c["init"]]
        acc = _acc(results, run)
        label = f"{act}, {init} init, eta {c['eta']:g}"
        ax1.plot(_epochs(acc), acc, "o-", ms=3, color=colour, label=f"{label}: {acc[-1]:.2f}%")
        sat = [100 * s[0] for s in run["history"].get("saturation", [])]
        if sat:
            ax2.plot(np.arange(len(sat)), sat, "o-", ms=3, color=colour, label=act)
    ax1.set(title="validation accuracy", xlabel="epoch", ylabel="accuracy (%)")
    ax2.set(title="saturated hidden neurons\n(share of neuron-image pairs, 1,000 validation images)",
            xlabel="epoch (0: before training)", ylabel="saturated (%)", ylim=(0, 100))
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    return fig


def fig_expanded(results: dict) -> Figure:
    name = FILES[5]
    fig = Figure(figsize=(15, 6), layout="constrained")
    fig.suptitle(_quick(results, "Artificially expanded training data (the book's expand_mnist.py)") + "\n"
                 + _wrap(CAPTIONS[name], fig), fontsize=10)
    left, right = fig.subfigures(1, 2, width_ratios=(1, 1.3))
    samples = results["samples"]
    axes = left.subplots(2, 4)
    names = ("original", "down 1", "up 1", "right 1", "left 1")
    for ax, img, label in zip(axes.flat, samples["shifts"], names):
        ax.imshow(np.asarray(img), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(label, fontsize=9)
    for ax, img, angle in zip(list(axes.flat)[5:], samples["rotations"]["images"], samples["rotations"]["angles"]):
        ax.imshow(np.asarray(img), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"rotated {angle:+d} deg", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    ax = right.subplots()
    plain, shifted = _first_seed(results, "level3"), _run(results, "shifts-constant")
    for colour, run, label in ((COLOURS[0], plain, f"the {plain['n_train']:,} images"),
                               (COLOURS[2], shifted, f"expanded with shifts: {5 * shifted['n_train']:,}")):
        acc = _acc(results, run)
        seen = np.arange(1, len(acc) + 1) * run["n_train"] * (5 if run["config"]["expand"] == "shifts" else 1)
        ax.plot(seen / 1e6, acc, "o-", ms=3, color=colour,
                label=f"{label}: final {acc[-1]:.2f}% (test {100 * run['final']['test_accuracy']:.2f}%)")
    cfg = _run(results, "shifts-constant")["config"]
    ax.set(title=f"{cfg['sizes']}, eta {cfg['eta']:g}, lambda {cfg['lmbda']:g}, no schedule",
           xlabel="training images seen (millions)", ylabel="validation accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def fig_ladder(results: dict) -> Figure:
    name = FILES[6]
    rows = ladder_stats(results)
    fig, (ax,) = _figure(results, name, "The ladder past 98 %: the book's chapter 3, technique by technique",
                         (12, 1.2 + 0.9 * len(rows)))
    y = np.arange(len(rows))[::-1]
    mean = np.array([r["test_mean"] for r in rows])
    err = np.array([[r["test_mean"] - r["test_min"] for r in rows], [r["test_max"] - r["test_mean"] for r in rows]])
    lo = min(97.0, float(np.floor(mean.min() - 0.5)))
    hi = max(99.3, float(np.max(err[1] + mean)) + 0.6)
    ax.barh(y, mean - lo, left=lo, xerr=err, color="#aec7e8", capsize=4)
    for yi, r in zip(y, rows):
        ax.text(lo + 0.02, yi + 0.28, r["step"], va="center", fontsize=8)
        ax.text(r["test_max"] + 0.03, yi, f"{r['test_mean']:.2f}%  ({r['seconds_mean']:.0f} s)", va="center",
                fontsize=9, weight="bold")
    ax.axvline(98.0, color="k", ls="--", lw=1)
    ax.set_yticks([])
    ax.set(xlim=(lo, hi),
           xlabel=f"test accuracy (%), mean of {len(rows[0]['seeds']) if rows else 0} seeds; time: mean seconds a run")
    ax.grid(alpha=0.3, axis="x")
    return fig


DRAW = dict(zip(FILES, (fig_softmax, fig_schedule, fig_dropout, fig_momentum, fig_neurons, fig_expanded,
                        fig_ladder)))


def draw_all(results: dict, folder) -> list[Path]:
    """Write the seven PNGs into ``folder``; return their paths."""
    folder = Path(folder)
    return [_save(draw(results), folder, name) for name, draw in DRAW.items()]
