"""``nndl explore beyond``: the rest of chapter 3, seven figures, and the ladder past 98 %.

The command-line layer of ``nndl.explore.beyond`` (as ``level3`` is of ``runs``): it parses
options, draws progress, prints, and chooses the exit code. ``src/level3/2_beyond_level3.py``
and ``nndl explore beyond`` both call ``main``.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

import nndl
from nndl import fileio
from nndl.blas import blas_threads
from nndl.cli.common import OneLineParser, cap, describe, interrupt_status, nonnegative_int
from nndl.errors import NndlError, quote
from nndl.explore import beyond, beyond_figures
from nndl.explore.level3 import BarReporter
from nndl.fileio import atomic_write_text
from nndl.sweep.runner import cpu_count, make_runner
from nndl.sweep.trial import DataSource


def parser(prog: str = "nndl explore beyond") -> OneLineParser:
    p = OneLineParser(
        prog=prog,
        description="Beyond Level 3: the rest of chapter 3 of 'Neural Networks and Deep Learning' - softmax with "
                    "the log-likelihood cost, dropout against L2, momentum, tanh and ReLU neurons, the book's "
                    "learning-rate schedule and artificially expanded data - each measured on MNIST, and the "
                    "ladder past 98 %% (three seeds a row). Saves seven figures, results.json, results.md and "
                    "the trained models to PICTURES/beyond/YYYYMMDD_HHMMSS/. The full run takes about 20 "
                    "minutes on two cores.")
    p.add_argument("--quick", action="store_true",
                   help="small subsets and few epochs: a smoke test in under a minute (figures say 'quick')")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="first seed, an integer >= 0 (the ladder uses it and the next two; default 0)")
    p.add_argument("--pictures", default="pictures", metavar="DIR",
                   help="where the timestamped folder goes (default: ./pictures)")
    p.add_argument("--dataset", default="mnist", metavar="NAME|FILE.npz",
                   help="'mnist' (default), 'fashion', or an .npz file such as tests/data/mnist_sample.npz")
    p.add_argument("--replot", metavar="FOLDER",
                   help="redraw the figures and results.md of a finished run from its results.json; no training")
    p.add_argument("--workers", type=int, metavar="N",
                   help=f"train the independent runs on N local processes at once, each with one BLAS thread "
                        f"(default one per core: {cpu_count()} here; 1: one after another in this process); "
                        f"the numbers are the same either way, bit for bit")
    p.add_argument("--dask", metavar="ADDRESS", help="train the runs on a Dask cluster's workers instead "
                                                     "(needs pip install 'nndl[dask]')")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return p


def markdown(results: dict) -> str:
    """results.md: the ladder past 98 % (mean and spread of the seeds), and what carried it."""
    s, o = results["sizes"], results["options"]
    rows = beyond.ladder_stats(results)
    n_seeds = len(rows[0]["seeds"]) if rows else 0
    lines = [
        "# Beyond Level 3: the ladder past 98 %" + (" (quick run: small data, few epochs)" if o["quick"] else ""),
        "",
        f"Data: {o['dataset']}, {s['training']:,} training, {s['validation']:,} validation, {s['test']:,} test images. "
        "Training and every choice look at the validation set only; each run's test accuracy is measured once, "
        f"at its end. Each row adds to the one above and is trained with {n_seeds} seeds ({o['dtype']}); "
        "accuracies are the mean, with the smallest and largest in brackets.",
        "",
        "| Step | Test accuracy | Validation accuracy | Epochs | Time a run |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['step']} | **{r['test_mean']:.2f}%** ({r['test_min']:.2f}-{r['test_max']:.2f}) | "
                     f"{r['validation_mean']:.2f}% ({r['validation_min']:.2f}-{r['validation_max']:.2f}) | "
                     f"{r['epochs_mean']:.0f} | {r['seconds_mean']:.0f} s |")
    lines += ["", *verdicts(rows)]
    if "seconds" in results:
        lines += ["", f"Total time: {results['seconds']:.0f} s (nndl {results['versions']['nndl']}, "
                      f"NumPy {results['versions']['numpy']})."]
    return "\n".join(lines) + "\n"


def text(results: dict, width: int = 80) -> str:
    """The ladder for the terminal, at most ``width`` columns: a line per row (mean test accuracy,
    its range over the seeds, the row), then the verdicts wrapped to the width."""
    import textwrap

    rows = beyond.ladder_stats(results)
    n = len(rows[0]["seeds"]) if rows else 0
    quick = " (quick run)" if results["options"].get("quick") else ""
    lines = [f"Beyond Level 3: the ladder past 98 %{quick}", f"test accuracy, mean of {n} seeds (smallest-largest)", ""]
    for r in rows:
        lines.append(f"{r['test_mean']:6.2f}% ({r['test_min']:.2f}-{r['test_max']:.2f})  {r['short']}"[:width])
    lines.append("")
    for sentence in verdicts(rows, "short"):
        lines += textwrap.wrap(sentence.replace("**", ""), width)
    if "seconds" in results:
        lines += ["", f"Total time: {results['seconds']:.0f} s."]
    return "\n".join(lines) + "\n"


def verdicts(rows: list[dict], label: str = "step") -> list[str]:
    """Plain sentences: which row first passes 98 % on average, and which rows do not pay
    (each row named by its ``label`` entry: 'step', or 'short' for the terminal)."""
    out = []
    past = next((r for r in rows if r["test_mean"] >= 98.0), None)
    if past is not None:
        out.append(f"What carries the book's network past 98 %: **{past[label].lstrip('+ ')}** "
                   f"({past['test_mean']:.2f}% mean test accuracy).")
    else:
        out.append("No row reaches 98 % mean test accuracy in this run.")
    for prev, row in zip(rows, rows[1:]):
        gain = row["test_mean"] - prev["test_mean"]
        if gain <= 0:
            out.append(f"Does not pay here: {row[label].lstrip('+ ')} ({gain:+.2f} points against the row above).")
    best = max(rows, key=lambda r: r["test_mean"]) if rows else None
    if best is not None:
        out.append(f"Best row: {best[label].lstrip('+ ')}, {best['test_mean']:.2f}% "
                   f"({best['test_min']:.2f}-{best['test_max']:.2f}).")
    return out


def new_folder(pictures: str) -> Path:
    """PICTURES/beyond/YYYYMMDD_HHMMSS, with a suffix if two runs start in the same second
    (``nndl.fileio.new_folder``: a parent that is not a folder is named, not searched forever)."""
    return fileio.new_folder(Path(pictures) / "beyond" / datetime.now().strftime("%Y%m%d_%H%M%S"))


def write_outputs(results: dict, folder: Path) -> list[Path]:
    atomic_write_text(folder / "results.md", markdown(results))
    return beyond_figures.draw_all(results, folder)


def replot(folder: Path, prog: str) -> int:
    try:
        results = json.loads((folder / "results.json").read_text())
    except FileNotFoundError:
        raise NndlError(f"{folder}: no results.json here; --replot takes a folder made by an earlier run") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise NndlError(f"{folder / 'results.json'}: not valid JSON ({e})") from None
    if not isinstance(results, dict) or results.get("exploration") != "beyond" or not results.get("complete"):
        raise NndlError(f"{folder / 'results.json'}: not a finished beyond-Level-3 exploration; run it again")
    try:  # the figures read the structure a finished run wrote; anything else is refused in one line
        paths = write_outputs(results, folder)
        table = markdown(results)
    except (KeyError, TypeError, IndexError, ValueError, AttributeError, ZeroDivisionError, OverflowError) as e:
        raise NndlError(f"{folder / 'results.json'}: not the structure a finished beyond-Level-3 exploration "
                        f"writes ({type(e).__name__}: {quote(str(e), 80)[1:-1]})") from None
    print(table)
    print(f"Redrew {len(paths)} figures and results.md in {folder}")
    return 0


def main(argv: list[str] | None = None, prog: str = "nndl explore beyond") -> int:
    args = parser(prog).parse_args(argv)
    try:
        if args.replot:
            return replot(Path(args.replot), prog)
        from nndl.data import load_dataset

        options = beyond.Options.make(quick=args.quick, seed=args.seed, dataset=str(args.dataset))
        reporter = BarReporter(args.quiet)
        tqdm.write(f"Loading {args.dataset} ...", file=sys.stderr)
        splits = load_dataset(args.dataset)
        folder = new_folder(args.pictures)
        tqdm.write(f"Writing to {folder}", file=sys.stderr)

        def save(results):
            atomic_write_text(folder / "results.json", json.dumps(results, indent=1))

        def save_model(name, net, record):
            path = Path("models") / f"{name}.json"
            nndl.save(net, folder / path, config=nndl.TrainConfig.from_dict(record["config"]),
                      history=nndl.History.from_dict(record["history"]), dataset=options.dataset)
            return path.as_posix()

        try:
            with blas_threads(), make_runner(args.workers, args.dask) as runner:
                results = beyond.run_beyond(options, splits, reporter, on_save=save, runner=runner,
                                            source=DataSource.make(args.dataset), on_model=save_model)
        finally:
            reporter.close()
        paths = write_outputs(results, folder)
        splits = beyond.shrink(options, splits)
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM under the nndl command
        print("\nInterrupted; results.json and models/ keep the runs that finished.", file=sys.stderr)
        return interrupt_status(e)
    except (NndlError, OSError) as e:
        print(f"{prog}: error: {cap(describe(e))}", file=sys.stderr)
        return 1
    print()
    print(text(results))
    print(f"Saved {len(paths)} figures, results.json, results.md and the {len(results['runs'])} trained models "
          f"(models/) in\n  {folder}")
    try:  # the report page beside the figures: draw a digit and watch the ladder's networks read it
        from nndl.report import write_report
        page = write_report(folder, test=splits.test)
    except (NndlError, OSError) as e:
        print(f"{prog}: error: could not write the report page: {cap(describe(e))}", file=sys.stderr)
        return 1
    print(f"Report page (open it in a browser; it works offline):\n  {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
