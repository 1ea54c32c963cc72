"""Choosing hyperparameters: sweeps of any ``TrainConfig`` field, on local processes or Dask.

Chapter 3 of "Neural Networks and Deep Learning" chooses eta, lambda and the rest by
trying them: on a subset first, eta read off training-cost curves, then a grid. This
package does that for any number of trials:

* :mod:`~nndl.sweep.spec` - what to try (grid, random draws, seeds, subsets) -> trials;
* :mod:`~nndl.sweep.trial` - a trial is a plain function, ``run_trial(trial, data) -> dict``;
* :mod:`~nndl.sweep.runner` - where trials run: a ``concurrent.futures.Executor`` behind one
  small interface (inline, a local process pool, or :mod:`~nndl.sweep.dask`'s cluster);
* :mod:`~nndl.sweep.store` - results in one SQLite file, a row per trial as it finishes; read
  read-only and checked whole, written by one sweep at a time (a lock);
* :mod:`~nndl.sweep.sweep` - resumable runs; :mod:`~nndl.sweep.figures` - pictures from the file.

Contract kept by every piece: trials never print and never learn where they run; the same
trial gives the same result bit for bit wherever it runs (one BLAS thread everywhere); only
``nndl.cli.sweep`` prints. ``Runner.run(fn, items, *args)`` is the one loop other code
(the Level 3 exploration) uses to run independent trainings in parallel.
"""

from .choose import make_runner
from .runner import InlineRunner, LocalRunner, Runner, cpu_count
from .spec import LOG_UNIFORM, Range, SweepSpec, parse_field, parse_value, sweepable
from .store import SCHEMA_VERSION, SweepFileError, SweepStore
from .sweep import Outcome, Record, SweepStopped, load_spec, open_sweep, read_sweep, run_sweep
from .trial import DataSource, Trial, run_trial

__all__ = [
    "LOG_UNIFORM",
    "SCHEMA_VERSION",
    "DataSource",
    "InlineRunner",
    "LocalRunner",
    "Outcome",
    "Range",
    "Record",
    "Runner",
    "SweepFileError",
    "SweepSpec",
    "SweepStopped",
    "SweepStore",
    "Trial",
    "cpu_count",
    "load_spec",
    "make_runner",
    "open_sweep",
    "parse_field",
    "parse_value",
    "read_sweep",
    "run_sweep",
    "run_trial",
    "sweepable",
]
