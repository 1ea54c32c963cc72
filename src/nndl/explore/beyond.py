"""Beyond Level 3: the rest of the book's chapter 3, each technique measured, and the ladder past 98 %.

Like ``nndl.explore.runs`` for Level 3, this module trains and measures and returns one
JSON-ready dict; it never prints (a ``Reporter`` hears about progress) and never draws
(``nndl.explore.beyond_figures`` draws from the dict alone). Every run is a ``Run``: a name,
a ``TrainConfig`` and which data it sees; each becomes a sweep ``Trial`` and goes through the
same runner as the sweeps and Level 3 (``nndl.sweep.runner``: inline, a local pool - one
process per core - or a Dask cluster), with the same numbers wherever it runs.

Pairing: runs compared in a figure share the seed, so they start from the same draws and see
the same mini-batch order (``nndl.config.training_streams``); dropout and rotations draw from
streams of their own. Only the validation split is ever looked at while training or to
choose anything; the test set is used once per run, at its end.

The ladder: each row adds techniques to the one above and is trained with three seeds; a row
gives the mean and the spread (smallest to largest) of test and validation accuracy, and the
mean time. The configurations were chosen on validation accuracy alone.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

import nndl
from nndl.config import TrainConfig
from nndl.explore.runs import Relay, Reporter, collect
from nndl.sweep.runner import InlineRunner, Runner
from nndl.sweep.trial import DataSource, Trial


@dataclass(frozen=True)
class Options:
    """What to run. ``quick`` shrinks data, epochs and the wider layer to a smoke test."""

    quick: bool = False
    seed: int = 0  # the first of the ladder's seeds, and every figure's
    dataset: str = "mnist"
    seeds: int = 3  # seeds per ladder row
    epochs: int = 30  # the Level 3 run length
    schedule_epochs: int = 200  # an upper bound: the schedule stops the run itself
    expanded_epochs: int = 30  # an upper bound, in epochs of the expanded (5x) set
    patience: int = 10  # the book's: 10 epochs without improvement
    expanded_patience: int = 2  # the same 500,000 images: 2 epochs of 250,000
    divisor: float = 128.0  # the book's: stop at eta0 / 128
    expanded_divisor: float = 16.0
    wide: int = 400  # the wider hidden layer of the last row
    overfit_n: int = 1000  # the book's overfitting set: the first 1,000 images
    overfit_epochs: int = 300
    figure_epochs: int = 30
    momentum_epochs: int = 15
    dtype: str = "float32"  # the fast option: every run of this exploration
    n_train: int | None = None  # None: the whole split
    n_validation: int | None = None
    n_test: int | None = None

    @classmethod
    def make(cls, quick: bool = False, **kw) -> Options:
        if quick:
            kw = {
                "seeds": 3,
                "epochs": 3,
                "schedule_epochs": 6,
                "expanded_epochs": 2,
                "patience": 1,
                "expanded_patience": 1,
                "divisor": 4.0,
                "expanded_divisor": 4.0,
                "wide": 150,
                "overfit_n": 300,
                "overfit_epochs": 20,
                "figure_epochs": 3,
                "momentum_epochs": 3,
                "n_train": 3000,
                "n_validation": 1000,
                "n_test": 1000,
                **kw,
            }
        return cls(quick=quick, **kw)


@dataclass(frozen=True)
class Run:
    """One training run: its name, its configuration, which data it sees, what it measures."""

    name: str
    config: TrainConfig
    train_n: int | None = None  # the first n training images; None: all
    monitor: tuple = ("evaluation_accuracy",)  # History series to record
    group: str = ""  # the ladder row or figure it belongs to


# The ladder past 98 %: (row key, what it shows), in order; each row's label is made from its config.
LADDER = [
    ("level3", "where Level 3 ends"),
    ("schedule", "the schedule: small steps at the end settle the weights"),
    ("expanded", "more data: the network sees each digit in five positions"),
    ("dropout", "dropout: a regularizer, on top of L2"),
    ("wide", "more neurons, kept in check by dropout"),
]


def short_label(key: str, c: dict) -> str:
    """A ladder row in at most ~55 characters, for the terminal."""
    return {
        "level3": f"Level 3: {c['sizes']}, eta {c['eta']:g}, {c['epochs']} epochs",
        "schedule": f"+ eta schedule (patience {c['schedule_patience']}, stop at eta/{c['schedule_divisor']:g})",
        "expanded": "+ expanded data (4 one-pixel shifts per image)",
        "dropout": f"+ dropout {c['dropout']:g}",
    }.get(key, f"+ wider: {c['sizes']}, dropout {c['dropout']:g}")


def step_label(key: str, c: dict) -> str:
    """What a ladder row is, in words, from its configuration (a ``TrainConfig.to_dict()``)."""
    if key == "level3":
        return (
            f"Level 3: {c['sizes']}, cross-entropy, L2 (lambda {c['lmbda']:g}), eta {c['eta']:g}, {c['epochs']} epochs"
        )
    if key == "schedule":
        return (
            f"+ the book's eta schedule: halve eta after {c['schedule_patience']} epochs without a better "
            f"validation accuracy, stop at eta/{c['schedule_divisor']:g}"
        )
    if key == "expanded":
        p = c["schedule_patience"]
        return (
            f"+ expanded data: each image and its 4 one-pixel shifts (5x the images; the patience in images "
            f"kept: {p} epoch{'' if p == 1 else 's'}, stop at eta/{c['schedule_divisor']:g})"
        )
    if key == "dropout":
        return f"+ dropout {c['dropout']:g} on the {c['sizes'][1]} hidden neurons"
    return f"+ a wider hidden layer: {c['sizes']}, dropout {c['dropout']:g}"


def ladder_configs(options: Options) -> dict[str, TrainConfig]:
    """Each ladder row's configuration for the first seed (the others change ``seed`` only)."""
    base = TrainConfig(sizes=(784, 100, 10), epochs=options.epochs, dtype=options.dtype, seed=options.seed)
    schedule = base.replace(
        schedule="halve",
        schedule_patience=options.patience,
        schedule_divisor=options.divisor,
        epochs=options.schedule_epochs,
    )
    expanded = schedule.replace(
        expand="shifts",
        schedule_patience=options.expanded_patience,
        schedule_divisor=options.expanded_divisor,
        epochs=options.expanded_epochs,
    )
    dropout = expanded.replace(dropout=0.2)
    wide = expanded.replace(sizes=(784, options.wide, 10), dropout=0.3)
    return {"level3": base, "schedule": schedule, "expanded": expanded, "dropout": dropout, "wide": wide}


def plan(options: Options) -> list[Run]:
    """Every training run of the exploration, in the order they are best started (longest first)."""
    rows = ladder_configs(options)
    base = rows["level3"]
    runs = []
    for key, _ in LADDER:
        for k in range(options.seeds):
            monitor = ("evaluation_accuracy", "saturation") if key == "level3" else ("evaluation_accuracy",)
            runs.append(
                Run(
                    f"{key}-seed{options.seed + k}",
                    rows[key].replace(seed=options.seed + k),
                    monitor=monitor,
                    group=f"ladder:{key}",
                )
            )
    fig = base.replace(epochs=options.figure_epochs)
    # the book's overfitting network, as Level 3's demo trains it: [784, 30, 10], N(0, 1) weights
    overfit = base.replace(sizes=(784, 30, 10), init="large", epochs=options.overfit_epochs)
    runs += [
        # figure 1: softmax + log-likelihood against sigmoid + cross-entropy (ladder row 1, seed 0)
        Run("softmax", fig.replace(cost="log-likelihood"), group="softmax"),
        # figure 3: dropout against L2 on the book's overfitting set and network
        *[
            Run(
                f"overfit-{name}",
                overfit.replace(lmbda=lmbda, dropout=p),
                train_n=options.overfit_n,
                monitor=("evaluation_accuracy", "training_accuracy"),
                group="overfit",
            )
            for name, lmbda, p in (("none", 0.0, 0.0), ("l2", 0.1, 0.0), ("dropout", 0.0, 0.5))
        ],
        # figure 4: momentum against plain SGD, training cost per epoch
        *[
            Run(
                f"momentum-{mu:g}-eta-{eta:g}",
                base.replace(epochs=options.momentum_epochs, momentum=mu, eta=eta),
                monitor=("training_cost", "evaluation_accuracy"),
                group="momentum",
            )
            for mu, eta in ((0.0, 0.05), (0.5, 0.05), (0.9, 0.05), (0.0, 0.5))
        ],
        # figure 5: hidden neurons, each with the initialization and eta it needs
        *[
            Run(
                f"neurons-{act}",
                fig.replace(activation=act, init=init, eta=eta),
                monitor=("evaluation_accuracy", "saturation"),
                group="neurons",
            )
            for act, init, eta in (("tanh", "default", 0.1), ("relu", "he", 0.05))
        ],
        # figure 6: expanded data without the schedule, the same 30 epochs' worth of images
        Run(
            "shifts-constant", fig.replace(expand="shifts", epochs=max(1, options.figure_epochs // 5)), group="expanded"
        ),
    ]
    return sorted(runs, key=lambda r: -cost_estimate(r))


def cost_estimate(run: Run) -> float:
    """Rough work of a run (hidden neurons x rows visited), to start the longest first."""
    c = run.config
    rows = (run.train_n or 50_000) * (5 if c.expand == "shifts" else 1)
    epochs = c.epochs if c.schedule == "constant" else c.epochs * 0.6
    return sum(c.sizes[1:-1]) * rows * epochs * (2.5 if not c.fast_path else 1.0)


def trial_of(run: Run) -> Trial:
    """A run as a sweep trial: watched on validation, tested once at the end, network kept."""
    return Trial(
        key=run.name,
        config=run.config,
        n_train=run.train_n,
        evaluation="validation",
        monitor=tuple(run.monitor),
        finals=("validation", "test"),
        keep_model=True,
    )


def record_of(result: dict, run: Run) -> dict:
    """A run's entry in results.json, from its trial result."""
    return {
        "config": result["config"],
        "group": run.group,
        "n_train": result["n_train"],
        "evaluation_data": result["evaluation_data"],
        "history": result["history"],
        "final": result["final"],
        "seconds": result["seconds"],
        "host": result["host"],
    }


def run_beyond(
    options: Options,
    splits,
    reporter: Reporter | None = None,
    on_save=None,
    *,
    runner: Runner | None = None,
    source: DataSource | None = None,
    on_model=None,
    tensorboard=None,
) -> dict:
    """Run every training of the exploration; return the results dict.

    ``splits``: the data as loaded (``shrink`` applies --quick's subsets); ``source``: where pool
    workers load it from (they apply the same subsets). ``on_save(results)`` is called after
    each run is recorded, so an interrupted exploration keeps what finished;
    ``on_model(name, net, record)`` receives each trained network and may return the path it
    saved it to (recorded as the run's ``model``). ``tensorboard`` (a folder): each run also writes
    TensorBoard event files into a folder of it named by the run.
    """
    reporter = reporter or Reporter()
    own = runner is None
    runner = runner or InlineRunner()
    try:
        return _run_beyond(options, shrink(options, splits), reporter, on_save, runner, source, on_model, tensorboard)
    finally:
        if own:
            runner.close()


def _run_beyond(options, splits, reporter, on_save, runner, source, on_model, tensorboard=None) -> dict:
    results = new_results(options, splits)
    results["runner"] = runner.describe()  # where the runs' times were measured
    results["samples"] = sample_images(splits)
    start = time.perf_counter()
    runs = plan(options)  # longest first
    by_name = {r.name: r for r in runs}
    trials = [trial_of(r) for r in runs]
    if options.n_validation is not None or options.n_test is not None:
        trials = [
            Trial(**{**t.__dict__, "n_validation": options.n_validation, "n_test": options.n_test}) for t in trials
        ]
    if options.n_train is not None:
        trials = [
            Trial(**{**t.__dict__, "n_train": min(options.n_train, t.n_train or options.n_train)}) for t in trials
        ]
    if tensorboard is not None:
        trials = [Trial(**{**t.__dict__, "tensorboard": str(tensorboard)}) for t in trials]
    reporter.section(f"{len(trials)} trainings on {runner.describe()}")
    runner.listen(Relay(reporter, {t.key: t.config for t in trials}))
    data = runner.share(source, splits) if source is not None else splits
    return collect(
        runner,
        trials,
        data,
        results,
        lambda trial, result: record_of(result, by_name[trial.key]),
        sorted(by_name),
        reporter,
        start,
        on_save,
        on_model,
    )


def ladder_stats(results: dict) -> list[dict]:
    """Per ladder row: the seeds' mean, smallest and largest test and validation accuracy (%),
    the mean time (s) and epochs, and the configuration of the row's first run."""
    out = []
    for key, why in LADDER:
        records = [r for r in results["runs"].values() if r.get("group") == f"ladder:{key}"]
        if not records:
            continue
        step = step_label(key, records[0]["config"])
        short = short_label(key, records[0]["config"])
        test = np.array([100 * r["final"]["test_accuracy"] for r in records])
        val = np.array([100 * r["final"]["validation_accuracy"] for r in records])
        out.append(
            {
                "key": key,
                "step": step,
                "short": short,
                "why": why,
                "seeds": [r["config"]["seed"] for r in records],
                "test_mean": float(test.mean()),
                "test_min": float(test.min()),
                "test_max": float(test.max()),
                "validation_mean": float(val.mean()),
                "validation_min": float(val.min()),
                "validation_max": float(val.max()),
                "seconds_mean": float(np.mean([r["seconds"] for r in records])),
                "epochs_mean": float(np.mean([len(r["history"]["epoch_seconds"]) for r in records])),
                "config": records[0]["config"],
            }
        )
    return out


def new_results(options: Options, splits) -> dict:
    return {
        "exploration": "beyond",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "complete": False,
        "options": options.__dict__.copy(),
        "sizes": {
            "training": len(splits.training.labels),
            "validation": len(splits.validation.labels),
            "test": len(splits.test.labels),
        },
        "versions": {"nndl": nndl.__version__, "numpy": np.__version__, "python": platform.python_version()},
        "runs": {},
    }


def shrink(options: Options, splits):
    """The splits an exploration trains on (the first n of each, when ``options`` says so)."""
    return type(splits)(
        splits.training.head(options.n_train),
        splits.validation.head(options.n_validation),
        splits.test.head(options.n_test),
    )


def sample_images(splits, n: int = 1) -> dict:
    """The first training digit, its four shifts and three rotations, for figure 6 (JSON lists)."""
    from nndl.augment import SHIFTS, rotate_rows, shift_images

    x = np.asarray(splits.training.images[:n], np.float64)  # (n, 784)
    img = x.reshape(n, 28, 28)
    shifts = []
    for dy, dx in SHIFTS:
        out = np.empty_like(img)
        shift_images(img, dy, dx, out)
        shifts.append(out[0].round(4).tolist())
    turned = np.repeat(x[:1], 3, axis=0)
    rotate_rows(turned, np.array([-15.0, 8.0, 15.0]))
    return {
        "label": int(splits.training.labels[0]),
        "shifts": shifts,
        "rotations": {"angles": [-15, 8, 15], "images": turned.reshape(3, 28, 28).round(4).tolist()},
    }
