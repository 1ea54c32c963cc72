"""What the explorations' command lines share: their options, the run, Ctrl-C, --replot, the report page.

An ``Exploration`` names the pieces of one exploration (Level 3, or beyond it): how options
are made, the function that runs it (through the sweep runner), how its outputs are drawn and
tabulated, and how a finished results.json is recognised. ``main`` is the whole command line
for any of them: parse, load the data, make the folder, run (results.json and models/ written
as each run finishes), draw, print the ladder at 80 columns, write the report page. It is the
only layer that prints, draws progress bars and chooses exit codes.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

import nndl
from nndl import fileio
from nndl.blas import blas_threads
from nndl.data.provenance import record as dataset_record
from nndl.errors import NndlError, quote
from nndl.explore.runs import Reporter
from nndl.fileio import atomic_write_text
from nndl.sweep.choose import make_runner
from nndl.sweep.runner import cpu_count
from nndl.sweep.trial import DataSource

from ..common import OneLineParser, cap, describe, interrupt_status, nonnegative_int


@dataclass(frozen=True)
class Exploration:
    """One exploration's pieces (see the module docstring)."""

    name: str  # its folder under PICTURES, and its name after `nndl explore`
    title: str  # in messages: "Level 3", "beyond-Level-3"
    description: str  # --help's first paragraph
    quick_help: str
    seed_help: str
    make_options: Callable  # (quick=, seed=, dataset=) -> options
    run: Callable  # (options, splits, reporter, on_save=, runner=, source=, on_model=) -> results
    write_outputs: Callable  # (results, folder) -> the paths of results.md and the figures
    text: Callable  # results -> the ladder at 80 columns, for the terminal
    markdown: Callable  # results -> results.md
    finished: Callable  # results (a dict) -> True for a results.json this exploration wrote
    report: bool = True  # write report.html
    resumable: bool = False  # trainings checkpoint each epoch; the same command continues a stopped run
    tensorboard: bool = True  # --tensorboard DIR (not with checkpoints: a continued training's histograms)


class BarReporter(Reporter):
    """Progress: a line per section, a bar per training run in flight, a line per finished run
    (all on stderr via tqdm). Runs in a pool go on at the same time, each on its own bar."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bars: dict[str, tqdm] = {}
        self.epoch_no: dict[str, int] = {}
        self.t0 = time.perf_counter()

    def section(self, title):
        tqdm.write(f"== {title}  (t = {time.perf_counter() - self.t0:.0f} s)", file=sys.stderr)

    def run_start(self, name, config, n_train):
        self.epoch_no[name] = 0
        if not self.quiet:
            used = {b.pos for b in self.bars.values()}
            position = next(i for i in range(len(self.bars) + 1) if i not in used and -i not in used)
            self.bars[name] = tqdm(
                total=config.epochs,
                desc=f"{name:<18}",
                unit="epoch",
                leave=False,
                file=sys.stderr,
                disable=None,
                mininterval=0.5,
                position=position,
                bar_format="{desc} {percentage:3.0f}%|{bar}| {n:.1f}/{total_fmt} epochs "
                "[{elapsed}<{remaining}{postfix}]",
            )

    def batch(self, done, total):
        if self.bars:
            self.batch_of(next(reversed(self.bars)), done, total)

    def batch_of(self, name, done, total):
        bar = self.bars.get(name)
        if bar is not None:
            bar.n = self.epoch_no.get(name, 0) + done / total
            bar.refresh()

    def epoch(self, name, report):
        self.epoch_no[name] = report.epoch
        bar = self.bars.get(name)
        if bar is not None:
            bar.n = report.epoch
            if report.evaluation_accuracy is not None:
                bar.set_postfix_str(f"eval {100 * report.evaluation_accuracy / report.n_evaluation:.2f}%")
            bar.refresh()

    def run_end(self, name, record):
        bar = self.bars.pop(name, None)
        if bar is not None:
            bar.close()
        f = record["final"]
        tqdm.write(
            f"   {name}: validation {100 * f['validation_accuracy']:.2f}%, test {100 * f['test_accuracy']:.2f}% "
            f"({record['seconds']:.1f} s)",
            file=sys.stderr,
        )

    def close(self):
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


def parser(exp: Exploration, prog: str) -> OneLineParser:
    p = OneLineParser(prog=prog, description=exp.description)
    p.add_argument("--quick", action="store_true", help=exp.quick_help)
    p.add_argument("--seed", type=nonnegative_int, help=exp.seed_help)
    p.add_argument("--pictures", metavar="DIR", help="where the timestamped folder goes (default: ./pictures)")
    p.add_argument(
        "--dataset",
        metavar="NAME|FILE.npz",
        help="'mnist' (default), 'fashion', or an .npz file such as tests/data/mnist_sample.npz",
    )
    p.add_argument(
        "--replot",
        metavar="FOLDER",
        help="redraw the figures and results.md of a finished run in FOLDER itself, from its "
        "results.json; no training (so no --quick, --seed, --pictures, --dataset, --workers, --dask)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=f"train the independent runs on N local processes at once, each with one BLAS thread "
        f"(default one per core: {cpu_count()} here; 1: one after another in this process). "
        f"The numbers are the same either way, bit for bit",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="train the runs on a Dask cluster's workers instead (needs pip install 'nndl[dask]')",
    )
    if exp.tensorboard:
        p.add_argument(
            "--tensorboard",
            metavar="DIR",
            help="also write each run's per-epoch scalars and histograms for TensorBoard, in "
            f"DIR/{exp.name}_<time>/<run> (needs pip install 'nndl[tensorboard]')",
        )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    if exp.resumable:
        p.add_argument(
            "--fresh",
            action="store_true",
            help="start a new folder even when an earlier run with the same options was stopped "
            "(by default the same command continues it: every training from its last epoch)",
        )
    return p


def unfinished_folder(pictures: str, exp: Exploration, options, recorded: dict | None = None) -> Path | None:
    """The newest folder under PICTURES/<name>/ holding a stopped run of ``exp`` with these
    options and this data set (``recorded``: its name, or its absolute path and SHA-256, as
    results.json records it; its results.json not complete), which the same command continues;
    else None."""
    parent = Path(pictures) / exp.name
    wanted = {**json.loads(json.dumps(options.__dict__)), **(recorded or {})}
    try:
        folders = sorted((f for f in parent.iterdir() if f.is_dir() and not f.is_symlink()), reverse=True)
    except OSError:
        return None
    for folder in folders:
        try:
            results = json.loads((folder / "results.json").read_text())
        except (OSError, ValueError):
            continue
        if (
            isinstance(results, dict)
            and results.get("exploration") == exp.name
            and not results.get("complete")
            and results.get("options") == wanted
        ):
            return folder
    return None


def new_folder(pictures: str, name: str) -> Path:
    """PICTURES/<name>/YYYYMMDD_HHMMSS, with a suffix if two runs start in the same second.

    A parent that is not a folder (a file, a dangling symbolic link) is an ``OSError`` naming it
    (``nndl.fileio.new_folder``), never an endless search for a free name."""
    return fileio.new_folder(Path(pictures) / name / datetime.now().strftime("%Y%m%d_%H%M%S"))


def replot(exp: Exploration, folder: Path) -> int:
    """Redraw a finished run's figures and results.md from its results.json alone."""
    where = folder / "results.json"
    try:
        results = json.loads(where.read_text())
    except FileNotFoundError:
        raise NndlError(f"{folder}: no results.json here; --replot takes a folder made by an earlier run") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise NndlError(f"{where}: not valid JSON ({e})") from None
    if not isinstance(results, dict):
        raise NndlError(
            f"{where}: not the results of a {exp.title} exploration (the top level is a JSON "
            f"{type(results).__name__}, not an object)"
        )
    if not exp.finished(results):
        raise NndlError(
            f"{where}: not the results of a {exp.title} exploration run to its end (it did not "
            f"finish, or another exploration wrote it), so not every figure has its data; run it again"
        )
    from nndl.report import report_inputs  # results.json, the figures' names, models/*.json

    reads = [p for p in report_inputs(folder) if p.suffix != ".png"]
    for name in (folder / "results.md", *(p for p in report_inputs(folder) if p.suffix == ".png")):
        fileio.output_path(name, reads)  # a figure linked to results.json is refused, never written through
    try:  # the figures read the file's structure as a finished run wrote it; anything else is refused
        paths = exp.write_outputs(results, folder)
        table = exp.text(results)
    except (KeyError, TypeError, IndexError, ValueError, AttributeError, ZeroDivisionError, OverflowError) as e:
        raise NndlError(
            f"{where}: not the structure a finished {exp.title} exploration writes "
            f"({type(e).__name__}: {quote(str(e), 80)[1:-1]}); redraw only folders made by "
            f"nndl explore {exp.name}"
        ) from None
    print(table)
    print(f"Redrew {len(paths)} figures and results.md in {folder}")
    return 0


def main(exp: Exploration, argv: list[str] | None, prog: str) -> int:
    """The exploration's command line; returns the exit status (0, 1, 130 for Ctrl-C, 143 for SIGTERM)."""
    p = parser(exp, prog)
    args = p.parse_args(argv)
    if args.replot:  # what only a training run uses would be silently ignored: refuse it instead
        given = [
            flag
            for flag, value in (
                ("--quick", args.quick),
                ("--seed", args.seed),
                ("--pictures", args.pictures),
                ("--dataset", args.dataset),
                ("--workers", args.workers),
                ("--dask", args.dask),
            )
            if value not in (None, False)
        ]
        if given:
            p.error(
                f"argument --replot: redraws the figures in FOLDER itself from its results.json, with no "
                f"training, so {' and '.join(given)} cannot apply; leave {'it' if len(given) == 1 else 'them'} "
                f"out (or copy FOLDER where you want the figures)"
            )
    args.seed = 0 if args.seed is None else args.seed
    args.pictures = args.pictures or "pictures"
    args.dataset = args.dataset or "mnist"
    try:
        if args.replot:
            return replot(exp, Path(args.replot))
        from nndl.data import load_dataset  # imported here so --help and --replot stay fast

        if getattr(args, "tensorboard", None) is not None:
            from nndl.tensorboard import check_logdir

            check_logdir(args.tensorboard)
        options = exp.make_options(quick=args.quick, seed=args.seed, dataset=str(args.dataset))
        reporter = BarReporter(args.quiet)
        tqdm.write(f"Loading {args.dataset} ...", file=sys.stderr)
        splits = load_dataset(args.dataset)
        recorded = dataset_record(args.dataset)  # an .npz file by its absolute path and SHA-256
        folder = None if not exp.resumable or args.fresh else unfinished_folder(args.pictures, exp, options, recorded)
        extra = {}
        if folder is not None:
            tqdm.write(f"Continuing the stopped run in {folder}", file=sys.stderr)
            extra["previous"] = json.loads((folder / "results.json").read_text())
        else:
            folder = new_folder(args.pictures, exp.name)
            tqdm.write(f"Writing to {folder}", file=sys.stderr)
        if exp.resumable:
            extra["checkpoints"] = folder / "checkpoints"

        def save(results):
            options = {**results["options"], **recorded}
            atomic_write_text(folder / "results.json", json.dumps({**results, "options": options}, indent=1))

        def save_model(name, net, record):
            path = Path("models") / f"{name}.json"
            nndl.save(
                net,
                folder / path,
                config=nndl.TrainConfig.from_dict(record["config"]),
                history=nndl.History.from_dict(record["history"]),
                dataset=options.dataset,
            )
            return path.as_posix()

        board = {}
        if getattr(args, "tensorboard", None) is not None:  # a run per training, in a folder per exploration
            board["tensorboard"] = Path(args.tensorboard) / f"{exp.name}_{folder.name}"
        if board:
            tqdm.write(
                f"TensorBoard: a run per training in {board['tensorboard']} (view with: tensorboard "
                f"--logdir {args.tensorboard})",
                file=sys.stderr,
            )
        try:
            with blas_threads(), make_runner(args.workers, args.dask) as runner:
                results = exp.run(
                    options,
                    splits,
                    reporter,
                    on_save=save,
                    runner=runner,
                    source=DataSource.make(args.dataset),
                    on_model=save_model,
                    **board,
                    **extra,
                )
        finally:
            reporter.close()
        paths = exp.write_outputs(results, folder)
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM under the nndl command (Terminated)
        print(
            "\nInterrupted; results.json (and models/) keep the runs that finished."
            + (" Run the same command again to continue each training from its last epoch." if exp.resumable else ""),
            file=sys.stderr,
        )
        return interrupt_status(e)
    except (NndlError, OSError) as e:
        print(f"{prog}: error: {cap(describe(e))}", file=sys.stderr)
        return 1
    print()
    print(exp.text(results))
    print(
        f"Saved {len(paths)} figure{'' if len(paths) == 1 else 's'}, results.json, results.md and the {len(results['runs'])} trained models "
        f"(models/) in\n  {folder}"
    )
    if not exp.report:
        return 0
    try:  # the report page beside the figures: draw a digit and watch the networks read it
        from nndl.report import write_report

        page = write_report(folder, test=splits.test)
    except (NndlError, OSError) as e:
        print(f"{prog}: error: could not write the report page: {cap(describe(e))}", file=sys.stderr)
        return 1
    print(f"Report page (open it in a browser; it works offline):\n  {page}")
    return 0
