"""Level 3's experiments: each section's runs, recorded as one JSON-ready dict.

Every training run is described by a ``TrainConfig`` plus which data it sees; runs that
are compared share the seed, so they start from the same standard normals and see the
same mini-batch order (see ``nndl.config.rng_streams``). Evaluation data is the validation
set, so nothing is chosen by looking at test data - except the overfitting demo, which
follows the book in watching test accuracy, and says so in its record.

The trainings are independent trials (``nndl.sweep.trial``), run through a runner
(``nndl.sweep.runner``): one after another in this process, or at once on a pool of
processes - the same numbers either way, bit for bit.

The library never prints: a ``Reporter`` (any object with the methods of ``Reporter``)
hears about sections, runs, batches and epochs; the command line draws progress from it.
"""

from __future__ import annotations

import dataclasses
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace

import numpy as np

import nndl
from nndl.config import TrainConfig, rng_streams
from nndl.engine.activations import Sigmoid
from nndl.engine.costs import CrossEntropyCost, QuadraticCost
from nndl.engine.initializers import get_initializer
from nndl.sweep.runner import InlineRunner, Runner
from nndl.sweep.trial import DataSource, Trial, run_trial


class Reporter:
    """Hooks the experiments call; the default does nothing (subclass in the CLI).

    Runs may go on at the same time (a pool), so the calls name their run: ``batch_of``
    (``batch`` is the same for the run started last: ``train``'s ``on_batch``); ``epoch``
    gets an object with ``epoch``, ``epochs``, ``evaluation_accuracy`` and ``n_evaluation``.
    """

    def section(self, title: str) -> None: ...
    def run_start(self, name: str, config: TrainConfig, n_train: int) -> None: ...
    def batch(self, done: int, total: int) -> None: ...
    def epoch(self, name: str, report) -> None: ...
    def run_end(self, name: str, record: dict) -> None: ...

    def batch_of(self, name: str, done: int, total: int) -> None:
        self.batch(done, total)


@dataclass(frozen=True)
class Options:
    """What to run. ``quick`` shrinks data and epochs to a smoke test (figures say so)."""

    quick: bool = False
    seed: int = 0
    dataset: str = "mnist"
    epochs: int = 30  # the book's run length for every MNIST comparison
    overfit_epochs: int = 400  # the book's overfitting demo: 400 epochs on 1,000 images
    overfit_n: int = 1000
    n_train: int | None = None  # None: the whole split
    n_validation: int | None = None
    n_test: int | None = None

    @classmethod
    def make(cls, quick: bool = False, **kw) -> Options:
        if quick:
            kw = {"epochs": 3, "overfit_epochs": 30, "n_train": 5000, "n_validation": 1000, "n_test": 1000, **kw}
        return cls(quick=quick, **kw)


# The accuracy ladder of section 5.2 of "Level 3: Improved Neural Network Techniques":
# (label, run name, expected test accuracy).
LADDER = [
    ("Level 2 baseline: [784, 30, 10], quadratic, large (N(0,1)) init, lambda 0, eta 3.0", "baseline", "~94.5%"),
    ("+ cross-entropy (eta 0.5)", "cross-entropy", "~95%"),
    ("+ L2 regularization (lambda 5.0)", "regularized", "~96.5%"),
    ("+ better initialization: default (N(0, 1/n_in)) init", "better-init", "~97%"),
    ("+ larger hidden layer [784, 100, 10]", "full", "~97.5-98%"),
]


def slowdown_demo(eta: float = 0.15, epochs: int = 300, w: float = 2.0, b: float = 2.0) -> dict:
    """The book's one-neuron demo: input 1, target 0, start w = b = 2; output and cost per epoch.

    Trained with the engine itself (a [1, 1] network, one example, mini-batch 1), so the
    curves are the package's own arithmetic, once with each cost.
    """
    out = {"eta": eta, "epochs": epochs, "w0": w, "b0": b, "x": 1.0, "y": 0.0, "runs": {}}
    data = (np.array([[1.0]]), np.array([[0.0]]))  # (1, 1) input, (1, 1) target
    for cost in (QuadraticCost, CrossEntropyCost):
        net = nndl.Network([1, 1], cost, rng=0)
        net.weights, net.biases = [np.array([[w]])], [np.array([[b]])]
        outputs = [float(net.feedforward(data[0])[0, 0])]
        costs = [cost.fn(outputs[-1], 0.0)]

        def record(_report, net=net, outputs=outputs, costs=costs, cost=cost):
            a = float(net.feedforward(data[0])[0, 0])
            outputs.append(a)
            costs.append(cost.fn(a, 0.0))

        nndl.sgd(net, data, epochs, 1, eta, rng=0, on_epoch=record)
        out["runs"][cost.name] = {"output": outputs, "cost": costs}
    return out


def gradient_curve(points: int = 199) -> dict:
    """|dC/dz| at the output against the output a, target y = 1, for both costs (seed 2.2)."""
    a = np.linspace(0.005, 0.995, points)  # (points,)
    y = np.ones_like(a)
    return {
        "y": 1.0,
        "a": a.tolist(),
        "quadratic": np.abs(QuadraticCost.delta(None, a, y)).tolist(),
        "cross-entropy": np.abs(CrossEntropyCost.delta(None, a, y)).tolist(),
    }


def z_distribution(images: np.ndarray, seed: int, n_hidden: int = 30, bins: int = 80) -> dict:
    """Histogram of z = w.x + b in the first hidden layer for both initializers (seed 4).

    ``images`` (n, 784); both initializers see the same standard normals (same seed).
    """
    sizes = [images.shape[1], n_hidden, 10]
    out = {"sizes": sizes, "n_images": int(images.shape[0])}
    zs = {}
    for name in ("large", "default"):
        init_rng, _ = rng_streams(seed)
        weights, biases = get_initializer(name)(sizes, init_rng, np.float64)
        zs[name] = (images @ weights[0].T + biases[0].T).ravel()  # (n * n_hidden,)
    edges = np.linspace(-40, 40, bins + 1)
    for name, z in zs.items():
        counts, _ = np.histogram(np.clip(z, edges[0], edges[-1]), edges)
        s = Sigmoid.fn(z)
        out[name] = {
            "edges": edges.tolist(),
            "counts": counts.tolist(),
            "std": float(z.std()),
            "saturated_fraction": float(np.mean((s < 0.01) | (s > 0.99))),
        }
    return out


SECTIONS = {
    "cross-entropy": "Section 1: cross-entropy cost",
    "regularization": "Section 2: L2 regularization",
    "initialization": "Section 3: weight initialization",
    "full": "Section 4: full training",
}


def plan(options: Options) -> list[tuple[str, str, TrainConfig, dict]]:
    """Every MNIST training run: (section, name, config, how it is fed and monitored)."""
    base = TrainConfig(sizes=(784, 30, 10), epochs=options.epochs, seed=options.seed)
    # every run records saturation per epoch (before training, then after each epoch): the report page draws it
    plain = {"train": "training", "eval": "validation", "monitor": ("evaluation_accuracy", "saturation")}
    overfit = {
        "train": "training",
        "train_n": options.overfit_n,
        "eval": "test",
        "monitor": ("evaluation_accuracy", "training_accuracy", "saturation"),
    }
    full = {
        **plain,
        "monitor": ("evaluation_accuracy", "evaluation_cost", "training_cost", "training_accuracy", "saturation"),
    }
    return [
        ("cross-entropy", "baseline", base.replace(cost="quadratic", init="large", lmbda=0.0, eta=3.0), plain),
        ("cross-entropy", "cross-entropy", base.replace(init="large", lmbda=0.0, eta=0.5), plain),
        (
            "regularization",
            "overfit-lambda-0",
            base.replace(init="large", lmbda=0.0, eta=0.5, epochs=options.overfit_epochs),
            overfit,
        ),
        (
            "regularization",
            "overfit-lambda-0.1",
            base.replace(init="large", lmbda=0.1, eta=0.5, epochs=options.overfit_epochs),
            overfit,
        ),
        ("initialization", "regularized", base.replace(init="large", lmbda=5.0, eta=0.5), plain),
        ("initialization", "better-init", base.replace(init="default", lmbda=5.0, eta=0.5), plain),
        ("full", "full", base.replace(sizes=(784, 100, 10), lmbda=5.0, eta=0.5), full),
    ]


def trial_for(name: str, config: TrainConfig, feed: dict, options: Options) -> Trial:
    """One exploration run as a sweep trial: its data (with --quick's subsets), what it watches
    each epoch, and the three final accuracies; the trained network comes back too."""
    n_train = [n for n in (options.n_train, feed.get("train_n")) if n is not None]
    return Trial(
        key=name,
        config=config,
        n_train=min(n_train) if n_train else None,
        n_validation=options.n_validation,
        n_test=options.n_test,
        evaluation=feed["eval"],
        monitor=tuple(feed["monitor"]),
        finals=("validation", "test", "training"),
        keep_model=True,
    )


def record(result: dict) -> dict:
    """A run's entry in results.json, from its trial result (config, history, finals, time)."""
    return {
        "config": result["config"],
        "n_train": result["n_train"],
        "evaluation_data": result["evaluation_data"],
        "history": result["history"],
        "final": result["final"],
        "seconds": result["seconds"],
        "host": result["host"],
    }


def work(config: TrainConfig, feed: dict, sizes: dict) -> float:
    """A rough cost of a run (multiply-adds), to start the longest ones first when in parallel."""
    per_row = sum(a * b for a, b in zip(config.sizes[:-1], config.sizes[1:]))
    n_train = min(sizes["training"], feed.get("train_n") or sizes["training"])
    passes = {m.split("_")[0] for m in feed["monitor"]}  # one forward pass per watched set and epoch
    watched = (sizes[feed["eval"]] if "evaluation" in passes else 0) + (n_train if "training" in passes else 0)
    return config.epochs * per_row * (3 * n_train + watched)


class Relay:
    """Progress events of trials (dicts from any process) -> the Reporter's calls."""

    def __init__(self, reporter: Reporter, configs: dict):
        self.reporter, self.configs = reporter, configs

    def __call__(self, ev: dict) -> None:
        name, kind = ev.get("trial"), ev.get("kind")
        if name not in self.configs:
            return
        if kind == "start":
            self.reporter.run_start(name, self.configs[name], ev["n_train"])
        elif kind == "batch":
            self.reporter.batch_of(name, ev["done"], ev["total"])
        elif kind == "epoch":
            self.reporter.epoch(name, SimpleNamespace(**ev))


def new_results(options: Options, splits) -> dict:
    """The results skeleton: what was run, on what, by which versions."""
    return {
        "level": 3,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "complete": False,
        "options": options.__dict__.copy(),
        "sizes": {
            "training": len(splits.training.labels),
            "validation": len(splits.validation.labels),
            "test": len(splits.test.labels),
        },
        "versions": {"nndl": nndl.__version__, "numpy": np.__version__, "python": platform.python_version()},
        "ladder": [{"step": s, "run": r, "expected": e} for s, r, e in LADDER],
        "runs": {},
    }


def run_level3(
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
    """Run every section; return the results dict.

    The seven trainings are independent, so they run through ``runner`` (default: inline,
    one after another in this process); a pool runs them at once, longest first, and gives
    the same numbers bit for bit (one BLAS thread everywhere). ``source`` tells pool
    workers where to load the data (``splits`` is what this process loaded). ``on_save(results)``
    is called after each run is recorded, so an interrupted exploration keeps what it
    finished; ``on_model(name, net, record)`` receives each trained network and may return
    the path it saved it to (recorded as the run's ``model``). ``tensorboard`` (a folder): each
    run also writes TensorBoard event files into a folder of it named by the run.
    """
    reporter = reporter or Reporter()
    own = runner is None
    runner = runner or InlineRunner()
    try:
        return _run_level3(options, splits, reporter, on_save, runner, source, on_model, tensorboard)
    finally:
        if own:
            runner.close()


def _run_level3(options, splits, reporter, on_save, runner, source, on_model, tensorboard=None) -> dict:
    cut = type(splits)(
        splits.training.head(options.n_train),
        splits.validation.head(options.n_validation),
        splits.test.head(options.n_test),
    )
    results = new_results(options, cut)
    start = time.perf_counter()
    reporter.section("Section 1: cross-entropy cost")
    results["slowdown"] = slowdown_demo()
    results["gradient_curve"] = gradient_curve()
    results["z_distribution"] = z_distribution(cut.training.images[:1000].astype(np.float64), options.seed)
    planned = plan(options)
    names = [name for _, name, _, _ in planned]
    trials = [trial_for(name, config, feed, options) for _, name, config, feed in planned]
    if tensorboard is not None:
        trials = [dataclasses.replace(t, tensorboard=str(tensorboard)) for t in trials]
    section_of = {name: section for section, name, _, _ in planned}
    if runner.workers > 1:  # longest first, so the last to finish is short
        cost = {name: work(config, feed, results["sizes"]) for _, name, config, feed in planned}
        trials.sort(key=lambda t: -cost[t.key])
        reporter.section(f"Sections 2-4: {len(trials)} trainings on {runner.describe()}")
    runner.listen(Relay(reporter, {t.key: t.config for t in trials}))
    data = runner.share(source, splits) if source is not None else splits
    current = "cross-entropy"

    def before(trial):
        nonlocal current
        if runner.workers == 1 and section_of[trial.key] != current:
            current = section_of[trial.key]
            reporter.section(SECTIONS[current])

    return collect(
        runner,
        trials,
        data,
        results,
        lambda trial, result: record(result),
        names,
        reporter,
        start,
        on_save,
        on_model,
        on_submit=before,
    )


def collect(
    runner: Runner,
    trials: list,
    data,
    results: dict,
    record_of,
    names: list,
    reporter: Reporter,
    start: float,
    on_save=None,
    on_model=None,
    on_submit=None,
) -> dict:
    """Run ``trials`` through ``runner`` and record each as it finishes: ``record_of(trial, result)``
    is its entry in ``results["runs"]`` (kept in the order of ``names``), ``on_model(name, net,
    record)`` may save its network and return the path, ``on_save(results)`` is called after each
    run and at the end, with ``results["complete"]`` set. Shared by the explorations."""
    done = {}
    for trial, future in runner.run(run_trial, trials, data, on_submit=on_submit):
        result = future.result()
        rec = record_of(trial, result)
        if on_model is not None:
            path = on_model(trial.key, result["net"], rec)
            if path is not None:
                rec["model"] = str(path)
        done[trial.key] = rec
        reporter.run_end(trial.key, rec)
        results["runs"] = {n: done[n] for n in names if n in done}
        results["seconds"] = time.perf_counter() - start
        if on_save:
            on_save(results)
    results["complete"] = True
    results["seconds"] = time.perf_counter() - start
    if on_save:
        on_save(results)
    return results
