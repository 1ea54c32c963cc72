"""The figures of the beyond-Level-3 exploration, drawn from its results dict alone.

As ``nndl.explore.figures`` does for Level 3: nothing here trains or loads data, so
``--replot`` redraws a finished exploration from its results.json; figures are built on
``matplotlib.figure.Figure`` (no pyplot, no display) and written atomically. ``captions``
says in a sentence or three what to notice in each, computed from the run it describes; the
figures carry it as their subtitle and the report page shows it beside them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from nndl.explore.beyond import ladder_stats
from nndl.explore.figures import wrap_to_figure as _wrap
from nndl.figstyle import legend_below, legend_beside, plain_log_ticks
from nndl.fileio import atomic_path

FILES = (
    "1_softmax_vs_sigmoid.png",
    "2_learning_rate_schedule.png",
    "3_dropout_vs_l2.png",
    "4_momentum.png",
    "5_hidden_neurons.png",
    "6_expanded_data.png",
    "7_ladder_past_98.png",
)

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
    fig.suptitle(
        "\n".join(
            [_quick(results, title), _wrap(CAPTION[name](results), fig)] + ([_wrap(numbers, fig)] if numbers else [])
        ),
        fontsize=10,
    )
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


def _points(d: float) -> str:
    return f"{abs(d):.1f} point{'' if round(abs(d), 1) == 1 else 's'}"


def _regularizer_effect(what: str, gap0: float, gap: float, val0: float, val: float) -> str:
    """'L2 narrows the gap by 7.7 points and raises validation accuracy by 1.2' (or what it did)."""
    d_gap, d_val = gap - gap0, val - val0
    gap_text = (
        "leaves the gap where it was"
        if abs(d_gap) < 0.05
        else f"narrows the gap by {_points(d_gap)}"
        if d_gap < 0
        else f"widens the gap by {_points(d_gap)}"
    )
    val_text = (
        "validation accuracy too"
        if abs(d_val) < 0.005 and abs(d_gap) < 0.05
        else "leaves validation accuracy where it was"
        if abs(d_val) < 0.005
        else f"raises validation accuracy by {_points(d_val)}"
        if d_val > 0
        else f"lowers validation accuracy by {_points(d_val)}"
    )
    return f"{what} {gap_text} and {val_text}"


def _caption_softmax(results: dict) -> str:
    sig, soft = _first_seed(results, "level3"), _run(results, "softmax")
    a, b = _acc(results, sig), _acc(results, soft)
    n = min(len(a), len(b))
    d = b[:n] - a[:n]  # softmax minus sigmoid, per epoch
    crosses = bool(np.any(np.diff(np.sign(d[np.abs(d) > 1e-9])) != 0))
    text = (
        "Same start, same mini-batches: a softmax output layer with the log-likelihood cost against sigmoid "
        "outputs with cross-entropy (both have output error a - y). "
    )
    if np.max(np.abs(d)) <= 0.5:
        text += f"Here the curves stay within {_points(np.max(np.abs(d)))} of each other over {n} epochs: "
        text += "they learn about as fast. "
    else:
        text += f"Here they differ by up to {_points(np.max(np.abs(d)))} over {n} epochs" + (
            ", and which is ahead changes from epoch to epoch. "
            if crosses
            else f"; softmax is {'ahead' if d[-1] > 0 else 'behind'} at the end ({b[n - 1]:.2f}% against "
            f"{a[n - 1]:.2f}%). "
        )
    return text + "What softmax adds is outputs that form a probability distribution."


def _caption_schedule(results: dict) -> str:
    run = _first_seed(results, "schedule")
    c = run["config"]
    eta = np.asarray(run["history"]["eta"], dtype=float)
    halvings = [int(e) for e in np.flatnonzero(np.diff(eta) < 0) + 1]
    if len(eta) < c["epochs"] and eta[-1] / 2 <= eta[0] / c["schedule_divisor"] * (1 + 1e-9):
        halvings.append(len(eta))  # the last halving stopped the run
    text = (
        f"The book's schedule: eta is halved (dashed lines) each time validation accuracy has gone "
        f"{c['schedule_patience']} epoch{'' if c['schedule_patience'] == 1 else 's'} without a new best, and "
        f"training stops at eta/{c['schedule_divisor']:g}. "
    )
    if halvings:
        stopped = halvings[-1] == len(eta) and len(eta) < c["epochs"]
        text += (
            f"Here eta was halved {len(halvings)} time{'' if len(halvings) == 1 else 's'} (after epoch"
            f"{'' if len(halvings) == 1 else 's'} {', '.join(map(str, halvings))})"
            + (f" and the run stopped after epoch {len(eta)}. " if stopped else f" in {len(eta)} epochs. ")
            + "Look at the curve after each halving: smaller steps let the weights settle."
        )
    else:
        text += f"Here eta was never halved in the {len(eta)} epochs the run had."
    return text


def _caption_dropout(results: dict) -> str:
    runs = {k: _run(results, f"overfit-{k}") for k in ("none", "l2", "dropout")}
    tr = {k: _acc(results, r, "training_accuracy", r["n_train"]) for k, r in runs.items()}
    va = {k: _acc(results, r) for k, r in runs.items()}
    gap = {k: tr[k][-1] - va[k][-1] for k in runs}
    n, sizes = runs["none"]["n_train"], runs["none"]["config"]["sizes"]
    return (
        f"On the first {n:,} training images the book's {sizes} network reaches {tr['none'].max():.1f}% "
        f"training accuracy without regularization; what differs is the validation accuracy. A regularizer "
        f"should narrow the gap between the curves (shaded) and raise validation accuracy; here, after "
        f"{len(va['none'])} epochs, "
        + _regularizer_effect(
            f"L2 (lambda {runs['l2']['config']['lmbda']:g})", gap["none"], gap["l2"], va["none"][-1], va["l2"][-1]
        )
        + ", and "
        + _regularizer_effect(
            f"dropout (p = {runs['dropout']['config']['dropout']:g})",
            gap["none"],
            gap["dropout"],
            va["none"][-1],
            va["dropout"][-1],
        )
        + "."
    )


def _momentum_label(c: dict) -> str:
    return f"mu = {c['momentum']:g} at eta {c['eta']:g}" if c["momentum"] else f"plain SGD at eta {c['eta']:g}"


def _caption_momentum(results: dict) -> str:
    runs = [r for r in results["runs"].values() if r.get("group") == "momentum"]
    ends = [f"{r['history']['training_cost'][-1]:.3f} for {_momentum_label(r['config'])}" for r in runs]
    epochs = len(runs[0]["history"]["training_cost"]) if runs else 0
    return (
        "Training cost per epoch. With momentum mu the steps build up to about eta/(1 - mu), so mu = 0.9 "
        "takes steps about ten times eta. "
        + (
            f"Here, after {epochs} epoch{'' if epochs == 1 else 's'}, the cost is " + ", ".join(ends) + "."
            if runs
            else ""
        )
    )


def _caption_neurons(results: dict) -> str:
    runs = [
        ("sigmoid", _first_seed(results, "level3")),
        ("tanh", _run(results, "neurons-tanh")),
        ("ReLU", _run(results, "neurons-relu")),
    ]
    ends = ", ".join(f"{act} {_acc(results, r)[-1]:.2f}%" for act, r in runs)
    return (
        "Sigmoid, tanh and ReLU hidden neurons, each with the initialization it needs. Right: the share of "
        "saturated neurons (derivative below 4% of its largest value), where learning stalls; for ReLU it is "
        f"the share that is off (z < 0). Validation accuracy at the end: {ends}."
    )


def _caption_expanded(results: dict) -> str:
    plain, shifted = _first_seed(results, "level3"), _run(results, "shifts-constant")
    a, b = _acc(results, plain), _acc(results, shifted)
    seen_a, seen_b = len(a) * plain["n_train"], len(b) * shifted["n_train"] * 5
    return (
        "Left: one digit and the four one-pixel shifts the book adds for each image (and, as an option, small "
        f"rotations). Right: validation accuracy against images seen, for the {plain['n_train']:,} original "
        f"images ({seen_a:,} seen: {a[-1]:.2f}%) and the same expanded with their shifts ({seen_b:,} seen: "
        f"{b[-1]:.2f}%)."
    )


def _caption_ladder(results: dict) -> str:
    rows = ladder_stats(results)
    seeds = len(rows[0]["seeds"]) if rows else 0
    where = results.get("runner")
    return (
        f"Each row adds techniques to the one above; bars are the mean test accuracy of its {seeds} seed"
        f"{'' if seeds == 1 else 's'}, the whiskers the smallest and largest. The dashed line is 98 %. In "
        f"brackets, the mean time of a run in this exploration" + (f" ({where})." if where else ".")
    )


CAPTION = dict(
    zip(
        FILES,
        (
            _caption_softmax,
            _caption_schedule,
            _caption_dropout,
            _caption_momentum,
            _caption_neurons,
            _caption_expanded,
            _caption_ladder,
        ),
    )
)


def captions(results: dict) -> dict[str, str]:
    """What to notice in each figure, in a sentence or three, computed from the run it describes
    (a quick run's figures say what its own numbers show). The figures carry each as their
    subtitle; the report page prints it beside them."""
    return {name: make(results) for name, make in CAPTION.items()}


def fig_softmax(results: dict) -> Figure:
    name = FILES[0]
    fig, (ax,) = _figure(results, name, "Softmax + log-likelihood against sigmoid + cross-entropy", (10, 5.6))
    for run, colour, label in (
        (_first_seed(results, "level3"), COLOURS[0], "sigmoid outputs, cross-entropy"),
        (_run(results, "softmax"), COLOURS[1], "softmax outputs, log-likelihood"),
    ):
        acc = _acc(results, run)
        ax.plot(
            _epochs(acc),
            acc,
            "o-",
            ms=3,
            color=colour,
            label=f"{label}: final {acc[-1]:.2f}% (test {100 * run['final']['test_accuracy']:.2f}%)",
        )
    cfg = _run(results, "softmax")["config"]
    ax.set(
        title=f"{cfg['sizes']}, lambda {cfg['lmbda']:g}, eta {cfg['eta']:g}, same seed",
        xlabel="epoch",
        ylabel="validation accuracy (%)",
    )
    ax.grid(alpha=0.3)
    legend_below(fig, ax)
    return fig


def fig_schedule(results: dict) -> Figure:
    name = FILES[1]
    run = _first_seed(results, "schedule")
    fig = Figure(figsize=(11, 7), layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
    fig.suptitle(
        _quick(results, "The book's learning-rate schedule") + "\n" + _wrap(CAPTION[name](results), fig), fontsize=10
    )
    acc = _acc(results, run)
    eta = np.asarray(run["history"]["eta"], dtype=float)
    x = _epochs(acc)
    ax1.plot(x, acc, "o-", ms=2.5, color=COLOURS[0], label="validation accuracy")
    best = int(np.argmax(acc))
    ax1.annotate(
        f"best {acc[best]:.2f}% (epoch {best + 1})",
        xy=(best + 1, acc[best]),
        xytext=(0.5, 0.2),
        textcoords="axes fraction",
        arrowprops={"arrowstyle": "->"},
    )
    halvings = [int(e) for e in np.flatnonzero(np.diff(eta) < 0) + 1]  # last epoch at the old eta
    for e in halvings:
        for ax in (ax1, ax2):
            ax.axvline(e + 0.5, color="0.5", ls="--", lw=0.8)
    stopped = run["history"].get("stopped") or f"it ran all its {len(acc)} epochs"
    ax1.set(
        ylabel="validation accuracy (%)",
        title=_wrap(
            f"{run['config']['sizes']}, eta0 {eta[0]:g}, patience {run['config']['schedule_patience']} "
            f"epochs: {stopped}",
            fig,
            9,
        ),
    )
    ax1.grid(alpha=0.3)
    ax1.legend(loc="lower right")
    ax2.step(x, eta, where="mid", color=COLOURS[1])
    ax2.set_yscale("log", base=2)
    plain_log_ticks(ax2.yaxis, base=2)  # 0.5, 0.25, ...: not 2^-1
    ax2.set(xlabel="epoch", ylabel="eta")
    ax2.grid(alpha=0.3)
    return fig


def fig_dropout(results: dict) -> Figure:
    name = FILES[2]
    runs = [(k, _run(results, f"overfit-{k}")) for k in ("none", "l2", "dropout")]
    n_train = runs[0][1]["n_train"]
    fig, axes = _figure(results, name, f"Dropout against L2 on the first {n_train:,} training images", (16, 5.6), 3)
    titles = {"none": "no regularization", "l2": "L2, lambda {lmbda:g}", "dropout": "dropout p = {dropout:g}"}
    for ax, (key, run) in zip(axes, runs):
        tr = _acc(results, run, "training_accuracy", run["n_train"])
        va = _acc(results, run)
        x = _epochs(tr)
        ax.plot(x, tr, color=COLOURS[2], label=f"training ({run['n_train']:,} images)")
        ax.plot(x, va, color=COLOURS[3], label=f"validation ({results['sizes']['validation']:,} images)")
        ax.fill_between(x, va, tr, color="0.88")
        ax.set(
            title=titles[key].format(**run["config"]) + f": validation {va[-1]:.2f}%, gap {tr[-1] - va[-1]:.1f}",
            xlabel="epoch",
            ylabel="accuracy (%)",
            ylim=(min(60, va.min()), 101),
        )
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    return fig


def fig_momentum(results: dict) -> Figure:
    name = FILES[3]
    runs = [r for k, r in results["runs"].items() if r.get("group") == "momentum"]
    fig, (ax1, ax2) = _figure(results, name, "Momentum against plain SGD", (14, 5.6), 2)
    for colour, run in zip(COLOURS, runs):
        c = run["config"]
        label = f"momentum mu {c['momentum']:g}, eta {c['eta']:g}" if c["momentum"] else f"plain SGD, eta {c['eta']:g}"
        cost = np.asarray(run["history"]["training_cost"], dtype=float)
        ax1.plot(_epochs(cost), cost, "o-", ms=3, color=colour, label=label)
        acc = _acc(results, run)
        ax2.plot(_epochs(acc), acc, "o-", ms=3, color=colour, label=f"{label}: {acc[-1]:.2f}%")
    ax1.set(title="training cost (cross-entropy + L2 term)", xlabel="epoch", ylabel="cost")
    ax1.set_yscale("log")
    plain_log_ticks(ax1.yaxis)  # 2, 3: not 3 x 10^0
    ax2.set(title="validation accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    legend_beside(ax2)  # the same runs, the same colours
    return fig


def fig_neurons(results: dict) -> Figure:
    name = FILES[4]
    runs = [
        ("sigmoid", _first_seed(results, "level3")),
        ("tanh", _run(results, "neurons-tanh")),
        ("relu", _run(results, "neurons-relu")),
    ]
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
    ax2.set(
        title="saturated hidden neurons\n(share of neuron-image pairs, 1,000 validation images)",
        xlabel="epoch (0: before training)",
        ylabel="saturated (%)",
        ylim=(0, 100),
    )
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    return fig


def fig_expanded(results: dict) -> Figure:
    name = FILES[5]
    fig = Figure(figsize=(15, 6), layout="constrained")
    fig.suptitle(
        _quick(results, "Artificially expanded training data (the book's expand_mnist.py)")
        + "\n"
        + _wrap(CAPTION[name](results), fig),
        fontsize=10,
    )
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
    for colour, run, label in (
        (COLOURS[0], plain, f"the {plain['n_train']:,} images"),
        (COLOURS[2], shifted, f"expanded with shifts: {5 * shifted['n_train']:,}"),
    ):
        acc = _acc(results, run)
        seen = np.arange(1, len(acc) + 1) * run["n_train"] * (5 if run["config"]["expand"] == "shifts" else 1)
        ax.plot(
            seen / 1e6,
            acc,
            "o-",
            ms=3,
            color=colour,
            label=f"{label}: final {acc[-1]:.2f}% (test {100 * run['final']['test_accuracy']:.2f}%)",
        )
    cfg = _run(results, "shifts-constant")["config"]
    ax.set(
        title=f"{cfg['sizes']}, eta {cfg['eta']:g}, lambda {cfg['lmbda']:g}, no schedule",
        xlabel="training images seen (millions)",
        ylabel="validation accuracy (%)",
    )
    ax.grid(alpha=0.3)
    legend_below(right, ax, ncol=1)
    return fig


def fig_ladder(results: dict) -> Figure:
    """Bars with whiskers; each row's name on the left and its numbers on the right, outside the
    plot, so that no label crosses a bar's whisker or the 98 % line."""
    name = FILES[6]
    rows = ladder_stats(results)
    fig, (ax,) = _figure(
        results,
        name,
        "The ladder past 98 %: the book's chapter 3, technique by technique",
        (12, 1.6 + 0.75 * len(rows)),
    )
    y = np.arange(len(rows))[::-1]
    mean = np.array([r["test_mean"] for r in rows])
    err = np.array([[r["test_mean"] - r["test_min"] for r in rows], [r["test_max"] - r["test_mean"] for r in rows]])
    lo = min(97.0, float(np.floor(mean.min() - 0.5)))
    hi = max(99.3, float(np.max(err[1] + mean)) + 0.3)
    ax.barh(y, mean - lo, left=lo, xerr=err, color="#aec7e8", capsize=4, height=0.6)
    ax.axvline(98.0, color="k", ls="--", lw=1)
    ax.set_yticks(y, ["\n".join(textwrap.wrap(r["short"], 30)) for r in rows], fontsize=8)
    numbers = ax.twinx()  # the numbers, beside the plot
    numbers.set_ylim(ax.get_ylim())
    numbers.set_yticks(
        y, [f"{r['test_mean']:.2f}%  ({r['seconds_mean']:.0f} s)" for r in rows], fontsize=9, fontweight="bold"
    )
    numbers.tick_params(length=0)
    ax.set(
        xlim=(lo, hi),
        xlabel=f"test accuracy (%), mean of {len(rows[0]['seeds']) if rows else 0} seeds; in brackets: the "
        f"mean time of a run in this exploration",
    )
    ax.grid(alpha=0.3, axis="x")
    return fig


DRAW = dict(zip(FILES, (fig_softmax, fig_schedule, fig_dropout, fig_momentum, fig_neurons, fig_expanded, fig_ladder)))


def draw_all(results: dict, folder) -> list[Path]:
    """Write the seven PNGs into ``folder``; return their paths."""
    folder = Path(folder)
    return [_save(draw(results), folder, name) for name, draw in DRAW.items()]
