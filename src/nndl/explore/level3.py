"""``nndl explore level3``: run the Level 3 exploration, save five figures, print the ladder.

This is the command-line layer of ``nndl.explore``: it parses options, draws progress
bars, prints, and chooses the exit code. ``src/level3/1_improved_network.py`` (the seed's
script) and ``nndl explore level3`` both call ``main``.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

from nndl import fileio
from nndl.blas import blas_threads
from nndl.cli.common import OneLineParser, cap, describe, interrupt_status, nonnegative_int
from nndl.errors import NndlError, quote
from nndl.explore import figures, ladder
from nndl.explore.runs import Options, Reporter, run_level3
from nndl.fileio import atomic_write_text


def parser(prog: str = "nndl explore level3") -> OneLineParser:
    p = OneLineParser(
        prog=prog,
        description="Level 3 of 'Neural Networks and Deep Learning': cross-entropy, L2 regularization and "
                    "better initialization, each shown at work on MNIST. Saves five figures, results.json "
                    "and results.md to PICTURES/level3/YYYYMMDD_HHMMSS/ and prints the accuracy ladder.")
    p.add_argument("--quick", action="store_true",
                   help="small subsets and 3 epochs: a smoke test in well under a minute (figures say 'quick')")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed shared by all runs, an integer >= 0 (default 0)")
    p.add_argument("--pictures", default="pictures", metavar="DIR",
                   help="where the timestamped folder goes (default: ./pictures)")
    p.add_argument("--dataset", default="mnist", metavar="NAME|FILE.npz",
                   help="'mnist' (default), 'fashion', or an .npz file such as tests/data/mnist_sample.npz")
    p.add_argument("--replot", metavar="FOLDER",
                   help="redraw the figures and results.md of a finished run from its results.json; no training")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


class BarReporter(Reporter):
    """Progress: a line per section and a bar per training run (all on stderr via tqdm)."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar = None
        self.epoch_no = 0
        self.t0 = time.perf_counter()

    def section(self, title):
        tqdm.write(f"== {title}  (t = {time.perf_counter() - self.t0:.0f} s)", file=sys.stderr)

    def run_start(self, name, config, n_train):
        self.epoch_no = 0
        if not self.quiet:
            self.bar = tqdm(total=config.epochs, desc=f"{name:<18}", unit="epoch", leave=True, file=sys.stderr, disable=None, mininterval=0.5,
                            bar_format="{desc} {percentage:3.0f}%|{bar}| {n:.1f}/{total_fmt} epochs "
                                       "[{elapsed}<{remaining}{postfix}]")

    def batch(self, done, total):
        if self.bar is not None:
            self.bar.n = self.epoch_no + done / total
            self.bar.refresh()

    def epoch(self, name, report):
        self.epoch_no = report.epoch
        if self.bar is not None:
            self.bar.n = report.epoch
            if report.evaluation_accuracy is not None:
                self.bar.set_postfix_str(f"eval {100 * report.evaluation_accuracy / report.n_evaluation:.2f}%")
            self.bar.refresh()

    def run_end(self, name, record):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        f = record["final"]
        tqdm.write(f"   {name}: validation {100 * f['validation_accuracy']:.2f}%, test {100 * f['test_accuracy']:.2f}% "
                   f"({record['seconds']:.1f} s)", file=sys.stderr)


def new_folder(pictures: str) -> Path:
    """pictures/level3/YYYYMMDD_HHMMSS, with a suffix if two runs start in the same second.

    A parent that is not a folder (a file, a dangling symbolic link) is an ``OSError`` naming it
    (``nndl.fileio.new_folder``), never an endless search for a free name."""
    return fileio.new_folder(Path(pictures) / "level3" / datetime.now().strftime("%Y%m%d_%H%M%S"))


def write_outputs(results: dict, folder: Path) -> list[Path]:
    """results.md and the five figures (results.json is written as the runs finish)."""
    atomic_write_text(folder / "results.md", ladder.markdown(results))
    return figures.draw_all(results, folder)


def replot(folder: Path) -> int:
    try:
        results = json.loads((folder / "results.json").read_text())
    except FileNotFoundError:
        raise NndlError(f"{folder}: no results.json here; --replot takes a folder made by an earlier run")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise NndlError(f"{folder / 'results.json'}: not valid JSON ({e})")
    if not isinstance(results, dict):
        raise NndlError(f"{folder / 'results.json'}: not the results of a Level 3 exploration (the top level "
                        f"is a JSON {type(results).__name__}, not an object)")
    if not results.get("complete"):
        raise NndlError(f"{folder / 'results.json'}: that exploration did not finish, so not every figure "
                        "has its data; run it again")
    try:  # the figures read the file's structure as a finished run wrote it; anything else is refused
        paths = write_outputs(results, folder)
        table = ladder.markdown(results)
    except (KeyError, TypeError, IndexError, ValueError, AttributeError, ZeroDivisionError, OverflowError) as e:
        raise NndlError(f"{folder / 'results.json'}: not the structure a finished Level 3 exploration writes "
                        f"({type(e).__name__}: {quote(str(e), 80)[1:-1]}); redraw only folders made by "
                        f"nndl explore level3") from None
    print(table)
    print(f"Redrew {len(paths)} figures and results.md in {folder}")
    return 0


def main(argv: list[str] | None = None, prog: str = "nndl explore level3") -> int:
    args = parser(prog).parse_args(argv)
    try:
        if args.replot:
            return replot(Path(args.replot))
        from nndl.data import load_dataset  # imported here so --help and --replot stay fast

        options = Options.make(quick=args.quick, seed=args.seed, dataset=str(args.dataset))
        reporter = BarReporter(args.quiet)
        tqdm.write(f"Loading {args.dataset} ...", file=sys.stderr)
        splits = load_dataset(args.dataset)
        folder = new_folder(args.pictures)
        tqdm.write(f"Writing to {folder}", file=sys.stderr)

        def save(results):
            atomic_write_text(folder / "results.json", json.dumps(results, indent=1))

        with blas_threads():
            results = run_level3(options, splits, reporter, on_save=save)
        paths = write_outputs(results, folder)
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM under the nndl command (Terminated)
        print("\nInterrupted; results.json keeps the runs that finished.", file=sys.stderr)
        return interrupt_status(e)
    except (NndlError, OSError) as e:
        print(f"{prog}: error: {cap(describe(e))}", file=sys.stderr)
        return 1
    print()
    print(ladder.markdown(results))
    print(f"Saved {len(paths)} figures, results.json and results.md in {folder}")
    try:  # the report page beside the figures: draw a digit and watch the networks read it
        from nndl.report import write_report
        page = write_report(folder, test=splits.test)
    except NndlError as e:
        print(f"{prog}: error: could not write the report page: {e}", file=sys.stderr)
        return 1
    print(f"Report page (open it in a browser; it works offline): {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
