"""An exploration's results.json, read for the report page: its whole shape checked once, here.

``read_results(folder)`` parses ``folder/results.json`` with the model-file reader's bounds (the
file's size against memory, integers of at most 40 digits, nesting too deep is one line) and
checks every part the page uses before any of it is used: a wrong type, a missing key, a run
name that is a path, a history longer than a run can be, a Level 3 file marked as another
exploration - each is one ``ResultsFileError`` that names the file and the part at fault, never
a ``KeyError`` from deep inside the page. ``check_config`` and ``check_name`` serve the model
file's saved configuration too.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from nndl.data.provenance import recorded_of
from nndl.errors import ResultsFileError, quote
from nndl.limits import MAX_LAYERS, MAX_REPORT_RUNS
from nndl.serialization import check_history, read_json

KIND = "results file"
NAME_LIMIT = 200  # characters of a run name (the book's longest: 'overfit-lambda-0.1')
LIST_LIMIT = 1000  # items of a list inside a run's configuration
SPLITS = ("training", "validation", "test")
NUMBERS = (
    "eta",
    "lmbda",
    "momentum",
    "dropout",
    "rotate",
    "elastic",
    "schedule_divisor",
)  # the page formats these with :g
INTEGERS = ("epochs", "mini_batch_size", "seed", "schedule_patience", "order_seed", "early_stopping")
LEVEL4_BEYOND_NEEDS = ("layers", "rotate", "schedule_patience", "schedule_divisor", "epochs", "seed")
BEYOND_NEEDS = ("sizes", "eta", "lmbda", "epochs", "schedule_patience", "schedule_divisor", "dropout", "seed")
_PATHLIKE = re.compile(r"[/\\\x00-\x1f\x7f]")


def _fail(filename, problem: str, kind: str, error: type):
    """The model-file reader's message form: 'FILE: not a valid results file: PROBLEM'."""
    raise error(f"{filename}: not a valid {kind}: {problem}")


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _integer(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class _Checker:
    """Raises the file's error type with the part at fault named (``runs['full'].config.eta: ...``)."""

    def __init__(self, filename, kind: str = KIND, error: type = ResultsFileError):
        self.filename, self.kind, self.error = filename, kind, error

    def fail(self, where: str, problem: str):
        _fail(self.filename, f"{where}: {problem}" if where else problem, self.kind, self.error)

    def of(self, value, kinds, where: str, what: str, optional: bool = True):
        if value is None and optional:
            return
        ok = {
            "object": lambda v: isinstance(v, dict),
            "list": lambda v: isinstance(v, list),
            "text": lambda v: isinstance(v, str),
            "true/false": lambda v: isinstance(v, bool),
            "number": _number,
            "integer": _integer,
        }[kinds](value)
        if not ok:
            self.fail(where, f"must be {what}, got {quote(value, 40)}")


def check_name(name, filename, kind: str = KIND, error: type = ResultsFileError) -> str:
    """A run's name is a name, never a path: text of 1-200 characters with no '/', '\\\\' or control
    character and not '.' or '..' (models/<name>.json must be a file in models/)."""
    if not isinstance(name, str) or not name or len(name) > NAME_LIMIT or name in (".", "..") or _PATHLIKE.search(name):
        _fail(
            filename,
            f"run name {quote(name, 60)} is not a name (1-{NAME_LIMIT} characters, no '/', '\\', "
            f"control characters, '.' or '..'): run names are never paths",
            kind,
            error,
        )
    return name


def check_config(config, filename, where: str = "config", kind: str = KIND, error: type = ResultsFileError) -> dict:
    """A saved TrainConfig's dict as the page reads it: an object of plain values (text, numbers,
    true/false, null, or short lists of them); sizes a list of 2 to ``MAX_LAYERS`` + 1 positive
    integers; the numbers the page formats are finite numbers; counts are integers."""
    c = _Checker(filename, kind, error)
    c.of(config, "object", where, "an object", optional=False)
    for key, value in config.items():
        if isinstance(value, list):
            if len(value) > LIST_LIMIT or any(isinstance(v, (list, dict)) for v in value):
                c.fail(f"{where}.{key}", f"must be a plain value or a short list of them, got {quote(value, 40)}")
        elif isinstance(value, dict):
            c.fail(f"{where}.{key}", f"must be a plain value, got {quote(value, 40)}")
        elif isinstance(value, float) and not math.isfinite(value):
            c.fail(f"{where}.{key}", f"must be a finite number, got {value}")
    sizes = config.get("sizes")
    if "sizes" in config and (
        not isinstance(sizes, list)
        or not 2 <= len(sizes) <= MAX_LAYERS + 1
        or not all(_integer(s) and s >= 1 for s in sizes)
    ):
        c.fail(f"{where}.sizes", f"must be a list of 2 to {MAX_LAYERS + 1} positive integers, got {quote(sizes, 40)}")
    for key in NUMBERS:
        if key in config:
            c.of(config[key], "number", f"{where}.{key}", "a finite number", optional=key != "eta" and key != "lmbda")
    for key in INTEGERS:
        if key in config:
            c.of(config[key], "integer", f"{where}.{key}", "an integer (or null)")
    return config


def check_results(results, filename) -> dict:
    """Every part of a parsed results.json that the report page reads; returns it unchanged."""
    c = _Checker(filename)
    c.of(results, "object", "", "a JSON object at the top level", optional=False)
    exploration = results.get("exploration")
    if exploration not in (None, "beyond", "level4"):
        c.fail(
            "exploration",
            f"{quote(exploration, 40)} is not an exploration nndl writes ('beyond', 'level4', or none for Level 3)",
        )
    beyond, level4 = exploration == "beyond", exploration == "level4"
    level = results.get("level")
    if level is not None and (not _integer(level) or level != 3):
        c.fail("level", f"must be 3 (the Level 3 exploration), got {quote(level, 40)}")
    if (beyond or level4) and ("level" in results or "ladder" in results):
        what = "the rest of chapter 3" if beyond else "chapter 6's convolutional networks"
        c.fail(
            "exploration",
            f"the file is marked {exploration!r} ({what}) but holds a Level 3 "
            f"{'level' if 'level' in results else 'ladder'}: it was edited or mixed up; give "
            "the folder nndl explore made",
        )
    c.of(results.get("created"), "text", "created", "text")
    c.of(results.get("complete"), "true/false", "complete", "true or false")
    options = results.get("options")
    c.of(options, "object", "options", "an object")
    c.of((options or {}).get("quick"), "true/false", "options.quick", "true or false")
    recorded_of(options, filename, KIND, ResultsFileError)  # options.dataset and options.dataset_sha256
    sizes = results.get("sizes")
    c.of(sizes, "object", "sizes", "an object")
    for key in SPLITS:
        v = (sizes or {}).get(key)
        if v is not None and (not _integer(v) or v < 0):
            c.fail(f"sizes.{key}", f"must be an integer >= 0, got {quote(v, 40)}")
    runs = results.get("runs")
    c.of(runs, "object", "runs", "an object (name: run)", optional=False)
    if len(runs) > MAX_REPORT_RUNS:
        c.fail("runs", f"{len(runs):,} runs, more than the {MAX_REPORT_RUNS} a report page shows")
    for name, run in runs.items():
        check_name(name, filename)
        _check_run(c, run, f"runs[{quote(name, 40)}]", filename)
    ladder = results.get("ladder")
    if "ladder" in results:
        c.of(ladder, "list", "ladder", "a list of steps", optional=False)
        if len(ladder) > MAX_REPORT_RUNS:
            c.fail("ladder", f"{len(ladder):,} steps, more than the {MAX_REPORT_RUNS} a report page shows")
        for i, row in enumerate(ladder):
            where = f"ladder[{i}]"
            c.of(row, "object", where, "an object (step, run, expected)", optional=False)
            for key in ("step", "run", "expected"):
                c.of(row.get(key), "text", f"{where}.{key}", "text", optional=key == "expected")
            run = runs.get(row["run"])
            if run is not None:
                final = run.get("final") or {}
                for key in ("test_accuracy", "validation_accuracy"):
                    if key not in final:
                        c.fail(f"runs[{quote(row['run'], 40)}].final", f"has no {key}, which its ladder step shows")
    if beyond:
        _check_beyond(c, runs)
    if level4:
        _check_level4(c, runs)
        _check_ensemble(c, results, runs)
    return results


def _check_run(c: _Checker, run, where: str, filename) -> None:
    c.of(run, "object", where, "an object", optional=False)
    if "config" in run:
        check_config(run["config"], filename, f"{where}.config")
    for key, kinds, what in (
        ("group", "text", "text"),
        ("evaluation_data", "text", "text"),
        ("model", "text", "text"),
        ("n_train", "integer", "an integer"),
        ("seconds", "number", "a finite number"),
    ):
        c.of(run.get(key), kinds, f"{where}.{key}", what)
    if run.get("evaluation_data") not in (None, *SPLITS):
        c.fail(f"{where}.evaluation_data", f"must be one of {SPLITS}, got {quote(run['evaluation_data'], 40)}")
    if _integer(run.get("n_train")) and run["n_train"] < 0:
        c.fail(f"{where}.n_train", f"must be >= 0, got {run['n_train']}")
    final = run.get("final")
    c.of(final, "object", f"{where}.final", "an object")
    for key, value in (final or {}).items():
        if not _number(value) or (key.endswith("accuracy") and not 0 <= value <= 1):
            c.fail(
                f"{where}.final.{key}",
                f"must be a finite number{' in [0, 1]' if key.endswith('accuracy') else ''}, got {quote(value, 40)}",
            )
    if run.get("history") is not None:
        check_history(run["history"], f"{filename}: {where}", KIND, ResultsFileError)


def _check_beyond(c: _Checker, runs: dict) -> None:
    """The ladder past 98 %: its rows' runs carry what the ladder shows; at least one row is there."""
    from nndl.explore.beyond import LADDER

    keys = {f"ladder:{k}" for k, _ in LADDER}
    rows = [(n, r) for n, r in runs.items() if r.get("group") in keys]
    if not rows:
        c.fail(
            "runs",
            "no run belongs to a step of the ladder past 98 % (no 'group' of ladder:...), so this is "
            "not the results of nndl explore beyond",
        )
    for name, run in rows:
        where = f"runs[{quote(name, 40)}]"
        config = run.get("config") or {}
        missing = [k for k in BEYOND_NEEDS if config.get(k) is None]
        if missing:
            c.fail(f"{where}.config", f"has no {', '.join(missing)}, which its ladder step shows")
        _check_ladder_run(c, where, run)


def _check_ladder_run(c: _Checker, where: str, run: dict) -> None:
    """What a ladder's row shows of its run (beyond Level 3 and Level 4 alike): its final test and
    validation accuracies, its time, its epochs."""
    final = run.get("final") or {}
    for key in ("test_accuracy", "validation_accuracy"):
        if key not in final:
            c.fail(f"{where}.final", f"has no {key}, which its ladder step shows")
    if not _number(run.get("seconds")):
        c.fail(f"{where}.seconds", "must be a finite number (the ladder shows the time)")
    if not isinstance((run.get("history") or {}).get("epoch_seconds"), list):
        c.fail(f"{where}.history", "has no epoch_seconds list, which the ladder counts epochs by")


def _check_level4(c: _Checker, runs: dict) -> None:
    """Chapter 6's ladder: each of its rows that is there carries what the ladder shows (its final
    accuracies, time, epochs and layer description); at least one row is there. The runs beyond
    the book ('beyond', 'beyond-2', ...) are rows too, checked the same way, and carry the settings
    results.md names (rotations, the eta schedule, the cap, the seed)."""
    from nndl.explore.level4 import LADDER, beyond_runs

    rows = [(key, runs[key]) for key, *_ in LADDER if key in runs]
    if not rows:
        c.fail("runs", "no run is a row of chapter 6's ladder, so this is not the results of nndl explore level4")
    for name in beyond_runs({"runs": runs}):
        run = runs[name]
        missing = [k for k in LEVEL4_BEYOND_NEEDS if (run.get("config") or {}).get(k) is None]
        if missing:
            c.fail(
                f"runs[{quote(name, 40)}].config", f"has no {', '.join(missing)}, which its row beyond the book shows"
            )
        rows.append((name, run))
    for name, run in rows:
        where = f"runs[{quote(name, 40)}]"
        _check_ladder_run(c, where, run)
        if not isinstance((run.get("config") or {}).get("layers"), (str, type(None))):
            c.fail(f"{where}.config.layers", "must be a layer description (text) or null")
        acc = (run.get("history") or {}).get("evaluation_accuracy")
        if not isinstance(acc, list):
            c.fail(f"{where}.history.evaluation_accuracy", "must be a list (the ladder shows the best epoch)")


def _check_ensemble(c: _Checker, results: dict, runs: dict) -> None:
    """Level 4's ensemble records, the book's ('ensemble') and beyond the book's ('beyond_ensemble'):
    the networks that voted (names of runs here, each carrying the epochs and time its row adds
    up; beyond the book's, runs beyond the book) and the two accuracies."""
    from nndl.explore.level4 import beyond_runs

    for part in ("ensemble", "beyond_ensemble"):
        e = results.get(part)
        if e is None:
            continue
        c.of(e, "object", part, "an object (nets, vote_accuracy, mean_accuracy)", optional=False)
        nets = e.get("nets")
        c.of(nets, "list", f"{part}.nets", "a list of run names", optional=False)
        if len(nets) > MAX_REPORT_RUNS or not all(isinstance(k, str) for k in nets):
            c.fail(f"{part}.nets", f"must be at most {MAX_REPORT_RUNS} run names, got {quote(nets, 40)}")
        missing = [k for k in nets if k not in runs]
        if missing:
            c.fail(f"{part}.nets", f"names runs that are not in the file: {quote(missing, 40)}")
        if part == "beyond_ensemble":
            other = [k for k in nets if k not in beyond_runs({"runs": runs})]
            if other:
                c.fail(
                    f"{part}.nets",
                    f"names runs that are not beyond the book ('beyond', 'beyond-2', ...): {quote(other, 40)}",
                )
        for key in ("vote_accuracy", "mean_accuracy"):
            v = e.get(key)
            if not _number(v) or not 0 <= v <= 1:
                c.fail(f"{part}.{key}", f"must be a finite number in [0, 1], got {quote(v, 40)}")
        for name in nets:
            _check_ladder_run(c, f"runs[{quote(name, 40)}] (in {part})", runs[name])


def read_results(folder) -> dict:
    """``folder/results.json``, parsed and checked (``check_results``); ``ResultsFileError`` otherwise."""
    path = Path(folder) / "results.json"
    return check_results(read_json(path, KIND, ResultsFileError), path)


__all__ = ["read_results", "check_results", "check_config", "check_name"]
