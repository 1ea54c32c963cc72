"""``nndl explore level3``: run the Level 3 exploration, save five figures, print the ladder.

The command line of ``nndl.explore.runs`` (its tables: ``nndl.explore.ladder``;
``nndl.cli.explore.command`` does the work shared with ``nndl explore beyond``):
``src/level3/1_improved_network.py`` (the Level 3 document's script) and ``nndl explore level3``
both call ``main``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nndl.explore import figures, ladder
from nndl.explore.runs import Options, run_level3
from nndl.fileio import atomic_write_text

from . import command
from .command import BarReporter  # noqa: F401 - the reporter the explorations draw with


def write_outputs(results: dict, folder: Path) -> list[Path]:
    """results.md and the five figures (results.json is written as the runs finish)."""
    atomic_write_text(folder / "results.md", ladder.markdown(results))
    return figures.draw_all(results, folder)


LEVEL3 = command.Exploration(
    name="level3",
    title="Level 3",
    description="Level 3 of 'Neural Networks and Deep Learning': cross-entropy, L2 regularization and better "
    "initialization, each shown at work on MNIST. Saves five figures, results.json, results.md, the "
    "trained models and report.html to PICTURES/level3/YYYYMMDD_HHMMSS/ and prints the accuracy ladder.",
    quick_help="small subsets and 3 epochs: a smoke test in well under a minute (figures say 'quick')",
    seed_help="seed shared by all runs, an integer >= 0 (default 0)",
    make_options=Options.make,
    run=run_level3,
    write_outputs=write_outputs,
    text=ladder.text,
    markdown=ladder.markdown,
    finished=lambda results: results.get("level") == 3 and bool(results.get("complete")),
)


def parser(prog: str = "nndl explore level3"):
    return command.parser(LEVEL3, prog)


def new_folder(pictures: str) -> Path:
    """PICTURES/level3/YYYYMMDD_HHMMSS (``nndl.cli.explore.command.new_folder``)."""
    return command.new_folder(pictures, "level3")


def replot(folder: Path) -> int:
    return command.replot(LEVEL3, folder)


def main(argv: list[str] | None = None, prog: str = "nndl explore level3") -> int:
    return command.main(LEVEL3, argv, prog)


if __name__ == "__main__":
    sys.exit(main())
