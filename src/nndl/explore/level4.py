"""Level 4 (chapter 6): the ladder of convolutional networks, row by row beside the book's numbers.

A first version: the rows of the book's chapter 6 up to two fully connected layers on expanded
data, each trained once by nndl's engine (``TrainConfig.layers``: conv and pool layers in the
stack, softmax output with the log-likelihood cost), through the same runner as the sweeps and
the other explorations. An exploration writes results.json (every run's config and history), results.md
(the ladder beside the book's numbers), models/ and one figure: the first conv layer's 20 learned
5x5 filters, the book's picture. Not here yet: the book's dropout row (two layers of 1,000
neurons, 99.60 %) and its ensemble of five (99.67 %), the feature-map and error figures, and a
full run on MNIST (the book trains 60 epochs a row; on this project's 2-core machine that is
hours, so it has not been run: ``--quick`` on a small data set is what is tested).

nndl's rows differ from the book's network3 on purpose, and the table says so: the weights start
as nndl's initializers draw them (N(0, 1/n_in), or N(0, 2/n_in) for ReLU) where network3 scales
by the layer's outputs; the bias is added before pooling (the same values: max-pooling commutes
with adding a constant per map and with a rising activation); and L2 is network2's
(1 - eta*lmbda/n) w, so the book's lmbda 0.1 (which network3 divides by the number of
mini-batches, n/10) is lmbda 1.0 here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nndl.config import TrainConfig
from nndl.explore.beyond import new_results, shrink
from nndl.explore.runs import Relay, Reporter, collect
from nndl.fileio import atomic_write_text
from nndl.sweep.runner import InlineRunner, Runner
from nndl.sweep.trial import DataSource, Trial

CONV1 = "conv:20x5x5,pool:2"
CONV2 = "conv:20x5x5,pool:2,conv:40x5x5,pool:2"

# (key, what the row adds, the book's test accuracy in %)
LADDER = [
    ("shallow", "[784, 100, 10], softmax output: the baseline", 97.80),
    ("conv", "+ a conv-pool layer: 20 maps of 5x5, max-pool 2x2", 98.78),
    ("conv2", "+ a second conv-pool layer: 40 maps of 5x5", 99.06),
    ("relu", "+ rectified linear units, L2, eta 0.03", 99.23),
    ("expanded", "+ expanded data: each image and its four one-pixel shifts", 99.37),
    ("fc2", "+ a second fully connected layer of 100", 99.43),
]
NOT_YET = [("dropout on two fully connected layers of 1,000", 99.60), ("an ensemble of five such networks", 99.67)]


@dataclass(frozen=True)
class Options:
    """What to run; ``quick`` shrinks the data and the epochs to a smoke test."""

    quick: bool = False
    seed: int = 0
    dataset: str = "mnist"
    epochs: int = 60                # the book's, for every row
    expanded_epochs: int = 60       # epochs of the expanded (5x) set
    dtype: str = "float32"
    n_train: int | None = None
    n_validation: int | None = None
    n_test: int | None = None

    @classmethod
    def make(cls, quick: bool = False, **kw) -> "Options":
        if quick:
            kw = {"epochs": 2, "expanded_epochs": 1, "n_train": 1500, "n_validation": 300, "n_test": 500, **kw}
        return cls(quick=quick, **kw)


def configs(options: Options) -> dict[str, TrainConfig]:
    """Each row's configuration: the book's mini-batch 10 and eta, nndl's neurons and initializers."""
    base = TrainConfig(sizes=(784, 100, 10), cost="log-likelihood", eta=0.1, lmbda=0.0, epochs=options.epochs,
                       dtype=options.dtype, seed=options.seed)
    conv = base.replace(layers=f"{CONV1},dense:100")
    conv2 = base.replace(layers=f"{CONV2},dense:100")
    relu = conv2.replace(activation="relu", init="he", eta=0.03, lmbda=1.0)
    expanded = relu.replace(expand="shifts", epochs=options.expanded_epochs)
    fc2 = expanded.replace(layers=f"{CONV2},dense:100,dense:100")
    return {"shallow": base, "conv": conv, "conv2": conv2, "relu": relu, "expanded": expanded, "fc2": fc2}


def run_level4(options: Options, splits, reporter: Reporter | None = None, on_save=None, *,
               runner: Runner | None = None, source: DataSource | None = None, on_model=None) -> dict:
    """Train every row; return the results dict (``nndl.explore.beyond.run_beyond``'s contract).
    The first conv layer's filters of the 'relu' row are kept in ``results["filters"]``."""
    reporter = reporter or Reporter()
    own = runner is None
    runner = runner or InlineRunner()
    try:
        splits = shrink(options, splits)
        results = new_results(options, splits)
        results["exploration"] = "level4"
        rows = configs(options)
        trials = [Trial(key=k, config=c, evaluation="validation", monitor=("evaluation_accuracy",),
                        finals=("validation", "test"), keep_model=True, n_train=options.n_train,
                        n_validation=options.n_validation, n_test=options.n_test) for k, c in rows.items()]

        def model(name, net, record):
            if name == "relu":
                results["filters"] = net.layers[0].w.value[:, :, 0, :].transpose(2, 0, 1).round(5).tolist()
            return on_model(name, net, record) if on_model is not None else None

        def record_of(trial, result):
            return {"config": result["config"], "history": result["history"], "final": result["final"],
                    "seconds": result["seconds"], "n_train": result["n_train"]}

        reporter.section(f"{len(trials)} trainings on {runner.describe()}")
        runner.listen(Relay(reporter, {t.key: t.config for t in trials}))
        data = runner.share(source, splits) if source is not None else splits
        return collect(runner, trials[::-1], data, results, record_of, list(rows), reporter, time.perf_counter(),
                       on_save, model)
    finally:
        if own:
            runner.close()


def ladder_rows(results: dict) -> list[dict]:
    out = []
    for key, what, book in LADDER:
        r = results["runs"].get(key)
        if r is not None:
            out.append({"key": key, "what": what, "book": book, "test": 100 * r["final"]["test_accuracy"],
                        "validation": 100 * r["final"]["validation_accuracy"], "seconds": r["seconds"],
                        "epochs": len(r["history"]["epoch_seconds"]), "layers": r["config"]["layers"]})
    return out


def markdown(results: dict) -> str:
    o, s = results["options"], results["sizes"]
    lines = [f"# Level 4: convolutional networks (chapter 6){' - quick run: small data, few epochs' if o['quick'] else ''}",
             "", f"Data: {o['dataset']}, {s['training']:,} training, {s['validation']:,} validation, {s['test']:,} "
             "test images; one run a row, seed " + str(o["seed"]) + ". The book's numbers are its 60-epoch runs on "
             "all of MNIST: with less data and fewer epochs, read the order of the rows, not the numbers.", "",
             "| Row | Test accuracy | The book | Validation | Epochs | Time |", "|---|---|---|---|---|---|"]
    for r in ladder_rows(results):
        lines.append(f"| {r['what']} | **{r['test']:.2f}%** | {r['book']:.2f}% | {r['validation']:.2f}% | "
                     f"{r['epochs']} | {r['seconds']:.0f} s |")
    for what, book in NOT_YET:
        lines.append(f"| + {what} | not run yet | {book:.2f}% | | | |")
    lines += ["", "Where nndl differs from the book's network3: nndl's initial weights (N(0, 1/n_in), N(0, 2/n_in) "
              "for ReLU), network2's L2 (the book's lambda 0.1, divided by the number of mini-batches, is lambda "
              "1.0 here) and the bias added before pooling (the same values)."]
    return "\n".join(lines) + "\n"


def text(results: dict, width: int = 80) -> str:
    quick = " (quick run)" if results["options"].get("quick") else ""
    lines = [f"Level 4: chapter 6's ladder{quick}", "test accuracy (the book's)", ""]
    for r in ladder_rows(results):
        lines.append(f"{r['test']:6.2f}% ({r['book']:.2f}%)  {r['what']}"[:width])
    for what, book in NOT_YET:
        lines.append(f"   -    ({book:.2f}%)  + {what}: not run yet"[:width])
    return "\n".join(lines) + "\n"


def draw_filters(results: dict, folder: Path) -> Path:
    """The first conv layer's 20 learned 5x5 filters (the book's picture), dark = positive weight."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nndl.explore.figures import wrap_to_figure

    w = np.array(results["filters"])                                     # (maps, 5, 5)
    fig, axes = plt.subplots(2, (len(w) + 1) // 2, figsize=(8, 3.6))
    for ax, f in zip(axes.flat, w):
        ax.matshow(f, cmap="binary")
        ax.set_xticks([])
        ax.set_yticks([])
    notice = ("After a quick run they are still mostly their random start: the book's picture needs its "
              "60 epochs." if results["options"].get("quick") else
              "Look for strokes and edges: each map looks for its own feature, anywhere in the image.")
    fig.suptitle(wrap_to_figure("The first conv layer's 20 learned 5x5 filters (ReLU row); dark squares are "
                                f"large weights. {notice}", fig), fontsize=10)
    fig.tight_layout()
    path = folder / "1_filters.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_outputs(results: dict, folder: Path) -> list[Path]:
    atomic_write_text(folder / "results.md", markdown(results))
    return [draw_filters(results, folder)] if "filters" in results else []
