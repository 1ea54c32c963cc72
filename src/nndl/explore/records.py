"""Runs of ``nndl.train`` as the explorations' figures read them, so a notebook draws the same figures.

The figure functions (``nndl.explore.figures``, ``nndl.explore.beyond_figures``) draw from a
results dict alone: ``results["runs"][name]`` is one training run (its config, history and
final accuracies) and ``results["sizes"]`` the size of each split. The explorations fill that
dict through the sweep's runner; a notebook trains with ``nndl.train`` in plain sight and
turns each run into the same record with :func:`run_record`, then gathers them with
:func:`results`::

    net, history = nndl.train(config, training, validation)
    runs = {"full": run_record(config, net, history, training, validation, test)}
    fig_full_training(results(runs, training, validation, test))
"""

from __future__ import annotations

from nndl.errors import ConfigError

__all__ = ["results", "run_record"]

SPLITS = ("training", "validation", "test")


def run_record(
    config, net, history, training, validation, test, *, evaluation: str = "validation", group: str | None = None
) -> dict:
    """One run of ``nndl.train`` as an entry of an exploration's ``results["runs"]``.

    ``training`` is the data it trained on (a ``Split``, or anything ``nndl.examples`` takes,
    of n rows); ``validation`` and ``test`` the splits its final accuracies are measured on;
    ``evaluation`` names the split its history watched each epoch ("validation", or "test" in
    the book's overfitting demo); ``group`` is the figure or ladder row it belongs to (the
    beyond figures look runs up by it, e.g. "ladder:level3"). Plain JSON values only.
    """
    if evaluation not in SPLITS:
        raise ConfigError(f"evaluation must be one of {SPLITS}, got {evaluation!r}")
    data = {"training": training, "validation": validation, "test": test}
    record = {
        "config": config.to_dict(),
        "n_train": len(training),
        "evaluation_data": evaluation,
        "history": history.to_dict(state=False),
        "final": {f"{name}_accuracy": net.accuracy(split) / len(split) for name, split in data.items()},
        "seconds": float(sum(history.epoch_seconds)),
    }
    if group is not None:
        record["group"] = group
    return record


def results(
    runs: dict, training, validation, test, *, quick: bool = False, seed: int = 0, dataset: str = "mnist", **parts
) -> dict:
    """The results dict the figure functions draw: ``runs`` (name -> :func:`run_record`), the
    sizes of the three splits the runs used, the Level 3 ladder's steps (``ladder_text`` and
    ``ladder_markdown`` show those of ``runs``), and ``parts`` (e.g. ``slowdown=``,
    ``gradient_curve=``, ``z_distribution=``, ``samples=``). ``quick`` marks the figures'
    titles as a quick run; ``seed`` is the seed whose runs the beyond figures show;
    ``dataset`` names the data (an .npz file is taken as MNIST digits, as the committed sample is)."""
    from nndl.explore.runs import LADDER

    return {
        "options": {"quick": quick, "seed": seed, "dataset": dataset},
        "sizes": {"training": len(training), "validation": len(validation), "test": len(test)},
        "ladder": [{"step": step, "run": run, "expected": expected} for step, run, expected in LADDER],
        "runs": dict(runs),
        **parts,
    }
