"""Level 4 (chapter 6): the ladder of convolutional networks, row by row beside the book's numbers.

Every row of the book's chapter 6, each trained by nndl's engine (``TrainConfig.layers``: conv
and pool layers in the stack, softmax output with the log-likelihood cost) through the same
runner as the sweeps and the other explorations: [784, 100, 10]; one and two conv-pool layers;
ReLU with L2; expanded data; a second fully connected layer; dropout on two fully connected
layers of 1,000; and an ensemble of five such networks, which answers by majority vote (the
book's; the mean of the five outputs is reported beside it). An exploration writes
results.json (every run's config and history), results.md (the ladder beside the book's
numbers), models/, and figures drawn from results.json (``nndl.explore.level4_figures``).

Shorter than the book, on purpose: the book trains 60 epochs a row (40 for dropout); here
each of the book's rows stops early once its validation accuracy has not improved for
``patience`` epochs (10, the book's "no-improvement-in-ten"; ``expanded_patience``, 5, on the
expanded set, whose epoch is five passes over the images; the best epoch's weights are kept),
within a cap of epochs per row (``Options``); the dropout nets, which the book trains for 40
epochs at a constant eta, halve eta when their validation accuracy stalls (chapter 3's schedule)
and stop at eta/8. Each training checkpoints every epoch (``Trial.checkpoint``) when given a folder for it, so a run
of hours that is stopped continues where it was, to the same weights.

nndl's rows differ from the book's network3 on purpose, and the table says so: the weights start
as nndl's initializers draw them (N(0, 1/n_in), or N(0, 2/n_in) for ReLU) where network3 scales
by the layer's outputs; the bias is added before pooling (the same values: max-pooling commutes
with adding a constant per map and with a rising activation); L2 is network2's
(1 - eta*lmbda/n) w, so the book's lmbda 0.1 (which network3 divides by the number of
mini-batches, n/10) is lmbda 1.0 here; and the dropout row drops where network3 does, the
inputs of the fully connected layers (``dropout_on='dense'``), but with p 0.2, not the book's
0.5: nndl's dropout is inverted (kept neurons scaled by 1/(1 - p) in training) on nndl's initial
weights, and at the book's eta 0.03 p 0.5 stayed at chance for 3 epochs on 10,000 images (0.3
for its first epoch), where 0.2 learned from the start.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nndl.augment import get_expansion
from nndl.config import TrainConfig
from nndl.explore.beyond import new_results, shrink
from nndl.explore.runs import Relay, Reporter, collect
from nndl.fileio import atomic_write_text
from nndl.sweep.runner import InlineRunner, Runner
from nndl.sweep.trial import DataSource, Trial

CONV1 = "conv:20x5x5,pool:2"
CONV2 = "conv:20x5x5,pool:2,conv:40x5x5,pool:2"
FULL_TRAINING = 50_000  # the book's training set (benchmarks/level4_estimate.py scales measured epochs to it)

# (key, what the row adds, the book's test accuracy in %, what the row shows)
LADDER = [
    (
        "shallow",
        "[784, 100, 10], softmax output: the baseline",
        97.80,
        "a network with no idea of space: every pixel its own input",
    ),
    (
        "conv",
        "+ a conv-pool layer: 20 maps of 5x5, max-pool 2x2",
        98.78,
        "shared 5x5 weights find a feature anywhere in the image",
    ),
    (
        "conv2",
        "+ a second conv-pool layer: 40 maps of 5x5",
        99.06,
        "features of features: the second layer combines the first's maps",
    ),
    (
        "relu",
        "+ rectified linear units, L2, eta 0.03",
        99.23,
        "ReLU neurons do not saturate, so the deep net keeps learning",
    ),
    (
        "expanded",
        "+ expanded data: each image and its four one-pixel shifts",
        99.37,
        "more (artificial) data is the surest cure for overfitting",
    ),
    (
        "fc2",
        "+ a second fully connected layer of 100",
        99.43,
        "a little more depth adds little: the data, not the net, limits it",
    ),
    (
        "dropout",
        "+ dropout, two fully connected layers of 1,000",
        99.60,
        "dropout lets a much larger net learn without overfitting",
    ),
    (
        "ensemble",
        "+ an ensemble of five such networks (majority vote)",
        99.67,
        "five nets err on different digits; their vote errs less",
    ),
]


@dataclass(frozen=True)
class Options:
    """What to run; ``quick`` shrinks the data and the epochs to a smoke test.

    The full run's caps are below the book's (60 epochs a row, 40 for dropout): every row
    also stops after ``patience`` epochs without a better validation accuracy
    (``expanded_patience`` on the expanded set), keeping the best epoch's weights, so a cap is reached only by a row still improving."""

    quick: bool = False
    seed: int = 0
    dataset: str = "mnist"
    epochs: int = 30  # a cap for the rows on the 50,000 images (the book: 60)
    expanded_epochs: int = 10  # a cap for the rows on the expanded (5x) set (the book: 20, conv.py)
    dropout_epochs: int = 16  # a cap for the dropout row and the ensemble's nets (the book: 40)
    dropout_patience: int = 2  # the dropout nets: halve eta after 2 expanded epochs without improvement
    dropout_divisor: float = 8.0  # ... and stop once eta has fallen to eta/8 (three halvings)
    patience: int = 10  # early stopping on the 50,000 images: the book's "no-improvement-in-ten"
    expanded_patience: int = 5  # early stopping on the expanded set: 5 epochs are 25 passes over the images
    ensemble: int = 5  # networks in the ensemble: the dropout row's and four more seeds
    beyond_seeds: int = 5  # beyond the book: the relu row's net with chapter 3's tools, this many seeds (5: a vote of five, as the book's)
    beyond_epochs: int = 20  # a cap (expanded epochs); the eta schedule ends a run, its best epoch is kept
    beyond_rotate: float = 8.0  # degrees: random rotations on top of the one-pixel shifts
    beyond_elastic: float = 0.0  # alpha of elastic distortions (Simard et al.: 34; off: see docs/level4)
    beyond_patience: int = 2  # halve eta after this many expanded epochs without a better validation accuracy
    beyond_divisor: float = 16.0  # stop once eta has fallen to eta/16 (four halvings)
    n_train_dropout: int | None = None  # training images of the dropout row and the ensemble (None: n_train)
    dtype: str = "float32"
    n_train: int | None = None
    n_validation: int | None = None
    n_test: int | None = None

    @classmethod
    def make(cls, quick: bool = False, **kw) -> Options:
        if quick:
            kw = {
                "epochs": 2,
                "expanded_epochs": 1,
                "dropout_epochs": 1,
                "n_train": 1000,
                "n_validation": 300,
                "n_test": 500,
                "n_train_dropout": 300,
                "beyond_seeds": 2,
                "beyond_epochs": 2,
                **kw,
            }
        return cls(quick=quick, **kw)


def configs(options: Options) -> dict[str, TrainConfig]:
    """Each training's configuration: the book's mini-batch 10 and eta, nndl's neurons and
    initializers, early stopping; the ensemble's extra nets are the dropout row with seeds
    seed+1, seed+2, ... (keys 'ensemble-2' ...; the dropout row is the ensemble's first)."""
    base = TrainConfig(
        sizes=(784, 100, 10),
        cost="log-likelihood",
        eta=0.1,
        lmbda=0.0,
        epochs=options.epochs,
        dtype=options.dtype,
        seed=options.seed,
        early_stopping=options.patience,
    )
    conv = base.replace(layers=f"{CONV1},dense:100")
    conv2 = base.replace(layers=f"{CONV2},dense:100")
    relu = conv2.replace(activation="relu", init="he", eta=0.03, lmbda=1.0)
    expanded = relu.replace(expand="shifts", epochs=options.expanded_epochs, early_stopping=options.expanded_patience)
    fc2 = expanded.replace(layers=f"{CONV2},dense:100,dense:100")
    dropout = expanded.replace(
        layers=f"{CONV2},dense:1000,dense:1000",
        lmbda=0.0,
        dropout=0.2,
        dropout_on="dense",  # network3's place: the inputs of the fully connected layers
        epochs=options.dropout_epochs,
        # chapter 3's schedule in place of the book's 40 epochs at a constant eta
        schedule="halve",
        schedule_patience=options.dropout_patience,
        schedule_divisor=options.dropout_divisor,
    )
    out = {
        "shallow": base,
        "conv": conv,
        "conv2": conv2,
        "relu": relu,
        "expanded": expanded,
        "fc2": fc2,
        "dropout": dropout,
    }
    for k in range(2, options.ensemble + 1):
        out[f"ensemble-{k}"] = dropout.replace(seed=options.seed + k - 1)
    beyond = expanded.replace(
        rotate=options.beyond_rotate,
        elastic=options.beyond_elastic,
        schedule="halve",
        schedule_patience=options.beyond_patience,
        schedule_divisor=options.beyond_divisor,
        # never stops a run before its cap, but keeps the best validation epoch's weights (the
        # test accuracy network3 reports), as the book's rows here do
        early_stopping=options.beyond_epochs,
        epochs=options.beyond_epochs,
    )
    for k, key in enumerate(beyond_keys(options)):
        out[key] = beyond.replace(seed=options.seed + k)
    return out


def beyond_keys(options: Options) -> list[str]:
    """The runs of the row beyond the book: 'beyond' (seed ``seed``), 'beyond-2' (seed+1), ..."""
    n = options.beyond_seeds
    return ["beyond"][:n] + [f"beyond-{k}" for k in range(2, n + 1)]


def ensemble_keys(options: Options) -> list[str]:
    """The ensemble's nets: the dropout row's and 'ensemble-2' (seed+1), ... up to ``ensemble``."""
    return ["dropout"] + [f"ensemble-{k}" for k in range(2, options.ensemble + 1)]


def run_level4(
    options: Options,
    splits,
    reporter: Reporter | None = None,
    on_save=None,
    *,
    runner: Runner | None = None,
    source: DataSource | None = None,
    on_model=None,
    checkpoints: Path | None = None,
    previous: dict | None = None,
) -> dict:
    """Train every row; return the results dict (``nndl.explore.beyond.run_beyond``'s contract).

    ``checkpoints``: a folder where each training saves itself after every epoch and from
    which the same call continues each unfinished one (finished ones are read back, not
    retrained). ``previous``: the results.json of the stopped run being continued (its
    ``created`` is kept). Besides the runs, ``results`` keeps what the figures need: the
    first conv layer's filters and a digit's feature maps (the 'relu' row), and the ensemble's
    votes on the test set and the digits it gets wrong.
    """
    reporter = reporter or Reporter()
    own = runner is None
    runner = runner or InlineRunner()
    try:
        splits = shrink(options, splits)
        results = new_results(options, splits)
        results["exploration"] = "level4"
        if previous and isinstance(previous.get("created"), str):
            results["created"] = previous["created"]
        rows = configs(options)
        big = ensemble_keys(options)
        voters = set(big) | set(beyond_keys(options))
        if checkpoints is not None:
            Path(checkpoints).mkdir(parents=True, exist_ok=True)
        trials = [
            Trial(
                key=k,
                config=c,
                evaluation="validation",
                monitor=("evaluation_accuracy",),
                finals=("validation", "test"),
                keep_model=True,
                n_train=options.n_train_dropout or options.n_train if k in big else options.n_train,
                n_validation=options.n_validation,
                n_test=options.n_test,
                checkpoint=None if checkpoints is None else str(Path(checkpoints) / f"{k}.json"),
            )
            for k, c in rows.items()
        ]
        nets = {}

        def model(name, net, record):
            if name == "relu":
                results["filters"] = net.layers[0].w.value[:, :, 0, :].transpose(2, 0, 1).round(5).tolist()
                results["feature_maps"] = feature_maps(net, splits.test.images[0])
            if name in voters:
                nets[name] = net
            return on_model(name, net, record) if on_model is not None else None

        def record_of(trial, result):
            return {
                "config": result["config"],
                "history": result["history"],
                "final": result["final"],
                "seconds": result["seconds"],
                "n_train": result["n_train"],
            }

        if on_save:
            on_save(results)  # the folder says at once what it is a run of
        reporter.section(f"{len(trials)} trainings on {runner.describe()}")
        runner.listen(Relay(reporter, {t.key: t.config for t in trials}))
        data = runner.share(source, splits) if source is not None else splits
        if runner.workers > 1:  # longest first, so the last to finish is short
            trials.sort(key=lambda t: -work(t.config))
        results = collect(
            runner,
            trials,
            data,
            results,
            record_of,
            list(rows),
            reporter,
            time.perf_counter(),
            (lambda r: on_save({**r, "complete": False})) if on_save else None,
            model,
        )
        results["ensemble"] = ensemble(nets, ensemble_keys(options), splits.test)
        if beyond_keys(options):
            results["beyond_ensemble"] = ensemble(nets, beyond_keys(options), splits.test)
        if on_save:
            on_save(results)
        return results
    finally:
        if own:
            runner.close()


def work(config: TrainConfig) -> float:
    """A rough cost of a training (for ordering only): epochs x expansion x the layers' width."""
    width = 10 if "1000" in config.layers else (2 if config.layers else 0.2)
    return config.epochs * get_expansion(config.expand).factor * width


def feature_maps(net, image) -> dict:
    """A digit (784,) through the first conv layers: {"image": (28, 28), "conv1": (maps, 24, 24),
    "conv2": (maps, 8, 8)}, each conv layer's activations, as JSON lists."""
    x = np.asarray(image, net.dtype).reshape(1, 784)  # (1, 784)
    acts = net.forward_layers(x)  # [x, (1, h, w, c) ...]
    convs = [a for layer, a in zip(net.layers, acts[1:]) if layer.spec()["kind"] == "conv"]
    out = {"image": np.asarray(image, np.float64).reshape(28, 28).round(3).tolist()}
    for i, a in enumerate(convs[:2], start=1):
        out[f"conv{i}"] = np.moveaxis(a[0], -1, 0).astype(np.float64).round(4).tolist()  # (maps, h, w)
    return out


def ensemble(nets: dict, keys: list[str], test) -> dict:
    """The nets of ``keys`` on ``test``: each one's accuracy, the majority vote's (ties go to the
    smallest digit) and the mean output's, and the digits the vote gets wrong (index, label,
    answer, the five answers, the image as 0-255 integers (28, 28))."""
    keys = [k for k in keys if k in nets]
    X, y = np.asarray(test.images), np.asarray(test.labels)  # (n, 784), (n,)
    outs = np.stack([nets[k].forward(X.astype(nets[k].dtype)).astype(np.float64) for k in keys])  # (k, n, 10)
    answers = outs.argmax(axis=2)  # (k, n)
    votes = np.zeros((len(y), 10), np.int64)  # (n, 10)
    for a in answers:
        votes[np.arange(len(y)), a] += 1
    vote = votes.argmax(axis=1)  # (n,) ties: smallest digit
    mean = outs.mean(axis=0).argmax(axis=1)  # (n,)
    wrong = np.flatnonzero(vote != y)
    return {
        "nets": keys,
        "n_test": int(len(y)),
        "each": {k: float(np.mean(a == y)) for k, a in zip(keys, answers)},
        "vote_accuracy": float(np.mean(vote == y)),
        "mean_accuracy": float(np.mean(mean == y)),
        "n_wrong": int(len(wrong)),
        "wrong": [
            {
                "index": int(i),
                "label": int(y[i]),
                "answer": int(vote[i]),
                "answers": answers[:, i].tolist(),
                "image": np.rint(X[i] * 255).astype(int).reshape(28, 28).tolist(),
            }
            for i in wrong[:60]
        ],
    }


STEP = {key: what for key, what, _, _ in LADDER}  # each of the book's rows: what it adds

DIFFERS = {
    "shallow": "nndl's N(0, 1/n_in) weights; network3 draws N(0, 1/n_out)",
    "relu": "the book's lambda 0.1 is network3's L2 divided by n/10 mini-batches: lambda 1.0 in network2's form",
    "dropout": "it drops where network3 does (the fully connected layers' inputs) with p 0.2: nndl's inverted "
    "dropout on its initial weights stayed at chance with the book's 0.5 at eta 0.03 (a 10,000-image trial)",
    "ensemble": "the dropout row's net and four more seeds, as the book's five runs",
}


# Beyond the book: (key, what the row is, the book's number it is compared with, which of the book's
# rows that number is, what the row shows). Not rows of the book: chapter 3's tools on its conv net.
BEYOND = [
    (
        "beyond",
        "beyond the book: the ReLU row's net + {tools}, eta halved",
        99.60,
        "its best single net",
        "chapter 3's tools in place of dropout and 1,000 neurons",
    ),
    (
        "beyond_ensemble",
        "beyond the book: the majority vote of",
        99.67,
        "its ensemble of five",
        "a vote of nets with no dropout against the book's five",
    ),
]
_BEYOND_RUN = re.compile(r"beyond(?:-([0-9]{1,6}))?")


def beyond_runs(results: dict) -> list[str]:
    """The runs beyond the book that ``results`` holds ('beyond', 'beyond-2', ...), in seed order;
    found by name in the file itself, so a file written before them simply has none."""
    found = [(m, k) for k in results["runs"] if (m := _BEYOND_RUN.fullmatch(k))]
    return [k for m, k in sorted(found, key=lambda mk: int(mk[0].group(1) or 1))]


def _ensemble_row(results: dict, record: dict, key, what, book, shows) -> dict:
    """A row from an ensemble record (``ensemble``): the vote's test accuracy, the mean output's
    beside it; epochs and seconds of all its nets together."""
    runs = [results["runs"][k] for k in record["nets"] if k in results["runs"]]
    return {
        "key": key,
        "what": what,
        "book": book,
        "shows": shows,
        "test": 100 * record["vote_accuracy"],
        "mean": 100 * record["mean_accuracy"],
        "validation": None,
        "nets": len(record["nets"]),
        "epochs": sum(len(r["history"]["epoch_seconds"]) for r in runs),
        "best": None,
        "seconds": sum(sum(r["history"]["epoch_seconds"]) for r in runs),
    }


def _best_epoch(run: dict) -> int | None:
    acc = run["history"]["evaluation_accuracy"]
    return 1 + int(np.argmax(acc)) if acc else None


def beyond_elastic(results: dict) -> float:
    """The alpha of the elastic distortions the runs beyond the book were trained with (their first
    run's configuration; they share it), 0.0 when none or when the file holds no such run."""
    keys = beyond_runs(results)
    return float((results["runs"][keys[0]].get("config") or {}).get("elastic") or 0.0) if keys else 0.0


def beyond_rows(results: dict) -> list[dict]:
    """The two rows beyond the book, when ``results`` holds their runs: the single net (the mean
    test and validation accuracy over its random seeds, their range, each one's epochs, seconds a net)
    and the vote of those nets (``results["beyond_ensemble"]``). Each row's "book" is the book's
    number it is compared with (``book_row`` says which), and "beyond" marks it as not the book's."""
    keys = beyond_runs(results)
    if not keys:
        return []
    (key, what, book, book_row, shows), (ekey, ewhat, ebook, ebook_row, eshows) = BEYOND
    runs = [results["runs"][k] for k in keys]
    alpha = beyond_elastic(results)
    what = what.format(tools="rotations, elastic distortions" if alpha else "rotations")
    test = [100 * r["final"]["test_accuracy"] for r in runs]
    out = [
        {
            "key": key,
            "what": f"{what} (mean of {len(keys)} seed{'s' if len(keys) > 1 else ''})",
            "book": book,
            "book_row": book_row,
            "shows": shows,
            "beyond": True,
            "seeds": len(keys),
            "test": float(np.mean(test)),
            "test_min": min(test),
            "test_max": max(test),
            "validation": float(np.mean([100 * r["final"]["validation_accuracy"] for r in runs])),
            "epochs_each": [len(r["history"]["epoch_seconds"]) for r in runs],
            "best_each": [_best_epoch(r) for r in runs],
            "epochs": sum(len(r["history"]["epoch_seconds"]) for r in runs),
            "best": None,
            "seconds": float(np.mean([sum(r["history"]["epoch_seconds"]) for r in runs])),
            "layers": (runs[0].get("config") or {}).get("layers"),
            "elastic": alpha,
            "run": keys[0],
        }
    ]
    e = results.get("beyond_ensemble")
    if e and e["nets"]:
        n = len(e["nets"])
        row = _ensemble_row(results, e, ekey, f"{ewhat} those {n} nets", ebook, eshows)
        out.append({**row, "book_row": ebook_row, "beyond": True})
    return out


def ladder_rows(results: dict) -> list[dict]:
    """The ladder as rows: the book's number beside ours (test and validation %, epochs run,
    best epoch, seconds); the ensemble row from the ensemble's vote; then the rows beyond the
    book (``beyond_rows``), when the file holds them."""
    out = []
    for key, what, book, shows in LADDER:
        if key == "ensemble":
            e = results.get("ensemble")
            if e and e["nets"]:
                out.append(_ensemble_row(results, e, key, what, book, shows))
            continue
        r = results["runs"].get(key)
        if r is None:
            continue
        out.append(
            {
                "key": key,
                "what": what,
                "book": book,
                "shows": shows,
                "test": 100 * r["final"]["test_accuracy"],
                "validation": 100 * r["final"]["validation_accuracy"],
                "epochs": len(r["history"]["epoch_seconds"]),
                "best": _best_epoch(r),
                "seconds": sum(r["history"]["epoch_seconds"]),
                "layers": (r.get("config") or {}).get("layers"),
            }
        )
    return out + beyond_rows(results)


def _seeds(results: dict, keys: list[str]) -> str:
    seeds = [results["runs"][k]["config"]["seed"] for k in keys if k in results["runs"]]
    return ", ".join(str(s) for s in seeds)


def _cells(r: dict) -> tuple[str, str, str, str, str]:
    """A row's test, book, validation, epochs and time cells in results.md."""
    if r.get("beyond") and r["validation"] is not None:  # the single net beyond the book: its seeds' mean
        best = ", ".join("-" if b is None else str(b) for b in r["best_each"])
        return (
            f"**{r['test']:.2f}%** ({r['test_min']:.2f}-{r['test_max']:.2f}, mean of {r['seeds']} seeds)",
            f"{r['book']:.2f}% ({r['book_row']})",
            f"{r['validation']:.2f}% (mean)",
            f"{', '.join(map(str, r['epochs_each']))} (best {best})",
            f"{r['seconds']:.0f} s a net",
        )
    book = f"{r['book']:.2f}%" + (f" ({r['book_row']})" if r.get("beyond") else "")
    if r["validation"] is None:  # an ensemble: the vote, the mean of the outputs beside it
        return (
            f"**{r['test']:.2f}%**",
            book,
            f"mean of outputs {r['mean']:.2f}%",
            f"{r['epochs']} in {r['nets']} nets",
            f"{r['seconds']:.0f} s",
        )
    return (
        f"**{r['test']:.2f}%**",
        book,
        f"{r['validation']:.2f}%",
        f"{r['epochs']} ({r['best']})",
        f"{r['seconds']:.0f} s",
    )


def beyond_text(results: dict) -> list[str]:
    """results.md's paragraph on the rows beyond the book: what they add, what they lack, their
    numbers and what to notice; none when the file holds no run beyond the book."""
    rows = beyond_rows(results)
    if not rows:
        return []
    single, vote = rows[0], rows[1] if len(rows) > 1 else None
    keys = beyond_runs(results)
    c = results["runs"][keys[0]]["config"]
    each = ", ".join(f"{100 * results['runs'][k]['final']['test_accuracy']:.2f}%" for k in keys)
    lines = [
        "",
        f"Beyond the book (not rows of the book; the book column holds the number each is compared with): "
        f"the ReLU row's network, trained on the expanded data with chapter 3's tools: random rotations of "
        f"up to {c['rotate']:g} degrees on top of the one-pixel shifts"
        + (
            f", elastic distortions (alpha {c['elastic']:g}, the \"elastic distortion\" of Simard, Steinkraus "
            f"and Platt that the book cites for 99.6% with a net much like this one)"
            if c.get("elastic")
            else ""
        )
        + f", and eta halved after "
        f"{c['schedule_patience']} expanded epoch{'' if c['schedule_patience'] == 1 else 's'} without a better "
        f"validation accuracy, stopping once it has fallen to eta/{c['schedule_divisor']:g} (cap: {c['epochs']} "
        f"epochs)"
        + (", and keeping its best validation epoch's weights" if c.get("early_stopping") else "")
        + f". It has no dropout and only 100 neurons in its fully connected layer (the book's 99.60% "
        f"needed dropout and two layers of 1,000). Seeds {_seeds(results, keys)}: alone, "
        f"{single['test']:.2f}% test, the mean of {single['seeds']} (each: {each})"
        + (
            f"; their majority vote {vote['test']:.2f}% "
            f"({results['beyond_ensemble']['n_wrong']} of {results['beyond_ensemble']['n_test']:,} test digits "
            f"wrong), the mean of their outputs {vote['mean']:.2f}%."
            if vote
            else "."
        ),
    ]
    if results["options"].get("quick"):
        notice = (
            "A quick run on a small sample is far below the book: only the full run on all of MNIST says "
            "whether these tools reach the book's 99.60% and 99.67%."
        )
    else:

        def against(ours: float, book: float) -> str:
            return "above" if ours > book else "level with" if ours == book else "below"

        notice = (
            f"Notice that one such net, with 100 fully connected neurons (the dropout row has 2,000) and "
            f"no dropout, is {against(round(single['test'], 2), single['book'])} the book's best single net "
            f"({single['test']:.2f}% against {single['book']:.2f}%)"
            + (
                f", and the vote of {vote['nets']} of them {against(round(vote['test'], 2), vote['book'])} the "
                f"book's ensemble of five ({vote['test']:.2f}% against {vote['book']:.2f}%)."
                if vote
                else "."
            )
        )
    return lines + ["", notice]


def dropout_schedule_text(results: dict) -> list[str]:
    """results.md's line on the dropout nets' eta schedule, when they had one (the book keeps eta
    0.03 for its 40 epochs); none for a file whose dropout nets kept eta constant."""
    c = (results["runs"].get("dropout") or {}).get("config") or {}
    if c.get("schedule") != "halve" or any(
        c.get(k) is None for k in ("eta", "schedule_patience", "schedule_divisor", "epochs")
    ):
        return []  # constant eta, or a file that does not say
    p = c["schedule_patience"]
    return [
        f"- {STEP['dropout']} and the ensemble's nets: eta {c['eta']:g} "
        f"halved after {p} expanded epoch{'' if p == 1 else 's'} without a better validation accuracy, "
        f"stopping once it has fallen to eta/{c['schedule_divisor']:g} (cap: {c['epochs']} epoch"
        f"{'' if c['epochs'] == 1 else 's'}), where the "
        f"book keeps eta {c['eta']:g} for 40 epochs: chapter 3's schedule in place of a run that long."
    ]


def markdown(results: dict) -> str:
    o, s = results["options"], results["sizes"]
    quick = o["quick"]
    beyond = beyond_runs(results)
    ens = [k for k in (results.get("ensemble") or {}).get("nets", []) if k in results["runs"]]
    seeds = [f"the ensemble's {_seeds(results, ens)}"] if len(ens) > 1 else []
    seeds += [f"beyond the book's {_seeds(results, beyond)}"] if beyond else []
    beyond_config = results["runs"][beyond[0]]["config"] if beyond else {}
    beyond_stop = (
        "; the rows beyond the book stop when their eta schedule ends"
        + (" and keep their best epoch too" if beyond_config.get("early_stopping") else "")
        if beyond
        else ""
    )
    lines = [
        f"# Level 4: convolutional networks (chapter 6){' - quick run: small data, few epochs' if quick else ''}",
        "",
        f"Data: {o['dataset']}, {s['training']:,} training, {s['validation']:,} validation, {s['test']:,} "
        f"test images; one run a row, seed {o['seed']}"
        + (f" (seeds of the rows of several nets: {'; '.join(seeds)})" if seeds else "")
        + f"; each of the book's rows stops after {o['patience']} "
        f"epochs without a better validation accuracy ({o.get('expanded_patience', o['patience'])} on expanded "
        "data) and keeps its best epoch"
        + beyond_stop
        + f" (caps: {o['epochs']} epochs, {o['expanded_epochs']} on expanded data, {o['dropout_epochs']} with "
        f"dropout"
        + (f", {beyond_config['epochs']} beyond the book" if beyond else "")
        + "). The book's numbers are its runs of 60 epochs (40 with dropout) on all of MNIST"
        + (": with less data and fewer epochs, read the order of the rows, not the numbers." if quick else "."),
        "",
        "| Row | Test accuracy | The book | Validation | Epochs (best) | Time | What it shows |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = ladder_rows(results)
    for r in rows:
        if r.get("beyond") and r["key"] == BEYOND[0][0]:
            lines.append(
                "| ***Beyond the book*** (not the book's rows; the book column holds the number each is "
                "compared with) | | | | | | |"
            )
        test, book, val, ep, sec = _cells(r)
        lines.append(f"| {r['what']} | {test} | {book} | {val} | {ep} | {sec} | {r['shows']} |")
    e = results.get("ensemble")
    if e:
        lines += [
            "",
            f"The ensemble answers by majority vote, as the book's (ties go to the smaller digit): "
            f"{100 * e['vote_accuracy']:.2f}%, {e['n_wrong']} of {e['n_test']:,} test digits wrong; the mean "
            f"of the five softmax outputs gives {100 * e['mean_accuracy']:.2f}%. Each net alone: "
            + ", ".join(f"{100 * v:.2f}%" for v in e["each"].values())
            + ".",
        ]
    lines += beyond_text(results)
    lines += ["", "Where nndl differs from the book's network3, and why the numbers may differ:", ""]
    lines += [f"- {STEP[k]}: {why}." for k, why in DIFFERS.items()]
    lines += dropout_schedule_text(results)
    lines += [
        "- every row: early stopping (the book trains all its epochs and reports the test accuracy of the "
        "best validation epoch); the bias is added before pooling (the same values)."
    ]
    if not quick:
        lines += [
            "",
            "Time: the seconds of each row's epochs (wall clock on this machine, other work included)"
            + ("; beyond the book, the mean of a net's." if beyond else "."),
        ]
    return "\n".join(lines) + "\n"


def text(results: dict, width: int = 80) -> str:
    quick = " (quick run)" if results["options"].get("quick") else ""
    lines = [f"Level 4: chapter 6's ladder{quick}", "test accuracy (the book's)", ""]
    for r in ladder_rows(results):
        if r.get("beyond") and r["key"] == BEYOND[0][0]:
            lines.append("beyond the book (beside the book's best it compares with):")
        what = r["what"].removeprefix("beyond the book: ")
        lines.append(f"{r['test']:6.2f}% ({r['book']:.2f}%)  {what}"[:width])
    return "\n".join(lines) + "\n"


def write_outputs(results: dict, folder: Path) -> list[Path]:
    """results.md and the figures (``nndl.explore.level4_figures``), from ``results`` alone."""
    from nndl.explore.level4_figures import draw_all

    atomic_write_text(folder / "results.md", markdown(results))
    return draw_all(results, folder, LADDER, ladder_rows(results))
