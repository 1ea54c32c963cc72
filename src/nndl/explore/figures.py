"""The five Level 3 figures, drawn from a results dict (``nndl.explore.runs``) alone.

Nothing here trains or loads data, so ``--replot`` redraws a finished exploration from its
results.json. Figures are built on ``matplotlib.figure.Figure`` (no pyplot, no global
state, no display needed) and written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from nndl.fileio import atomic_path

FILES = (
    "1_cross_entropy_advantage.png",
    "2_cost_comparison.png",
    "3_regularization_effect.png",
    "4_initialization_comparison.png",
    "5_full_training.png",
)

QUAD, CE = "#d62728", "#1f77b4"  # one colour per cost, kept across figures


def _pct(history: dict, key: str, n: int) -> np.ndarray:
    return 100.0 * np.asarray(history[key], dtype=float) / n


def _eval_n(results: dict, run: dict) -> int:
    return results["sizes"][run["evaluation_data"]]


def _acc(results: dict, name: str) -> np.ndarray:
    run = results["runs"][name]
    return _pct(run["history"], "evaluation_accuracy", _eval_n(results, run))


def _apart(d: float) -> str:
    return "level (within 0.05 points)" if abs(d) < 0.05 else f"{abs(d):.2f} points apart"


def _caption_slowdown(results: dict) -> str:
    return (
        "A single neuron starts out badly wrong and saturated. With the quadratic cost (red) it hardly moves "
        "for dozens of epochs, because its gradient carries sigma'(z), which is almost 0 there; with "
        "cross-entropy (blue) it learns fastest when it is most wrong: the right panel shows its error signal "
        "is |a - y| itself."
    )


def _caption_costs(results: dict) -> str:
    quad, ce = _acc(results, "baseline"), _acc(results, "cross-entropy")
    eq, ec = results["runs"]["baseline"]["config"]["eta"], results["runs"]["cross-entropy"]["config"]["eta"]
    ahead = "ahead" if ce[0] > quad[0] else "behind"
    return (
        f"The same network, initial weights and mini-batch order, each cost at the learning rate that suits it "
        f"(the quadratic cost's gradient carries sigma'(z), at most 1/4, so it needs the larger eta: {eq:g} "
        f"against {ec:g}). Look at the first epochs: here cross-entropy is {ahead} after epoch 1 ({ce[0]:.2f}% "
        f"against {quad[0]:.2f}%), and after {len(ce)} epoch{'' if len(ce) == 1 else 's'} the two end "
        f"{_apart(ce[-1] - quad[-1])} ({ce[-1]:.2f}% against {quad[-1]:.2f}%)."
    )


def _caption_overfitting(results: dict) -> str:
    runs = [results["runs"][k] for k in ("overfit-lambda-0", "overfit-lambda-0.1")]
    tr = [_pct(r["history"], "training_accuracy", r["n_train"]) for r in runs]
    te = [_pct(r["history"], "evaluation_accuracy", _eval_n(results, r)) for r in runs]
    gap = [t[-1] - e[-1] for t, e in zip(tr, te)]
    n, lam = runs[0]["n_train"], runs[1]["config"]["lmbda"]
    d_gap, d_test = gap[1] - gap[0], te[1][-1] - te[0][-1]
    effect = (
        "leaves the gap where it was"
        if abs(d_gap) < 0.05
        else f"narrows the gap by {abs(d_gap):.1f} points"
        if d_gap < 0
        else f"widens the gap by {d_gap:.1f} points"
    )
    test = (
        "and the test accuracy too"
        if abs(d_test) < 0.005
        else f"and {'lifts' if d_test > 0 else 'lowers'} the test accuracy by {abs(d_test):.1f} points"
    )
    full = results["runs"].get("full") or {}
    n_full, lam_full = full.get("n_train"), (full.get("config") or {}).get("lmbda")
    same = n_full and lam_full and abs(lam / n - lam_full / n_full) < 1e-3 * lam_full / n_full
    strength = (
        f"{lam:g}/{n:,} is the same strength as {lam_full:g}/{n_full:,}"
        if same
        else f"{lam:g}/{n:,} here, against {lam_full:g}/{n_full:,} in the other runs"
        if n_full and lam_full
        else f"{lam:g}/{n:,} here"
    )
    return (
        f"Trained on {n:,} images only: without regularization (left) training accuracy reaches "
        f"{tr[0].max():.1f}% while test accuracy ends at {te[0][-1]:.1f}%, and the grey gap between them is "
        f"overfitting. Here L2 with lambda {lam:g} (right) {effect} {test}. The decay per step is "
        f"eta*lambda/n: {strength}."
    )


def _caption_initialization(results: dict) -> str:
    zd = results["z_distribution"]
    big, small = zd["large"]["saturated_fraction"], zd["default"]["saturated_fraction"]
    old, new = _acc(results, "regularized"), _acc(results, "better-init")
    lam = results["runs"]["better-init"]["config"]["lmbda"]
    return (
        f"With N(0, 1) weights {100 * big:.0f}% of the hidden neurons' z values start saturated - |z| > 4.6, "
        f"where sigma'(z) < 0.01 and they barely learn (left); N(0, 1/n_in) keeps z near 0 ({100 * small:.0f}% "
        f"saturated, middle). The payoff (right) is in the first epochs: here epoch 1 reads {new[0]:.1f}% "
        f"against {old[0]:.1f}%; after {len(new)} epoch{'' if len(new) == 1 else 's'} with lambda {lam:g} "
        f"they end {_apart(new[-1] - old[-1])}; the book observes both end level after 30."
    )


def _caption_full(results: dict) -> str:
    run = results["runs"]["full"]
    h = run["history"]
    acc = _pct(h, "evaluation_accuracy", _eval_n(results, run))
    cost = np.asarray(h.get("evaluation_cost") or [np.nan], dtype=float)
    n_val, n_train = _eval_n(results, run), run["n_train"]
    moves = "rises" if cost[-1] > cost[0] else "falls"
    text = (
        f"Everything together. Validation accuracy goes from {acc[0]:.2f}% after epoch 1 to {acc[-1]:.2f}% "
        f"after epoch {len(acc)}, and the validation cost {moves} ({cost[0]:.3f} to {cost[-1]:.3f}). network2 "
        f"adds the L2 term divided by the evaluated set's size ({n_val:,} validation images against {n_train:,} "
        f"training: {n_train / n_val:.1f} times the training set's term), and it grows with the weights"
    )
    bare = h.get("evaluation_cost_without_regularization")
    if bare:
        falls = bare[-1] < bare[0]
        text += f"; without that term (dashed) the validation cost {'falls' if falls else 'rises'}" + (
            ": the rise is the L2 term, not overfitting." if falls and moves == "rises" else "."
        )
    return text + ("" if bare else ".")


CAPTION = dict(
    zip(FILES, (_caption_slowdown, _caption_costs, _caption_overfitting, _caption_initialization, _caption_full))
)


def captions(results: dict) -> dict[str, str]:
    """What to notice in each figure, in a sentence or three, computed from the run it describes
    (a quick run's captions give its own numbers); the report page prints them beside the figures."""
    return {name: make(results) for name, make in CAPTION.items()}


def _title(results: dict, text: str) -> str:
    return f"{text}  [quick run: small data, few epochs]" if results["options"].get("quick") else text


def wrap_to_figure(text: str, fig: Figure, per_inch: int = 11) -> str:
    """``text`` in lines that fit the figure's width: about 11 characters an inch at font size
    10 (a caption), 9 at the axes titles' 12."""
    import textwrap

    return "\n".join(textwrap.wrap(text, int(fig.get_figwidth() * per_inch)))


def _captioned(fig: Figure, caption: str) -> Figure:
    """The figure's caption (what to notice) under its title, where the reader looks first."""
    title = fig._suptitle.get_text() if fig._suptitle is not None else ""
    fig.suptitle(title + "\n" + wrap_to_figure(caption, fig), fontsize=10)
    return fig


def _save(fig: Figure, folder: Path, name: str, caption: str) -> Path:
    _captioned(fig, caption)
    for ax in fig.axes:
        if ax.get_xlabel() == "epoch":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    path = folder / name
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path


def _epochs(values) -> np.ndarray:
    return np.arange(1, len(values) + 1)


def fig_cross_entropy_advantage(results: dict) -> Figure:
    """One neuron learning to output 0 from a bad start, and the gradient size against a."""
    demo, curve = results["slowdown"], results["gradient_curve"]
    fig = Figure(figsize=(15, 4.6), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    for name, colour, label in (("quadratic", QUAD, "quadratic cost"), ("cross-entropy", CE, "cross-entropy cost")):
        run = demo["runs"][name]
        ax1.plot(
            run["output"], color=colour, label=f"{label}: a = {run['output'][-1]:.3f}\nafter {demo['epochs']} epochs"
        )
        ax2.plot(run["cost"], color=colour, label=label)
    ax1.set(
        title=f"One neuron, input x = 1, target y = 0\nstart w = b = {demo['w0']:g}, "
        f"eta = {demo['eta']:g}: wrong and saturated",
        xlabel="epoch",
        ylabel="neuron output a",
        ylim=(0, 1),
    )
    ax1.legend(loc="center left", bbox_to_anchor=(0.1, 0.5), fontsize=8)  # the empty middle, off both curves
    ax2.set(title="Cost during the same training", xlabel="epoch", ylabel="cost C")
    ax2.legend()
    ax2.annotate(
        "quadratic: a long plateau\nwhile sigma'(z) ~ 0",
        xy=(60, demo["runs"]["quadratic"]["cost"][60]),
        xytext=(0.4, 0.5),
        textcoords="axes fraction",
        fontsize=9,
        arrowprops={"arrowstyle": "->", "color": QUAD},
        color=QUAD,
    )
    a = np.asarray(curve["a"])
    ax3.plot(a, curve["cross-entropy"], color=CE, label="cross-entropy: |a - y|")
    ax3.plot(a, curve["quadratic"], color=QUAD, label="quadratic: |a - y| sigma'(z)")
    ax3.set(
        title="Size of the output error dC/dz, target y = 1",
        xlabel="output a  (target 1: a near 0 is very wrong)",
        ylabel="|dC/dz|  (how fast the weights move)",
    )
    i = int(np.argmin(np.abs(a - 0.05)))
    ax3.annotate(
        f"a = 0.05: cross-entropy {curve['cross-entropy'][i]:.2f}\nvs quadratic {curve['quadratic'][i]:.3f}",
        xy=(a[i], curve["quadratic"][i]),
        xytext=(0.3, 0.55),
        fontsize=8,
        arrowprops={"arrowstyle": "->"},
    )
    ax3.legend()
    fig.suptitle(_title(results, "Cross-entropy removes the learning slowdown of the quadratic cost"))
    return fig


def fig_cost_comparison(results: dict) -> Figure:
    """Validation accuracy per epoch: quadratic (eta 3.0) against cross-entropy (eta 0.5), paired."""
    fig = Figure(figsize=(9, 5.2), layout="constrained")
    ax = fig.subplots()
    for name, colour in (("baseline", QUAD), ("cross-entropy", CE)):
        run = results["runs"][name]
        cfg = run["config"]
        acc = _pct(run["history"], "evaluation_accuracy", _eval_n(results, run))
        ax.plot(
            _epochs(acc),
            acc,
            "o-",
            ms=3,
            color=colour,
            label=f"{cfg['cost']} cost, eta {cfg['eta']:g}: final {acc[-1]:.2f}% "
            f"(test {100 * run['final']['test_accuracy']:.2f}%)",
        )
    cfg = results["runs"]["baseline"]["config"]
    fig.suptitle(_title(results, f"Quadratic vs cross-entropy on MNIST: {cfg['sizes']}, N(0,1) init, lambda 0"))
    ax.set(
        title="same initial weights and mini-batch order; each cost at the learning rate that suits it",
        xlabel="epoch",
        ylabel="validation accuracy (%)",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def fig_regularization_effect(results: dict) -> Figure:
    """The overfitting demo: training vs test accuracy on 1,000 images, lambda 0 and 0.1."""
    fig = Figure(figsize=(14, 5.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, name in zip(axes, ("overfit-lambda-0", "overfit-lambda-0.1")):
        run = results["runs"][name]
        h, n_eval = run["history"], _eval_n(results, run)
        tr = _pct(h, "training_accuracy", run["n_train"])
        te = _pct(h, "evaluation_accuracy", n_eval)
        x = _epochs(tr)
        ax.plot(x, tr, color="#2ca02c", label=f"training accuracy ({run['n_train']:,} images)")
        ax.plot(x, te, color="#9467bd", label=f"test accuracy ({n_eval:,} images)")
        ax.fill_between(x, te, tr, color="0.85")
        gap = tr[-1] - te[-1]
        ax.annotate(
            "",
            xy=(x[-1], tr[-1]),
            xytext=(x[-1], te[-1]),
            arrowprops={"arrowstyle": "<->", "color": "black", "lw": 1.5},
        )
        ax.text(
            0.97 * x[-1],
            (tr[-1] + te[-1]) / 2,
            f"gap at the end: {gap:.1f} points\n(training {tr[-1]:.1f}%, test {te[-1]:.1f}%)",
            ha="right",
            va="center",
            fontsize=9,
        )
        ax.set(title=f"lambda = {run['config']['lmbda']:g}", xlabel="epoch", ylabel="accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    cfg = results["runs"]["overfit-lambda-0"]["config"]
    fig.suptitle(
        _title(
            results,
            f"Overfitting and L2 regularization: {cfg['sizes']}, cross-entropy, eta {cfg['eta']:g}, "
            f"N(0,1) init, trained on the first {results['runs']['overfit-lambda-0']['n_train']:,} "
            f"images\n(as in the book, this demo watches the test set; nothing else does)",
        )
    )
    return fig


def fig_initialization_comparison(results: dict) -> Figure:
    """z in the first hidden layer under both initializations, and the learning that follows."""
    zd = results["z_distribution"]
    fig = Figure(figsize=(17, 5.2), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    for ax, name, colour, label in (
        (ax1, "large", QUAD, "weights N(0, 1)"),
        (ax2, "default", CE, "weights N(0, 1/n_in)"),
    ):
        d = zd[name]
        edges = np.asarray(d["edges"])
        ax.stairs(d["counts"], edges, fill=True, color=colour, alpha=0.7)
        ax.axvspan(-4.6, 4.6, color="0.9", zorder=0, label="not saturated: |z| < 4.6")
        ax.set(
            title=f"{label}: std of z = {d['std']:.1f}\n{100 * d['saturated_fraction']:.0f}% of z values "
            f"saturated (sigma'(z) < 0.01, |z| > 4.6)",
            xlabel="weighted input z of a hidden neuron",
            ylabel="count",
        )
        ax.legend(loc="upper right", fontsize=8)
    firsts = []  # epoch 1's accuracy of each
    for name, colour in (("regularized", QUAD), ("better-init", CE)):
        run = results["runs"][name]
        acc = _pct(run["history"], "evaluation_accuracy", _eval_n(results, run))
        label = "N(0, 1) init" if run["config"]["init"] == "large" else "N(0, 1/n_in) init"
        ax3.plot(
            _epochs(acc), acc, "o-", ms=3, color=colour, label=f"{label}: epoch 1 {acc[0]:.1f}%, final {acc[-1]:.2f}%"
        )
        firsts.append(acc[0])
    lo, hi = sorted(firsts)
    ax3.annotate(
        f"the gap is here: epoch 1,\n{hi:.1f}% against {lo:.1f}%",
        xy=(1, (lo + hi) / 2),
        xytext=(0.25, 0.35),
        textcoords="axes fraction",
        arrowprops={"arrowstyle": "->"},
        fontsize=9,
    )
    cfg = results["runs"]["better-init"]["config"]
    ax3.set(
        title=f"Validation accuracy, {cfg['sizes']}, cross-entropy,\nlambda {cfg['lmbda']:g}, "
        f"eta {cfg['eta']:g}, same draws and order",
        xlabel="epoch",
        ylabel="validation accuracy (%)",
    )
    ax3.grid(alpha=0.3)
    ax3.legend(loc="lower right")
    fig.suptitle(
        _title(
            results,
            f"Weight initialization: z over {zd['n_images']:,} training images "
            f"x {zd['sizes'][1]} hidden neurons, and its effect on learning\n(the Level 3 document's "
            f"std ~ sqrt(784) = 28 assumes every input is 1; an MNIST digit lights about "
            f"a fifth of its pixels, so N(0, 1) gives ~9 here: still mostly saturated)",
        )
    )
    return fig


def fig_full_training(results: dict) -> Figure:
    """The book's chapter 3 network (section 5.1 of the Level 3 document): validation accuracy,
    costs, and the final test accuracy."""
    run = results["runs"]["full"]
    h, cfg = run["history"], run["config"]
    fig = Figure(figsize=(14, 5.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    acc = _pct(h, "evaluation_accuracy", _eval_n(results, run))
    x = _epochs(acc)
    ax1.plot(x, acc, "o-", ms=3, color=CE, label="validation accuracy")
    if h.get("training_accuracy"):
        ax1.plot(x, _pct(h, "training_accuracy", run["n_train"]), color="#2ca02c", label="training accuracy")
    best = int(np.argmax(acc))
    ax1.annotate(
        f"best {acc[best]:.2f}% (epoch {best + 1})",
        xy=(best + 1, acc[best]),
        xytext=(0.45, 0.25),
        textcoords="axes fraction",
        arrowprops={"arrowstyle": "->"},
    )
    ax1.text(
        0.45,
        0.1,
        f"final test accuracy: {100 * run['final']['test_accuracy']:.2f}%",
        transform=ax1.transAxes,
        fontsize=13,
        weight="bold",
    )
    ax1.set(title="Accuracy per epoch", xlabel="epoch", ylabel="accuracy (%)")
    ax1.grid(alpha=0.3)
    ax1.legend(loc="upper left")
    ax2.plot(x, h["training_cost"], color="#2ca02c", label="training cost")
    ax2.plot(x, h["evaluation_cost"], color=CE, label="validation cost (network2's)")
    if h.get("evaluation_cost_without_regularization"):
        ax2.plot(
            x,
            h["training_cost_without_regularization"],
            "--",
            color="#2ca02c",
            label="training cost without the L2 term",
        )
        ax2.plot(
            x, h["evaluation_cost_without_regularization"], "--", color=CE, label="validation cost without the L2 term"
        )
    n_val = _eval_n(results, run)
    ax2.set(
        title=f"Cost per epoch: cross-entropy + (lambda/2n) sum w^2, n = the set's size\n"
        f"(as in network2: the L2 term is {run['n_train'] / n_val:g}x larger for validation, and grows)",
        xlabel="epoch",
        ylabel="cost",
    )
    ax2.grid(alpha=0.3)
    ax2.legend()
    fig.suptitle(
        _title(
            results,
            f"All improvements together: {cfg['sizes']}, cross-entropy, lambda {cfg['lmbda']:g}, "
            f"eta {cfg['eta']:g}, mini-batch {cfg['mini_batch_size']}, {cfg['epochs']} epochs, "
            f"N(0, 1/n_in) init, {run['seconds']:.0f} s",
        )
    )
    return fig


DRAW = dict(
    zip(
        FILES,
        (
            fig_cross_entropy_advantage,
            fig_cost_comparison,
            fig_regularization_effect,
            fig_initialization_comparison,
            fig_full_training,
        ),
    )
)


def draw_all(results: dict, folder) -> list[Path]:
    """Write the five PNGs into ``folder``; return their paths."""
    folder = Path(folder)
    said = captions(results)
    return [_save(draw(results), folder, name, said[name]) for name, draw in DRAW.items()]
