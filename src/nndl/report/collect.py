"""What the report page shows, gathered from an exploration folder or one model file.

An exploration folder (``pictures/level3/<stamp>/``, or ``pictures/beyond/<stamp>/`` from
``nndl explore beyond``) holds ``results.json`` (every run's
configuration, per-epoch history and final accuracies), the five figures and, for each
run, ``models/<run>.json``. A model file holds the weights and, when ``nndl train --save``
wrote it, the configuration and history too. Either becomes one JSON-ready dict
(``Report``): the static parts (ladder, runs, figures, saturation) and, for each network,
what the page's JavaScript needs - weights as base64 float32, the test digits it gets
wrong, its confusion matrix.

Nothing here prints or writes; ``nndl.report.page`` turns a ``Report`` into HTML.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from nndl.engine.describe import describe
from nndl.errors import DataError, ModelFileError
from nndl.serialization import saved_dataset

from .modelfile import WORK_VALUES, check_for_page, read_model
from .resultsfile import read_results

CONV_ROWS = 500  # test digits a conv net reads at a time (its patch matrices are k*k times its maps)
MISTAKES = 48  # misclassified test digits the gallery shows first, the most confident of all
PER_CELL = 3  # and the most confident of every confusion-matrix cell, so that no cell shows none
EXAMPLES_PER_CLASS = 2  # test digits to click, per class
FIGURE_COLOURS = 160  # figures are re-encoded with an adaptive palette this large (about 2.5x smaller)


LEVEL4_FIGURES = ("1_filters.png",)  # nndl.explore.level4.draw_filters' figure (its title says what to notice)
EXPECTED = "Level 3 document expects"  # the ladder's third column for Level 3 (MNIST's expectations)


@dataclass
class Report:
    """Everything the page shows. ``networks`` and ``digits`` feed the JavaScript; the rest is
    written as HTML by ``nndl.report.page``."""

    kind: str  # "exploration" or "model"
    title: str
    source: str  # the folder or file the report was made from
    notes: list = field(default_factory=list)  # plain sentences for the header
    ladder: list = field(default_factory=list)  # rows: step, run, expected, config, test, validation (text)
    ladder_expected: str = EXPECTED  # the header of the ladder's third column
    runs: list = field(default_factory=list)  # name, label, config, final, history, ...
    figures: list = field(default_factory=list)  # file, caption, png (base64)
    networks: list = field(default_factory=list)  # see network_entry
    digits: dict | None = None  # pixels (base64 uint8, n*784), labels
    examples: list = field(default_factory=list)  # indices into digits: the ones to click
    test_name: str = ""  # "the MNIST test set (10,000 digits)"


def b64(array: np.ndarray, dtype: str) -> str:
    """Little-endian bytes of ``array`` as ``dtype`` ('<f4' or 'u1'), base64 (compact, exact)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


FIGURE_PIXELS = 4_000_000  # a figure nndl draws is 1,000 x 700 or so; a larger picture was not drawn by nndl


def figure_png(path: Path) -> str:
    """A figure's PNG re-encoded with an adaptive palette (charts have few colours), base64.
    A file that is not a PNG of at most ``FIGURE_PIXELS`` pixels is a ``DataError`` (checked
    from its header, before any pixel is decoded)."""
    try:
        with Image.open(path, formats=["PNG"]) as im:
            w, h = im.size
            if w * h > FIGURE_PIXELS:
                raise DataError(
                    f"{path}: a figure of {w:,} x {h:,} pixels, more than the {FIGURE_PIXELS:,} of a figure nndl draws"
                )
            im = im.convert("RGB").quantize(FIGURE_COLOURS, dither=Image.Dither.NONE)
            buf = io.BytesIO()
            im.save(buf, format="PNG", optimize=True)
    except DataError:
        raise
    except (OSError, ValueError, TypeError, SyntaxError, Image.DecompressionBombError, MemoryError) as e:
        raise DataError(f"{path}: not a figure nndl can show (a PNG was expected): {type(e).__name__}") from None
    return base64.b64encode(buf.getvalue()).decode("ascii")


class DigitPool:
    """Test digits the page embeds once (uint8, 784 each) however many lists refer to them."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images, self.labels = images, labels  # (n, 784) float32 in [0, 1], (n,)
        self.index: dict[int, int] = {}  # test-set row -> position in the pool

    def add(self, row: int) -> int:
        return self.index.setdefault(int(row), len(self.index))

    def encoded(self) -> dict:
        rows = sorted(self.index, key=self.index.get)
        pixels = np.rint(self.images[rows].astype(np.float64) * 255)  # (k, 784)
        return {"pixels": b64(pixels, "u1"), "labels": [int(self.labels[r]) for r in rows], "rows": rows}


def stack_entry(net) -> list[dict]:
    """A network of conv, pool and dense layers as the page's JavaScript reads it: per layer its
    spec, its per-example shapes (height, width, channels) or (n,), and its parameters as base64
    float32, row-major in the engine's own layout - conv ``w`` (k, k, channels, maps) and ``b``
    (maps,), dense ``w`` (n_out, n_in) and ``b`` (n_out,)."""
    out = []
    for layer in net.layers:
        e = {**layer.spec(), "in_shape": list(layer.in_shape), "out_shape": list(layer.out_shape)}
        if layer.kind == "conv":
            e["w"], e["b"] = b64(layer.w.value, "<f4"), b64(layer.b.value, "<f4")  # (k, k, C, maps), (maps,)
        elif layer.kind == "dense":
            w, b = layer.params  # (n_out, n_in), (n_out,)
            e["w"], e["b"] = b64(w.value, "<f4"), b64(b.value, "<f4")
        out.append(e)
    return out


def network_entry(net, name: str, label: str, test, pool: DigitPool | None) -> dict:
    """What the page needs of one network: its shape, activations, weights (base64 float32,
    row-major (n_out, n_in) per layer; a conv net's stack as ``stack_entry`` writes it), and on
    the test split its accuracy, confusion matrix and most confident mistakes (indices into
    ``pool``). ``check_for_page`` first."""
    entry = {
        "name": name,
        "label": label,
        "sizes": list(net.sizes),
        "activation": net.activation.name,
        "output": net.output.name,
        "cost": net.cost.name,
    }
    if net.dense:
        entry["weights"] = [b64(w, "<f4") for w in net.weights]  # (n_out, n_in)
        entry["biases"] = [b64(b.ravel(), "<f4") for b in net.biases]  # (n_out,)
    else:
        entry["in_shape"], entry["stack"] = list(net.in_shape), stack_entry(net)
    if test is None or net.sizes[0] != test.images.shape[1]:
        return entry
    X = test.images.astype(net.dtype)  # (n, 784)
    step = max(1, min(5000, WORK_VALUES // max(net.sizes))) if net.dense else CONV_ROWS  # rows at a time
    out = np.concatenate([net.forward(X[i : i + step]) for i in range(0, len(X), step)]).astype(np.float64)
    predicted = out.argmax(axis=1)  # (n,)
    total = out.sum(axis=1)
    confidence = out[np.arange(len(out)), predicted] / np.where(total > 0, total, 1.0)  # (n,)
    k = net.sizes[-1]
    labels = test.labels
    confusion = np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)  # (k, k)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")]  # most confident first
    cell = labels[wrong] * k + predicted[wrong]  # (n_wrong,) its cell
    rank = np.zeros(len(wrong), np.int64)  # place within its cell
    for c in np.unique(cell):
        at = np.flatnonzero(cell == c)
        rank[at] = np.arange(len(at))
    wrong = wrong[(np.arange(len(wrong)) < MISTAKES) | (rank < PER_CELL)]  # at most MISTAKES + k*(k-1)*PER_CELL
    entry["saturation"] = [round(float(v), 4) for v in saturation(net, X[:1000], step)]  # per hidden layer, now
    entry["test"] = {
        "n": int(len(labels)),
        "correct": int(np.trace(confusion)),
        "confusion": confusion.tolist(),
        "top": MISTAKES,
        "per_cell": PER_CELL,
        "mistakes": [[pool.add(r), int(labels[r]), int(predicted[r]), round(float(confidence[r]), 4)] for r in wrong]
        if pool is not None
        else [],
    }
    return entry


def saturation(net, X, step: int) -> list[float]:
    """``net.saturation(X)`` computed ``step`` rows at a time (a conv net's patches of 1,000 digits
    would take hundreds of MB at once): each chunk's shares weighted by its rows."""
    parts = [(len(X[i : i + step]), net.saturation(X[i : i + step])) for i in range(0, len(X), step)]
    return [sum(n * s[k] for n, s in parts) / len(X) for k in range(len(parts[0][1]))] if parts else []


def add_examples(report: Report, pool: DigitPool) -> None:
    """The first ``EXAMPLES_PER_CLASS`` test digits of each class, to click on the page."""
    labels = pool.labels
    for c in sorted(set(int(v) for v in labels)):
        for r in np.flatnonzero(labels == c)[:EXAMPLES_PER_CLASS]:
            report.examples.append(pool.add(int(r)))


def run_label(name: str, config: dict | None, step: str | None = None) -> str:
    """'full: + larger hidden layer [784, 100, 10]' for a ladder run, else a config summary."""
    if step:
        return f"{name}: {step}"
    if not config:
        return name
    return (
        f"{name}: {config.get('sizes')}, {config.get('cost')}, {config.get('init')} init, "
        f"lambda {config.get('lmbda', 0):g}, eta {config.get('eta', 0):g}"
    )


def _caption(make, results: dict) -> str:
    """A figure's caption computed from results.json, as the figure says it; none (rather than
    an error) when the file lacks what the caption reads (an unfinished run's)."""
    try:
        return make(results)
    except (KeyError, TypeError, IndexError, ValueError, ZeroDivisionError, AttributeError):
        return ""


def _history(h) -> dict:
    return h if isinstance(h, dict) else {}


def add_beyond_ladder(report: Report, results: dict, steps: dict) -> None:
    """The ladder past 98 % of a beyond-Level-3 folder: one row per step, the seeds' mean test and
    validation accuracy with their range; the row's first-seed run stands for it."""
    from nndl.explore.beyond import ladder_stats

    report.ladder_expected = "What it shows"
    for row in ladder_stats(results):
        first = next(n for n, r in results["runs"].items() if r.get("group") == f"ladder:{row['key']}")
        steps[first] = row["step"]
        report.ladder.append(
            {
                "step": row["step"],
                "run": first,
                "expected": row["why"],
                "config": row["config"],
                "test": f"{row['test_mean']:.2f}% ({row['test_min']:.2f}-{row['test_max']:.2f})",
                "validation": f"{row['validation_mean']:.2f}% ({row['validation_min']:.2f}-{row['validation_max']:.2f})",
            }
        )


def add_level4_ladder(report: Report, results: dict, steps: dict) -> None:
    """Chapter 6's ladder of a Level 4 folder beside the book's test accuracy: one row per run, the
    ensemble's vote (its first net's configuration, no network of its own to run), then the rows
    beyond the book (the single net's mean over its runs, one per random initialization, with their range,
    its menu entry the first run's network; their vote), each beside the book's number it is compared with."""
    from nndl.explore.level4 import ladder_rows

    report.ladder_expected = "The book"
    for row in ladder_rows(results):
        beyond = bool(row.get("beyond"))
        ensemble = row["validation"] is None  # a vote: a row of the ladder, no network of its own
        run = None if ensemble else row.get("run", row["key"])
        first = results[row["key"]]["nets"][0] if ensemble else run  # "ensemble" or "beyond_ensemble"
        if run is not None:
            steps[run] = row["what"]
        test = f"{row['test']:.2f}%"
        if ensemble:
            test += " (majority vote)"
        elif beyond:
            test += f" ({row['test_min']:.2f}-{row['test_max']:.2f}, mean of {row['seeds']} seeds)"
        report.ladder.append(
            {
                "step": row["what"],
                "run": run,
                "expected": f"{row['book']:.2f}%" + (f" ({row['book_row']})" if beyond else ""),
                "config": results["runs"][first].get("config") or {},
                "test": test,
                "validation": "-" if ensemble else f"{row['validation']:.2f}%" + (" (mean)" if beyond else ""),
                "beyond": beyond,
            }
        )


def from_folder(folder: Path, test=None) -> Report:
    """A ``Report`` of an exploration folder; ``test`` is the test split it used (a ``Split``,
    cut to the size results.json records), or None to leave out the digits and mistakes."""
    folder = Path(folder)
    if not (folder / "results.json").exists():
        raise DataError(
            f"{folder}: no results.json here; give an exploration folder "
            f"(pictures/level3/YYYYMMDD_HHMMSS) or a model file"
        )
    results = read_results(folder)  # its whole shape checked here, once: ResultsFileError otherwise
    options = results.get("options") if isinstance(results.get("options"), dict) else {}
    sizes = results.get("sizes") if isinstance(results.get("sizes"), dict) else {}
    beyond = results.get("exploration") == "beyond"  # nndl explore beyond's folder
    level4 = results.get("exploration") == "level4"  # nndl explore level4's folder (chapter 6)
    title = (
        "Beyond Level 3: the rest of chapter 3 - what the networks learned"
        if beyond
        else "Level 4: convolutional networks (chapter 6) - what the networks learned"
        if level4
        else "Level 3: Improved Neural Network Techniques - what the networks learned"
    )
    report = Report(kind="exploration", source=str(folder), title=title)
    dataset = options.get("dataset", "mnist")
    report.notes.append(
        f"Made from the exploration in {folder} ({results.get('created', 'date unknown')}), "
        f"data set {dataset}" + (": a quick run (small data, few epochs)." if options.get("quick") else ".")
    )
    if not results.get("complete"):
        report.notes.append("This exploration did not finish: only the runs it completed are shown.")
    steps = {}
    if beyond:
        add_beyond_ladder(report, results, steps)
    elif level4:
        add_level4_ladder(report, results, steps)
    for row in [] if beyond or level4 else results.get("ladder", []):
        run = results["runs"].get(row.get("run"))
        steps[row.get("run")] = row.get("step")
        if run is None:
            continue
        report.ladder.append(
            {
                "step": row.get("step"),
                "run": row.get("run"),
                "expected": row.get("expected"),
                "config": run.get("config", {}),
                "test": f"{100 * run['final']['test_accuracy']:.2f}%",
                "validation": f"{100 * run['final']['validation_accuracy']:.2f}%",
            }
        )
    for name, run in results["runs"].items():
        report.runs.append(
            {
                "name": name,
                "label": run_label(name, run.get("config"), steps.get(name)),
                "config": run.get("config", {}),
                "final": run.get("final", {}),
                "history": _history(run.get("history")),
                "n_train": run.get("n_train"),
                "evaluation_data": run.get("evaluation_data", "validation"),
                "n_evaluation": sizes.get(run.get("evaluation_data", "validation")),
                "seconds": run.get("seconds"),
            }
        )
    if level4:
        FILES, CAPTION = LEVEL4_FIGURES, {}
    elif beyond:
        from nndl.explore.beyond_figures import CAPTION, FILES
    else:
        from nndl.explore.figures import CAPTION, FILES
    for name in FILES:
        if (folder / name).is_file():
            report.figures.append(
                {
                    "file": name,
                    "caption": _caption(CAPTION[name], results) if name in CAPTION else "",
                    "png": figure_png(folder / name),
                }
            )
    if test is not None and sizes.get("test"):
        test = type(test)(test.images[: sizes["test"]], test.labels[: sizes["test"]])
    pool = DigitPool(test.images, test.labels) if test is not None else None
    if pool is not None:
        add_examples(report, pool)
        report.test_name = f"the first {len(test.labels):,} digits of the {dataset} test set"
    weights = 0
    order = [r["run"] for r in report.ladder if r["run"] is not None] + (
        [] if beyond or level4 else [n for n in results["runs"] if n not in steps]
    )
    for name in order:
        path = folder / "models" / f"{name}.json"  # a run's name is a name (checked), never a path
        if path.is_file():
            net, _, _, _ = read_model(path)
            weights = check_for_page(net, path, test, weights)
            report.networks.append(
                network_entry(
                    net, name, run_label(name, results["runs"][name].get("config"), steps.get(name)), test, pool
                )
            )
    if not report.networks:
        report.notes.append(
            f"{folder / 'models'} holds no model files, so the page cannot run a network: "
            f"run `nndl report MODEL.json` on a model saved by `nndl train --save`."
        )
    elif beyond:
        report.notes.append(
            f"The menu holds each ladder row's first-seed network; the exploration's other "
            f"models are in {folder / 'models'} (`nndl report {folder / 'models'}/NAME.json` "
            f"shows one)."
        )
    if pool is not None:
        report.digits = pool.encoded()
    return report


def from_model(path: Path, test=None, dataset: str | None = None) -> Report:
    """A ``Report`` of one model file (its configuration and history when it has them)."""
    path = Path(path)
    net, d, config, history = read_model(path)
    check_for_page(net, path, test)
    dataset = dataset or saved_dataset(d) or "mnist"
    report = Report(kind="model", source=str(path), title=f"What the network in {path.name} learned")
    shape = (
        f"{net.sizes}, {net.activation.name} hidden neurons"
        if net.dense
        else f"the layers {describe(net.specs()[:-1])} -> {net.sizes[-1]}"
    )
    report.notes.append(
        f"Made from the model file {path}: {shape}, "
        f"{net.cost.name} cost ({net.output.name} outputs)"
        + (f", trained on {saved_dataset(d)}." if saved_dataset(d) else ".")
    )
    if history or config:
        report.runs.append(
            {
                "name": path.stem,
                "label": run_label(path.stem, config),
                "config": config or {},
                "final": {},
                "history": history,
                "n_train": history.get("n_training"),
                "evaluation_data": "validation",
                "n_evaluation": history.get("n_evaluation"),
                "seconds": sum(history.get("epoch_seconds") or []) or None,
            }
        )
    pool = DigitPool(test.images, test.labels) if test is not None else None
    if pool is not None:
        add_examples(report, pool)
        report.test_name = f"the {dataset} test set ({len(test.labels):,} digits)"
    if test is not None and net.sizes[0] != test.images.shape[1]:
        raise ModelFileError(
            f"{path} takes {net.sizes[0]} inputs, but the {dataset} images have {test.images.shape[1]} pixels"
        )
    report.networks.append(network_entry(net, path.stem, run_label(path.stem, config), test, pool))
    if pool is not None:
        report.digits = pool.encoded()
    return report
