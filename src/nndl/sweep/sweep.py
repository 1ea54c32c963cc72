"""Run a sweep: its trials through a runner, each result into the store as it finishes.

:func:`open_sweep` opens (or creates) the sweep's folder and checks that a folder made
before holds the same sweep, so running the same command again resumes it;
:func:`run_sweep` runs the trials the store does not hold yet. Nothing here prints.
"""

from __future__ import annotations

import dataclasses

from dataclasses import dataclass
from pathlib import Path

from nndl.errors import ConfigError, DivergenceError

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
    want = {"spec": spec.to_dict(), "dataset": dataset, "digest": spec.digest()}
    have = store.get_meta("sweep")
    if have is None:
        store.set_meta("sweep", want)
        if command is not None:
            store.set_meta("command", command)
    elif have != want:
        store.close()
        raise SweepFileError(f"{Path(folder)} holds another sweep (dataset {have.get('dataset')}, "
                             f"{_summary(have.get('spec', {}))}); to resume it, repeat the command that made it "
                             f"(nndl sweep show {folder} tells); for this sweep, choose another --out folder")
    return store


def _summary(spec: dict) -> str:
    parts = [f"{k} {','.join(map(str, v))}" for k, v in spec.get("values", {}).items()]
    parts += [f"{k} {r['lo']:g}:{r['hi']:g}" for k, r in spec.get("ranges", {}).items()]
    return "; ".join(parts + [f"seeds {','.join(map(str, spec.get('seeds', [])))}"])


def load_spec(store: SweepStore) -> tuple[SweepSpec, str]:
    """The spec and data set recorded in a sweep's store."""
    meta = store.get_meta("sweep")
    if not isinstance(meta, dict) or "spec" not in meta:
        raise SweepFileError(f"{store.path}: it records no sweep specification")
    return SweepSpec.from_dict(meta["spec"]), meta["dataset"]


def run_sweep(spec: SweepSpec, store: SweepStore, runner, data, *, on_result=None,
              tensorboard=None) -> dict[str, int]:
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
    for trial, future in runner.run(run_trial, todo, data, on_submit=lambda t: store.mark_running(t.key)):
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
    return store.counts()
