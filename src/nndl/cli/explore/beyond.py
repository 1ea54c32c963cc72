"""``nndl explore beyond``: the rest of chapter 3, seven figures, and the ladder past 98 %.

The command line of ``nndl.explore.beyond`` (its tables: ``nndl.explore.beyond_ladder``;
``nndl.cli.explore.command`` does the work shared with ``nndl explore level3``):
``src/level3/2_beyond_level3.py`` and ``nndl explore beyond`` both call ``main``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nndl.explore import beyond, beyond_figures
from nndl.explore.beyond_ladder import markdown, text
from nndl.fileio import atomic_write_text

from . import command


def write_outputs(results: dict, folder: Path) -> list[Path]:
    """results.md and the seven figures (results.json is written as the runs finish)."""
    atomic_write_text(folder / "results.md", markdown(results))
    return beyond_figures.draw_all(results, folder)


BEYOND = command.Exploration(
    name="beyond",
    title="beyond-Level-3",
    description="Beyond Level 3: the rest of chapter 3 of 'Neural Networks and Deep Learning' - softmax with the "
    "log-likelihood cost, dropout against L2, momentum, tanh and ReLU neurons, the book's learning-"
    "rate schedule and artificially expanded data - each measured on MNIST, and the ladder past "
    "98 % (three seeds a row). Saves seven figures, results.json, results.md, the trained models "
    "and report.html to PICTURES/beyond/YYYYMMDD_HHMMSS/. The full run takes about 14 minutes on "
    "two cores.",
    quick_help="small subsets and few epochs: a smoke test in under a minute (figures say 'quick')",
    seed_help="first seed, an integer >= 0 (the ladder uses it and the next two; default 0)",
    make_options=beyond.Options.make,
    run=beyond.run_beyond,
    write_outputs=write_outputs,
    text=text,
    markdown=markdown,
    finished=lambda results: results.get("exploration") == "beyond" and bool(results.get("complete")),
)


def parser(prog: str = "nndl explore beyond"):
    return command.parser(BEYOND, prog)


def main(argv: list[str] | None = None, prog: str = "nndl explore beyond") -> int:
    return command.main(BEYOND, argv, prog)


if __name__ == "__main__":
    sys.exit(main())
