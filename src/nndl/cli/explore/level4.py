"""``nndl explore level4``: chapter 6's ladder of convolutional networks, every row of the book.

The command line of ``nndl.explore.level4`` (``nndl.cli.explore.command`` does the work shared
with the other explorations): ``src/level4/1_convolutional_networks.py`` and ``nndl explore
level4`` both call ``main``.
"""

from __future__ import annotations

import sys

from nndl.explore.level4 import Options, markdown, run_level4, text, write_outputs

from . import command

LEVEL4 = command.Exploration(
    name="level4",
    title="Level 4",
    description="Level 4 of 'Neural Networks and Deep Learning' (chapter 6): convolutional networks, the book's "
    "ladder row by row beside its numbers, from [784, 100, 10] to an ensemble of five conv nets "
    "with dropout, then a row beyond the book: the ReLU row's net with chapter 3's tools (random rotations "
    f"on top of the shifts, eta halved when the validation accuracy stalls), {Options().beyond_seeds} seeds "
    "and their vote, beside the book's best single net and ensemble. Saves results.json, results.md, the trained models and five figures (the first "
    "layer's filters, a digit's feature maps, accuracy per epoch, the ladder, the digits the "
    "ensemble gets wrong) and report.html to PICTURES/level4/YYYYMMDD_HHMMSS/. A full run takes about two and a half hours "
    "on two cores (measured: docs/level4/ in nndl's repository): every training checkpoints each epoch, and the same command, run again "
    "after a stop, continues each training from its last epoch to the same weights.",
    quick_help="small subsets and 1-2 epochs: a smoke test (about 30 s of CPU)",
    seed_help="seed of every run, an integer >= 0 (default 0)",
    make_options=Options.make,
    run=run_level4,
    write_outputs=write_outputs,
    text=text,
    markdown=markdown,
    finished=lambda results: results.get("exploration") == "level4" and bool(results.get("complete")),
    report=True,
    resumable=True,
    tensorboard=False,  # its trainings continue from checkpoints; TensorBoard is for level3 and beyond
)


def main(argv: list[str] | None = None, prog: str = "nndl explore level4") -> int:
    return command.main(LEVEL4, argv, prog)


if __name__ == "__main__":
    sys.exit(main())
