"""Run a sweep: its trials through a runner, each result into the store as it finishes.

:func:`open_sweep` opens (or creates) the sweep's folder and checks that a folder made
before holds the same sweep, so running the same command again resumes it;
:func:`run_sweep` runs the trials the store does not hold yet; :func:`read_sweep` reads a
finished or interrupted one (``nndl sweep show``, ``plot``, ``resume``), checked whole.
Nothing here prints.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from nndl.errors import ConfigError, DivergenceError, quote

from .runner import SweepStopped
from .spec import SweepSpec
from .store import SweepFileError, SweepStore
from .trial import run_trial


@dataclass(frozen=True)
class Outcome:
    """What ``on_result`` hears after each trial: the result dict, or why it diverged."""

    trial: object  # nndl.sweep.trial.Trial
    result: dict | None
    diverged: str | None = None


def open_sweep(folder, spec: SweepSpec, dataset: str, command: list[str] | None = None) -> SweepStore:
    """The store of the sweep in ``folder``, created if new; refuses a folder that holds
    another sweep (other values, seeds, data set or engine defaults)."""
    store = SweepStore(folder, create=True)
    try:
        want = {"spec": spec.to_dict(), "dataset": dataset, "digest": spec.digest()}
        have = store.get_meta("sweep")
        if have is None:
            store.set_meta("sweep", want)
            if command is not None:
                store.set_meta("command", command)
        elif have != want:
            other, other_dataset = load_spec(store)  # checked: what the message quotes is a sweep's
            raise SweepFileError(
                f"{Path(folder)} holds another sweep (dataset {quote(other_dataset, 80)}, "
                f"{_summary(other.to_dict())}); to resume it, repeat the command that made it "
                f"(nndl sweep show {folder} tells); for this sweep, choose another --out folder"
            )
        store.rows(finished_only=False)  # every row checked before any trial runs
    except BaseException:
        store.close()
        raise
    return store


def _summary(spec: dict) -> str:
    parts = [f"{k} {','.join(map(str, v))}" for k, v in spec.get("values", {}).items()]
    parts += [f"{k} {r['lo']:g}:{r['hi']:g}" for k, r in spec.get("ranges", {}).items()]
    return "; ".join(parts + [f"seeds {','.join(map(str, spec.get('seeds', [])))}"])


def load_spec(store: SweepStore) -> tuple[SweepSpec, str]:
    """The spec and data set recorded in a sweep's store, checked whole (``SweepFileError``)."""
    meta = store.get_meta("sweep")
    if not isinstance(meta, dict) or "spec" not in meta:
        raise SweepFileError(f"{store.path}: it records no sweep specification")
    if (
        set(meta) != {"spec", "dataset", "digest"}
        or not isinstance(meta["dataset"], str)
        or not 0 < len(meta["dataset"]) <= 4096
        or not isinstance(meta["digest"], str)
    ):
        raise SweepFileError(
            f"{store.path}: its sweep record is not one nndl writes (keys spec, dataset, digest "
            f"with a data set's name or path), found {quote(sorted(meta), 60)}"
        )
    try:
        spec = SweepSpec.from_dict(meta["spec"])
    except ConfigError as e:
        raise SweepFileError(f"{store.path}: its sweep specification is not one nndl can run: {e}") from None
    return spec, meta["dataset"]


@dataclass(frozen=True)
class Record:
    """A sweep as its folder holds it: what ``nndl sweep show``, ``plot`` and ``resume`` read."""

    spec: SweepSpec
    dataset: str
    rows: list  # finished trials (dicts, checked), in the sweep's order
    counts: dict  # status -> trials
    command: list | None  # the command that made it, as words


def read_sweep(folder) -> Record:
    """Read the sweep in ``folder`` without writing to it, and check it whole: the spec, every
    row, and that the rows are this spec's trials (their swept values are the spec's fields)."""
    with SweepStore(folder) as store:
        spec, dataset = load_spec(store)
        rows = store.rows()
        counts = store.counts()
        command = store.get_meta("command")
    if command is not None and (not isinstance(command, list) or not all(isinstance(w, str) for w in command)):
        raise SweepFileError(f"{store.path}: its command record is {quote(command, 40)}; nndl writes a list of words")
    want = set(spec.swept()) | {"seed"}
    for r in rows:
        if set(r["params"]) != want:
            raise SweepFileError(
                f"{store.path}: trial {quote(r['key'], 20)} records the values of "
                f"{', '.join(sorted(r['params']))}, but the sweep varies {', '.join(sorted(want))}"
            )
    if sum(counts.values()) < len(rows):
        raise SweepFileError(f"{store.path}: its trial counts do not add up")
    return Record(spec, dataset, rows, counts, command)


def run_sweep(spec: SweepSpec, store: SweepStore, runner, data, *, on_result=None, tensorboard=None) -> dict[str, int]:
    """Run every trial of ``spec`` that ``store`` has not finished; return the status counts.

    ``data`` is what ``runner.share`` gave. Each result is written in its own transaction
    as it arrives, so stopping (Ctrl-C, a kill) loses at most the trials in flight. A trial
    that diverges is recorded as 'diverged' and the sweep goes on; any other error stops it
    (a ``ConfigError`` then names the trial's values). ``tensorboard`` (a folder): each trial
    also writes TensorBoard event files into a folder of it named by its swept values.
    """
    trials = spec.trials()
    store.add_trials(trials)
    finished = store.finished_keys()
    todo = [t for t in trials if t.key not in finished]
    if tensorboard is not None:
        todo = [dataclasses.replace(t, tensorboard=str(tensorboard)) for t in todo]
    try:
        for trial, future in runner.run(run_trial, todo, data, on_submit=lambda t: store.mark_running(t.key)):
            _record(trial, future, store, on_result)
    except Exception as e:  # noqa: BLE001 - only what the runner says is its own loss becomes SweepStopped
        reason = runner.lost(e)
        if reason is None:
            raise
        raise SweepStopped(reason) from None
    return store.counts()


def _record(trial, future, store: SweepStore, on_result) -> None:
    """Write one finished trial, or its divergence, into the store; tell ``on_result``."""
    try:
        result = future.result()
    except DivergenceError as e:
        store.write_diverged(trial.key, str(e))
        outcome = Outcome(trial, None, str(e))
    except ConfigError as e:  # a value the engine refuses only once it sees the data
        values = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in trial.label.items())
        raise ConfigError(f"the trial with {values}: {e}") from None
    else:
        store.write_result(result)
        outcome = Outcome(trial, result)
    if on_result is not None:
        on_result(outcome)
