"""``nndl sweep``: try hyperparameters as chapter 3 of the book does, on every core or a Dask cluster.

    nndl sweep --eta 0.025,0.25,2.5 --epochs 30 --sizes 784,30,10      # the book's eta figure
    nndl sweep --eta 0.1,0.5,2.5 --lmbda 0,1,5 --seeds 0,1 --train-size 10000 --epochs 5
    nndl sweep --random 20 --eta 0.01:10 --lmbda 0.01:10              # log-uniform draws
    nndl sweep show sweeps/eta-lmbda-1a2b3c4d [--json]
    nndl sweep plot FOLDER        nndl sweep resume FOLDER

Every ``TrainConfig`` field has a flag of the same name (``--mini-batch-size``); the flags
are made from ``dataclasses.fields(TrainConfig)``, so new fields appear by themselves.
Results go to ``FOLDER/sweep.sqlite`` as each trial finishes; the figures to FOLDER at the
end. Running the same command again resumes. Only this module prints.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import textwrap
import time
from pathlib import Path

from tqdm import tqdm

from nndl.errors import ConfigError, NndlError, OutputError
from nndl.fileio import output_folder
from nndl.sweep import figures
from nndl.sweep.choose import make_runner
from nndl.sweep.runner import check_dask_address, check_workers, cpu_count
from nndl.sweep.spec import LOG_UNIFORM, SweepSpec, field_types, flag, is_tuple, parse_field, sweepable, value_text
from nndl.sweep.sweep import SweepStopped, open_sweep, read_sweep, run_sweep
from nndl.sweep.trial import MONITORS, DataSource

from .common import (
    DATASET_HELP,
    OneLineParser,
    UsageError,
    add_config_flags,
    bars_wanted,
    describe,
    interrupt_status,
    interrupt_word,
    load_data,
    say,
)

ACTIONS = ("show", "plot", "resume")


class SweepParser(OneLineParser):
    """An unknown ``--flag`` is an unknown TrainConfig field: say which fields there are (in one line)."""

    def parse_known_args(self, args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        for a in args:
            if a in ACTIONS:  # show/plot/resume: their own parsers check the rest
                break
            option = a.split("=")[0]
            if option.startswith("--") and not any(o.startswith(option) for o in self._option_string_actions):
                name = option[2:].replace("-", "_")
                self.error(
                    f"unknown field {name!r} ({option}): a sweep varies TrainConfig fields, which are "
                    f"{', '.join(sweepable())}"
                )
        return super().parse_known_args(args, namespace)


def _values_help(name: str) -> str:
    """How several values of a field are written (its flag's help adds what the field does)."""
    if is_tuple(name):
        return "one or more values, each comma-separated (e.g. 784,30,10 784,100,10)"
    tp = field_types()[name]
    numeric = tp in (int, float) or str(tp).startswith(("int |", "float |"))
    rng = (" or LO:HI with --random" + (" (log-uniform)" if name in LOG_UNIFORM else "")) if numeric else ""
    return f"comma list{rng}"


FOLDER_HELP = (
    "a sweep's folder, the one `nndl sweep` named when it ran (default sweeps/<fields>-<fingerprint>); "
    "it holds sweep.sqlite"
)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``sweep`` (and its ``show``, ``plot``, ``resume``) to the ``nndl`` parser."""
    p = subparsers.add_parser(
        "sweep",
        help="try hyperparameters: a grid or random draws, on every core or a Dask cluster",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            "Train one network per combination of the values given (a grid), or --random N draws from ranges, "
            "once per seed, and record every trial in FOLDER/sweep.sqlite as it finishes. Trials with the same "
            "seed start from the same weights and see the same mini-batch order, so they differ only in the "
            "swept values. As chapter 3 of 'Neural Networks and Deep Learning' advises, start broad: "
            "--train-size, fewer --epochs, --validation-size. Evaluation is on the validation set; --test adds "
            "the test set.",
            79,
        ),
        epilog=textwrap.fill(
            "Figures (the book's eta figure, accuracy against each field, a heatmap for two fields) are written "
            "to FOLDER. Ctrl-C stops at once; the finished trials are kept, and running the same command again "
            "(or nndl sweep resume FOLDER) runs only the others.",
            79,
        )
        + "\nAlso: nndl sweep show FOLDER [--json], nndl sweep plot FOLDER,\n      nndl sweep resume FOLDER.",
    )
    p.__class__ = SweepParser
    fields = p.add_argument_group("TrainConfig fields (a value fixes a field, several sweep it)")
    add_config_flags(lambda name, doc: fields if name in sweepable() else None, sweep=_values_help)
    g = p.add_argument_group("the sweep")
    g.add_argument(
        "--seeds", default="0", metavar="S,S,...", help="seeds; every combination runs once per seed (default 0)"
    )
    g.add_argument(
        "--random",
        type=int,
        metavar="N",
        help="draw N combinations at random from the ranges and lists given, instead of the full grid",
    )
    g.add_argument("--random-seed", type=int, default=0, metavar="N", help="seed of the --random draws (default 0)")
    g.add_argument("--train-size", type=int, metavar="N", help="train on the first N training images (default all)")
    g.add_argument(
        "--validation-size", type=int, metavar="N", help="evaluate on the first N validation images (default all)"
    )
    g.add_argument(
        "--test", action="store_true", help="also measure test accuracy at the end (off: choose by validation)"
    )
    g.add_argument(
        "--monitor",
        default="evaluation_accuracy,training_cost",
        metavar="WHAT,...",
        help=f"per-epoch series to record, from {', '.join(MONITORS)} (default evaluation_accuracy,"
        f"training_cost: the eta figure needs the training cost)",
    )
    g.add_argument("--dataset", default="mnist", metavar="NAME|PATH.npz", help=DATASET_HELP + " (default mnist)")
    g.add_argument(
        "--data-dir", metavar="DIR", help="data root for mnist/fashion (default: $NNDL_DATA_DIR or ~/.cache/nndl)"
    )
    g.add_argument(
        "--out",
        metavar="FOLDER",
        help="the sweep's folder (default sweeps/<fields>-<fingerprint>: the same command gives the same folder)",
    )
    g.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="also write each trial's per-epoch scalars and histograms for TensorBoard, in "
        "DIR/<sweep folder>/<swept values> (needs pip install 'nndl[tensorboard]')",
    )
    w = p.add_argument_group("where trials run")
    _runner_args(w)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no line per trial")
    sub = p.add_subparsers(dest="action", metavar="{show,plot,resume}", required=False, parser_class=OneLineParser)
    s = sub.add_parser(
        "show",
        help="the trials of a sweep, best validation accuracy first",
        description="Print the trials of the sweep in FOLDER (a folder `nndl sweep` made), sorted by "
        "final validation accuracy.",
    )
    s.add_argument("folder", metavar="FOLDER", help=FOLDER_HELP)
    s.add_argument("--json", action="store_true", help="print every trial as JSON (with its config and history)")
    s.add_argument("--top", type=int, metavar="N", help="only the best N trials")
    s.set_defaults(parser=s)
    q = sub.add_parser(
        "plot",
        help="redraw a sweep's figures from its database",
        description="Redraw the figures of the sweep in FOLDER (a folder `nndl sweep` made) from "
        "FOLDER/sweep.sqlite; no training.",
    )
    q.add_argument("folder", metavar="FOLDER", help=FOLDER_HELP)
    q.set_defaults(parser=q)
    r = sub.add_parser(
        "resume",
        help="run the unfinished trials of a sweep",
        description="Run the trials of the sweep in FOLDER (a folder `nndl sweep` made, or named "
        "when it was interrupted) that have not finished, as recorded in "
        "FOLDER/sweep.sqlite.",
    )
    r.add_argument("folder", metavar="FOLDER", help=FOLDER_HELP)
    _runner_args(r)
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no line per trial")
    r.add_argument("--data-dir", metavar="DIR", help="data root for mnist/fashion")
    r.set_defaults(parser=r)
    p.set_defaults(run=run, action=None)
    return p


def _runner_args(g) -> None:
    g.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=f"local processes, each with one BLAS thread (default one per core: {cpu_count()} here; "
        f"1: in this process)",
    )
    g.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the trials on a Dask cluster's workers instead, e.g. "
        "tcp://10.0.0.5:8786 (needs pip install 'nndl[dask]')",
    )
    g.add_argument(
        "--scatter",
        action="store_true",
        help="with --dask: send the data loaded here to every worker once, instead of each worker "
        "loading it from its own verified cache",
    )


def spec_from_args(args) -> SweepSpec:
    """The ``SweepSpec`` the flags describe; a bad value is a ``UsageError`` that names its flag."""
    values, ranges = {}, {}
    try:
        for name in sweepable():
            texts = getattr(args, f"field_{name}")
            if texts is None:
                continue
            parsed = parse_field(name, texts)
            (values if isinstance(parsed, tuple) else ranges)[name] = parsed
        seeds = [s for s in args.seeds.split(",")]
        if any(not s.strip() for s in seeds):
            raise ConfigError(f"--seeds: empty value in {args.seeds!r}; give seeds separated by commas, e.g. 0,1,2")
        try:
            seeds = tuple(int(s) for s in seeds)
        except ValueError:
            raise ConfigError(f"--seeds: {args.seeds!r} is not a comma list of integers >= 0") from None
        if not values and not ranges and len(set(seeds)) == 1:
            raise ConfigError(
                "nothing to sweep: give values for at least one field (e.g. --eta 0.025,0.25,2.5) "
                "or several --seeds; nndl train runs a single configuration"
            )
        monitor = tuple(m.strip().replace("-", "_") for m in args.monitor.split(",") if m.strip())
        return SweepSpec(
            values=values,
            ranges=ranges,
            seeds=seeds,
            random=args.random,
            random_seed=args.random_seed,
            n_train=args.train_size,
            n_validation=args.validation_size,
            test=args.test,
            monitor=monitor,
        )
    except ConfigError as e:
        raise UsageError(str(e)) from None


def command_line(spec: SweepSpec, dataset: str, folder) -> list[str]:
    """A command that makes (and so resumes) this sweep."""
    cmd = ["nndl", "sweep"]
    for name, vals in spec.values.items():
        cmd += (
            [flag(name), *[",".join(map(str, v)) for v in vals]]
            if is_tuple(name)
            else [flag(name), ",".join(map(str, vals))]
        )
    for name, r in spec.ranges.items():
        cmd += [flag(name), f"{r.lo:g}:{r.hi:g}"]
    cmd += ["--seeds", ",".join(map(str, spec.seeds))]
    if spec.random is not None:
        cmd += ["--random", str(spec.random), "--random-seed", str(spec.random_seed)]
    for opt, v in (("--train-size", spec.n_train), ("--validation-size", spec.n_validation)):
        if v is not None:
            cmd += [opt, str(v)]
    if spec.test:
        cmd.append("--test")
    cmd += ["--monitor", ",".join(spec.monitor), "--dataset", dataset, "--out", str(folder)]
    return cmd


class Progress:
    """A bar of finished trials, with the epoch of the ones in flight; a line per trial."""

    def __init__(self, total: int, done: int, *, bars: bool, lines: bool):
        self.lines = lines
        self.bar = (
            tqdm(total=total, initial=done, desc="trials", unit="trial", file=sys.stderr, dynamic_ncols=True)
            if bars
            else None
        )
        self.epochs: dict[str, str] = {}

    def event(self, ev: dict) -> None:
        if ev.get("kind") == "epoch":
            self.epochs[ev["trial"]] = f"{ev['epoch']}/{ev['epochs']}"
        elif ev.get("kind") == "start":
            self.epochs[ev["trial"]] = f"0/{ev['epochs']}"
        else:
            return
        if self.bar is not None:
            self.bar.set_postfix_str("epochs " + " ".join(self.epochs.values()), refresh=True)

    def result(self, outcome) -> None:
        self.epochs.pop(outcome.trial.key, None)
        if self.lines:
            label = ", ".join(f"{k} {value_text(v)}" for k, v in outcome.trial.label.items())
            if outcome.result is None:
                say(f"  {label}: diverged ({outcome.diverged})")
            else:
                r = outcome.result
                test = r["final"].get("test_accuracy")
                say(
                    f"  {label}: validation {100 * r['final']['validation_accuracy']:.2f}%"
                    + (f", test {100 * test:.2f}%" if test is not None else "")
                    + f" ({r['seconds']:.1f} s on {r['host']})"
                )
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def execute(spec: SweepSpec, dataset: str, folder: Path, args) -> int:
    """Load the data, open the folder, run what is left, draw the figures, print the table."""
    bars = bars_wanted(args.quiet)
    board = getattr(args, "tensorboard", None)
    if board is not None:
        from nndl.cli.train import check_tensorboard

        check_tensorboard(board)
        board = Path(board) / Path(folder).name
    data = load_data(dataset, args.data_dir, bars=bars)
    try:
        spec.check_data(data)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    source = DataSource.make(dataset, args.data_dir)
    command = command_line(spec, dataset, folder)
    if args.action is None and not args.out:  # the default folder, sweeps/<fields>-<fingerprint>: sweeps/ first
        try:
            output_folder(folder.parent)
        except OutputError as e:
            raise UsageError(f"the default folder for sweeps: {describe(e)}; give --out FOLDER") from None
    store = open_sweep(folder, spec, source.dataset, command)
    try:
        trials = spec.trials()
        store.add_trials(trials)
        done = len(store.finished_keys() & {t.key for t in trials})
        runner = make_runner(args.workers, args.dask, args.scatter)
        say(
            f"sweep: {len(trials)} trial{'s' if len(trials) != 1 else ''} ({done} finished before) in {folder}, "
            f"on {runner.describe()}"
        )
        progress = Progress(len(trials), done, bars=bars, lines=not args.quiet)
        runner.listen(progress.event)
        start = time.perf_counter()
        resume_with = f"nndl sweep resume {shlex.quote(str(folder))}"
        try:
            with runner:
                shared = runner.share(source, data)
                counts = run_sweep(spec, store, runner, shared, on_result=progress.result, tensorboard=board)
        except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (Terminated): 130 or 143
            progress.close()
            finished = len(store.finished_keys())
            say(f"\nnndl sweep: {interrupt_word(e)}; {finished} of {len(trials)} trials are saved in {store.path}")
            say(f"nndl sweep: resume with: {resume_with}   (or run the same command again)")
            return interrupt_status(e)
        except SweepStopped as e:  # a worker or the cluster died: one line, what finished, how to resume
            progress.close()
            finished = len(store.finished_keys())
            raise NndlError(
                f"the sweep stopped: {e.reason}; {finished} of {len(trials)} trials finished and are "
                f"saved in {store.path}; resume with: {resume_with}"
            ) from None
        finally:
            progress.close()
        seconds = time.perf_counter() - start
        rows = store.rows()
        paths = figures.draw_all(rows, spec, folder)
    finally:
        store.close()
    print_table(rows, spec, top=10)
    n_done = counts.get("done", 0)
    say(
        f"{n_done} trial{'' if n_done == 1 else 's'} done"
        + (f", {counts['diverged']} diverged" if counts.get("diverged") else "")
        + f" in {seconds:.1f} s; results in {folder / 'sweep.sqlite'} (nndl sweep show {folder}); "
        f"{len(paths)} figure{'s' if len(paths) != 1 else ''} in {folder}"
    )
    return 0


def _columns(rows, spec) -> list[str]:
    return [f for f in spec.swept()] + (["seed"] if len(spec.seeds) > 1 else [])


def sorted_rows(rows: list[dict]) -> list[dict]:
    """Best validation accuracy first; diverged trials last, in the sweep's order."""
    return sorted(rows, key=lambda r: (r["status"] != "done", -(r["validation_accuracy"] or 0.0), r["idx"]))


def print_table(rows: list[dict], spec: SweepSpec, top: int | None = None) -> None:
    cols = _columns(rows, spec) or ["seed"]
    has_test = any(r.get("test_accuracy") is not None for r in rows)
    head = ["rank", *cols, "validation"] + (["test"] if has_test else []) + ["epochs", "seconds", "host"]
    table = []
    for i, r in enumerate(sorted_rows(rows)[:top], 1):
        vals = [value_text(r["params"].get(c)) for c in cols]
        if r["status"] == "done":
            acc = [f"{100 * r['validation_accuracy']:.2f}%"] + (
                [f"{100 * r['test_accuracy']:.2f}%" if r["test_accuracy"] is not None else "-"] if has_test else []
            )
            tail = [str(r["config"]["epochs"]), f"{r['seconds']:.1f}", r["host"] or ""]
        else:
            acc = ["diverged"] + (["-"] if has_test else [])
            tail = [str(r["config"]["epochs"]), "-", "-"]
        table.append([str(i), *vals, *acc, *tail])
    widths = [max(len(h), *(len(row[k]) for row in table)) if table else len(h) for k, h in enumerate(head)]
    print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
    for row in table:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))
    sys.stdout.flush()


def show(args) -> int:
    record = read_sweep(args.folder)  # read-only, checked whole: a bad file is one line
    spec, dataset, rows, counts, command = record.spec, record.dataset, record.rows, record.counts, record.command
    total = sum(counts.values())
    if args.json:
        out = [
            {
                k: r[k]
                for k in (
                    "params",
                    "status",
                    "validation_accuracy",
                    "test_accuracy",
                    "config",
                    "seed",
                    "n_train",
                    "n_evaluation",
                    "history",
                    "seconds",
                    "host",
                    "pid",
                    "started",
                    "finished",
                    "error",
                )
            }
            for r in sorted_rows(rows)[: args.top]
        ]
        print(
            json.dumps(
                {
                    "folder": str(args.folder),
                    "dataset": dataset,
                    "spec": spec.to_dict(),
                    "trials": total,
                    "finished": len(rows),
                    "rows": out,
                },
                indent=1,
            )
        )
        return 0
    fixed = ", ".join(f"{k} {value_text(v)}" for k, v in spec.fixed().items())
    print(
        f"sweep in {args.folder}: {len(rows)} of {total} trials finished; data {Path(dataset).name}"
        + (f", first {spec.n_train:,} training images" if spec.n_train else "")
        + (f", first {spec.n_validation:,} validation images" if spec.n_validation else "")
        + (f"; fixed: {fixed}" if fixed else "")
    )
    print_table(rows, spec, top=args.top)
    if len(rows) < total:
        print(
            f"{total - len(rows)} trials not finished: nndl sweep resume {args.folder}"
            + (f"  (or: {shlex.join(command)})" if command else "")
        )
    return 0


def plot(args) -> int:
    record = read_sweep(args.folder)
    paths = figures.draw_all(record.rows, record.spec, args.folder)
    print(
        f"Drew {len(paths)} figure{'s' if len(paths) != 1 else ''} in {args.folder}: "
        + ", ".join(p.name for p in paths)
    )
    return 0


def resume(args) -> int:
    record = read_sweep(args.folder)
    return execute(record.spec, record.dataset, Path(args.folder), args)


def _check_runner_flags(args) -> None:
    """``--dask``'s address (an empty one is refused, not taken as "local") and ``--workers``, before any work."""
    try:
        if getattr(args, "dask", None) is not None:
            check_dask_address(args.dask)
        if getattr(args, "workers", None) is not None:
            check_workers(args.workers)
    except ConfigError as e:
        raise UsageError(f"argument {e}") from None


def _check_out(folder: Path) -> None:
    """``--out`` follows ``nndl.fileio.output_folder``'s rule, checked now, before any trial (the
    sweep's store makes the folder): a usage error naming the flag otherwise."""
    try:
        output_folder(folder, make=False)
    except OutputError as e:
        raise UsageError(f"argument --out: {describe(e)}; give a folder for the sweep") from None


def run(args) -> int:
    if args.action in ("resume", None):
        _check_runner_flags(args)
    if args.action == "show":
        return show(args)
    if args.action == "plot":
        return plot(args)
    if args.action == "resume":
        return resume(args)
    spec = spec_from_args(args)
    folder = Path(args.out) if args.out else Path("sweeps") / spec.default_name()
    if args.out:  # fileio's rule, checked before any work; the sweep's store makes the folder
        _check_out(folder)
    dataset = args.dataset
    return execute(spec, dataset, folder, args)
