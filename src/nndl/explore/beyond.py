"""Beyond Level 3: the rest of the book's chapter 3, each technique measured, and the ladder past 98 %.

Like ``nndl.explore.runs`` for Level 3, this module trains and measures and returns one
JSON-ready dict; it never prints (a ``Reporter`` hears about progress) and never draws
(``nndl.explore.beyond_figures`` draws from the dict alone). Every run is a ``Run``: a name,
a ``TrainConfig`` and which data it sees; ``train_run`` is a plain function of a run and the
data, so any executor can run the independent runs side by side.

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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import nndl
from nndl.config import TrainConfig
from nndl.explore.runs import Reporter
from nndl.serialization import save
from nndl.training import train


@dataclass(frozen=True)
class Options:
    """What to run. ``quick`` shrinks data, epochs and the wider layer to a smoke test."""

    quick: bool = False
    seed: int = 0                   # the first of the ladder's seeds, and every figure's
    dataset: str = "mnist"
    seeds: int = 3                  # seeds per ladder row
    epochs: int = 30                # the Level 3 run length
    schedule_epochs: int = 200      # an upper bound: the schedule stops the run itself
    expanded_epochs: int = 30       # an upper bound, in epochs of the expanded (5x) set
    patience: int = 10              # the book's: 10 epochs without improvement
    expanded_patience: int = 2      # the same 500,000 images: 2 epochs of 250,000
    divisor: float = 128.0          # the book's: stop at eta0 / 128
    expanded_divisor: float = 16.0
    wide: int = 400                 # the wider hidden layer of the last row
    overfit_n: int = 1000           # the book's overfitting set: the first 1,000 images
    overfit_epochs: int = 300
    figure_epochs: int = 30
    momentum_epochs: int = 15
    dtype: str = "float32"          # the fast option: every run of this exploration
    n_train: int | None = None      # None: the whole split
    n_validation: int | None = None
    n_test: int | None = None

    @classmethod
    def make(cls, quick: bool = False, **kw) -> "Options":
        if quick:
            kw = {"seeds": 3, "epochs": 3, "schedule_epochs": 6, "expanded_epochs": 2, "patience": 1,
                  "expanded_patience": 1, "divisor": 4.0, "expanded_divisor": 4.0, "wide": 150,
                  "overfit_n": 300, "overfit_epochs": 20, "figure_epochs": 3, "momentum_epochs": 3,
                  "n_train": 3000, "n_validation": 1000, "n_test": 1000, **kw}
        return cls(quick=quick, **kw)


@dataclass(frozen=True)
class Run:
    """One training run: its name, its configuration, which data it sees, what it measures."""

    name: str
    config: TrainConfig
    train_n: int | None = None                     # the first n training images; None: all
    monitor: tuple = ("evaluation_accuracy",)      # History series to record
    group: str = ""                                # the ladder row or figure it belongs to


# The ladder past 98 %: (row key, what it shows), in order; each row's label is made from its config.
LADDER = [
    ("level3", "where Level 3 ends"),
    ("schedule", "the schedule: small steps at the end settle the weights"),
    ("expanded", "more data: the network sees each digit in five positions"),
    ("dropout", "dropout: a regularizer, on top of L2"),
    ("wide", "more neurons, kept in check by dropout"),
]


def step_label(key: str, c: dict) -> str:
    """What a ladder row is, in words, from its configuration (a ``TrainConfig.to_dict()``)."""
    if key == "level3":
        return (f"Level 3: {c['sizes']}, cross-entropy, L2 (lambda {c['lmbda']:g}), eta {c['eta']:g}, "
                f"{c['epochs']} epochs")
    if key == "schedule":
        return (f"+ the book's eta schedule: halve eta after {c['schedule_patience']} epochs without a better "
                f"validation accuracy, stop at eta/{c['schedule_divisor']:g}")
    if key == "expanded":
        return (f"+ expanded data: each image and its 4 one-pixel shifts (5x the images; the patience in images "
                f"kept: {c['schedule_patience']} epochs, stop at eta/{c['schedule_divisor']:g})")
    if key == "dropout":
        return f"+ dropout {c['dropout']:g} on the {c['sizes'][1]} hidden neurons"
    return f"+ a wider hidden layer: {c['sizes']}, dropout {c['dropout']:g}"


def ladder_configs(options: Options) -> dict[str, TrainConfig]:
    """Each ladder row's configuration for the first seed (the others change ``seed`` only)."""
    base = TrainConfig(sizes=(784, 100, 10), epochs=options.epochs, dtype=options.dtype, seed=options.seed)
    schedule = base.replace(schedule="halve", schedule_patience=options.patience,
                            schedule_divisor=options.divisor, epochs=options.schedule_epochs)
    expanded = schedule.replace(expand="shifts", schedule_patience=options.expanded_patience,
                                schedule_divisor=options.expanded_divisor, epochs=options.expanded_epochs)
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
            runs.append(Run(f"{key}-seed{options.seed + k}", rows[key].replace(seed=options.seed + k),
                            monitor=monitor, group=f"ladder:{key}"))
    fig = base.replace(epochs=options.figure_epochs)
    runs += [
        # figure 1: softmax + log-likelihood against sigmoid + cross-entropy (ladder row 1, seed 0)
        Run("softmax", fig.replace(cost="log-likelihood"), group="softmax"),
        # figure 3: dropout against L2 on the book's overfitting set
        *[Run(f"overfit-{name}", base.replace(epochs=options.overfit_epochs, lmbda=lmbda, dropout=p),
              train_n=options.overfit_n, monitor=("evaluation_accuracy", "training_accuracy"), group="overfit")
          for name, lmbda, p in (("none", 0.0, 0.0), ("l2", 0.1, 0.0), ("dropout", 0.0, 0.5))],
        # figure 4: momentum against plain SGD, training cost per epoch
        *[Run(f"momentum-{mu:g}-eta-{eta:g}", base.replace(epochs=options.momentum_epochs, momentum=mu, eta=eta),
              monitor=("training_cost", "evaluation_accuracy"), group="momentum")
          for mu, eta in ((0.0, 0.05), (0.5, 0.05), (0.9, 0.05), (0.0, 0.5))],
        # figure 5: hidden neurons, each with the initialization and eta it needs
        *[Run(f"neurons-{act}", fig.replace(activation=act, init=init, eta=eta),
              monitor=("evaluation_accuracy", "saturation"), group="neurons")
          for act, init, eta in (("tanh", "default", 0.1), ("relu", "he", 0.05))],
        # figure 6: expanded data without the schedule, the same 30 epochs' worth of images
        Run("shifts-constant", fig.replace(expand="shifts", epochs=max(1, options.figure_epochs // 5)),
            group="expanded"),
    ]
    return sorted(runs, key=lambda r: -cost_estimate(r))


def cost_estimate(run: Run) -> float:
    """Rough work of a run (hidden neurons x rows visited), to start the longest first."""
    c = run.config
    rows = (run.train_n or 50_000) * (5 if c.expand == "shifts" else 1)
    epochs = c.epochs if c.schedule == "constant" else c.epochs * 0.6
    return sum(c.sizes[1:-1]) * rows * epochs * (2.5 if not c.fast_path else 1.0)


def _head(split, n):
    return split if n is None else type(split)(split.images[:n], split.labels[:n])


def train_run(run: Run, splits, models: str | None = None, reporter: Reporter | None = None) -> dict:
    """Train one run; return its record (config, history, final accuracies, time). With
    ``models`` (a folder), the trained model is saved there as ``<name>.json``, atomically."""
    reporter = reporter or Reporter()
    training = _head(splits.training, run.train_n)
    monitor = {f"monitor_{m}": True for m in run.monitor}
    reporter.run_start(run.name, run.config, len(training.labels))
    start = time.perf_counter()
    net, history = train(run.config, training, splits.validation, on_epoch=lambda r: reporter.epoch(run.name, r),
                         on_batch=reporter.batch, **monitor)
    seconds = time.perf_counter() - start
    record = {
        "config": run.config.to_dict(),
        "group": run.group,
        "n_train": len(training.labels),
        "evaluation_data": "validation",
        "history": history.to_dict(state=False),
        "final": {
            "validation_accuracy": net.accuracy(splits.validation) / len(splits.validation.labels),
            "test_accuracy": net.accuracy(splits.test) / len(splits.test.labels),
        },
        "seconds": seconds,
    }
    if models is not None:
        path = Path(models) / f"{run.name}.json"
        save(net, path, config=run.config, history=history, dataset=None)
        record["model"] = f"models/{path.name}"
    reporter.run_end(run.name, record)
    return record


def ladder_stats(results: dict) -> list[dict]:
    """Per ladder row: the seeds' mean, smallest and largest test and validation accuracy (%),
    the mean time (s) and epochs, and the row's configuration (its first seed's)."""
    out = []
    for key, why in LADDER:
        records = [r for r in results["runs"].values() if r.get("group") == f"ladder:{key}"]
        if not records:
            continue
        step = step_label(key, records[0]["config"])
        test = np.array([100 * r["final"]["test_accuracy"] for r in records])
        val = np.array([100 * r["final"]["validation_accuracy"] for r in records])
        out.append({
            "key": key, "step": step, "why": why, "seeds": [r["config"]["seed"] for r in records],
            "test_mean": float(test.mean()), "test_min": float(test.min()), "test_max": float(test.max()),
            "validation_mean": float(val.mean()), "validation_min": float(val.min()),
            "validation_max": float(val.max()),
            "seconds_mean": float(np.mean([r["seconds"] for r in records])),
            "epochs_mean": float(np.mean([len(r["history"]["epoch_seconds"]) for r in records])),
            "config": records[0]["config"],
        })
    return out


def new_results(options: Options, splits) -> dict:
    return {
        "exploration": "beyond",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "complete": False,
        "options": options.__dict__.copy(),
        "sizes": {"training": len(splits.training.labels), "validation": len(splits.validation.labels),
                  "test": len(splits.test.labels)},
        "versions": {"nndl": nndl.__version__, "numpy": np.__version__, "python": platform.python_version()},
        "runs": {},
    }


def shrink(options: Options, splits):
    """The splits an exploration trains on (the first n of each, when ``options`` says so)."""
    return type(splits)(_head(splits.training, options.n_train), _head(splits.validation, options.n_validation),
                        _head(splits.test, options.n_test))


def sample_images(splits, n: int = 1) -> dict:
    """The first training digit, its four shifts and three rotations, for figure 6 (JSON lists)."""
    from nndl.augment import SHIFTS, rotate_rows, shift_images

    x = np.asarray(splits.training.images[:n], np.float64)                  # (n, 784)
    img = x.reshape(n, 28, 28)
    shifts = []
    for dy, dx in SHIFTS:
        out = np.empty_like(img)
        shift_images(img, dy, dx, out)
        shifts.append(out[0].round(4).tolist())
    turned = np.repeat(x[:1], 3, axis=0)
    rotate_rows(turned, np.array([-15.0, 8.0, 15.0]))
    return {"label": int(splits.training.labels[0]), "shifts": shifts,
            "rotations": {"angles": [-15, 8, 15], "images": turned.reshape(3, 28, 28).round(4).tolist()}}
