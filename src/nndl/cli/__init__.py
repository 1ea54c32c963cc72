"""The ``nndl`` command: ``main(argv) -> int``, ``make_parser()``, and ``entry()`` for the script.

Subcommands: ``train``, ``evaluate``, ``predict``, ``report``, ``data fetch|info``, ``sweep``,
``explore level3``.
Each lives in a module here with an ``add_parser`` function and a ``run(args) -> int``.

Errors: library code raises ``nndl.NndlError`` (and ``OSError`` for files); ``main`` is the
one place that turns them into a message on stderr whose first line says everything
essential - ``nndl: error: ...`` - and exit code 1 (a fetch failure lists the sources it
tried on the lines after it). Usage errors (a bad flag or value) are one line,
``nndl train: error: argument --eta: ... (see nndl train --help)``, and exit 2. Ctrl-C exits
with 130 and SIGTERM with 143 (``nndl train`` saves its model first, for both). A user's
mistake never shows a traceback; a traceback means a bug in nndl. ``entry`` (or the
``nndl`` script's own ``_nndl_entry``) also keeps a Ctrl-C during start-up quiet.
"""

from __future__ import annotations

import argparse
import os
import sys

from nndl import __version__
from nndl.blas import blas_threads
from nndl.errors import NndlError

from . import data, models, report, sweep, train
from .common import (
    OneLineParser,
    Terminated,
    UsageError,
    cap,
    describe,
    details_wrapped,
    interrupt_status,
    sigterm_as_interrupt,
)

__all__ = ["main", "make_parser", "entry"]

EXPLORATIONS = {  # name: (module with main(argv, prog) -> int, what it is)
    "level3": (
        "nndl.cli.explore.level3",
        "Level 3 of the book: cross-entropy, L2 and better initialization, measured, with the five figures",
    ),
    "beyond": (
        "nndl.cli.explore.beyond",
        "the rest of chapter 3 (softmax, dropout, momentum, tanh/ReLU, the eta "
        "schedule, expanded data) and the ladder past 98 %",
    ),
    "level4": (
        "nndl.cli.explore.level4",
        "Level 4, chapter 6: convolutional networks, the book's ladder row by row (a first version)",
    ),
}


def make_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line (subcommands set ``run`` and keep their ``parser``)."""
    parser = OneLineParser(
        prog="nndl",
        description="Neural Networks and Deep Learning, Level 3: network2.py in NumPy, "
        "with MNIST, figures and a command line.",
        epilog="Where to start: `nndl explore level3 --quick` trains the Level 3 networks in about a minute "
        "(without --quick: the full exploration `make run` does, a few minutes) and writes its figures and a "
        "report page where the network reads the digit you draw; then `nndl train --save model.json` and "
        "`nndl predict model.json your_digit.png`. Each command's --help says more. "
        "Exit status: 0 success, 1 error, 2 bad usage, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).",
    )
    parser.add_argument("--version", action="version", version=f"nndl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train.add_parser(sub)
    models.add_parsers(sub)
    report.add_parser(sub)
    data.add_parser(sub)
    sweep.add_parser(sub)
    e = sub.add_parser(
        "explore",
        help="run one of the book's explorations (nndl explore level3|beyond|level4 --help)",
        description="Run an exploration of the book's chapter 3 (level3, beyond) or chapter 6 "
        "(level4). Everything after its name is the exploration's own option: see nndl "
        "explore level3 --help, nndl explore beyond --help, nndl explore level4 --help.",
        epilog="; ".join(f"{k}: {v[1]}" for k, v in EXPLORATIONS.items()),
    )
    e.add_argument("exploration", choices=list(EXPLORATIONS), help="which exploration")
    e.add_argument("options", nargs=argparse.REMAINDER, metavar="...", help=argparse.SUPPRESS)
    e.set_defaults(run=run_explore)
    parser.commands = list(sub.choices)  # for the one-line error when none is given
    for name, p in sub.choices.items():  # each subcommand's parser, for usage errors
        p.set_defaults(parser=p)
        if name == "data":
            for q in p._subparsers._group_actions[0].choices.values():  # noqa: SLF001
                q.set_defaults(parser=q)
    return parser


def run_explore(args) -> int:
    """Hand everything after the exploration's name to its own ``main(argv, prog) -> int``."""
    import importlib

    module_name = EXPLORATIONS[args.exploration][0]
    try:
        module = importlib.import_module(module_name)  # a name from the table above, never user text
    except ModuleNotFoundError as e:
        if e.name is None or not module_name.startswith(e.name):
            raise
        raise NndlError(
            f"the exploration {args.exploration!r} is not available in this installation (no module {module_name})"
        ) from None
    try:
        code = module.main(list(args.options), prog=f"nndl explore {args.exploration}")
    except SystemExit as e:  # its argparse: --help, or a usage error
        code = e.code
    return code if isinstance(code, int) else (0 if code is None else 1)


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    try:
        with sigterm_as_interrupt():
            return _main(argv)
    except KeyboardInterrupt as e:  # includes Terminated; also while the parser is being built
        print(f"\nnndl: {'terminated' if isinstance(e, Terminated) else 'interrupted'}", file=sys.stderr)
        return interrupt_status(e)


def _main(argv: list[str] | None) -> int:
    parser = make_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # named by the subcommand that did not know them, not by `nndl`
            getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:  # --help, --version, or a usage error already printed (one line)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    if args.command is None:
        print(
            f"nndl: error: no command given; choose one of {', '.join(parser.commands)} (see nndl --help)",
            file=sys.stderr,
        )
        return 2
    try:
        with blas_threads():
            code = args.run(args)
        return code
    except UsageError as e:
        print(f"{args.parser.prog}: error: {cap(str(e))} (see {args.parser.prog} --help)", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `nndl evaluate m.json | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (NndlError, OSError) as e:
        print(f"nndl: error: {details_wrapped(cap(describe(e)))}", file=sys.stderr)
        return 1
    except MemoryError:  # the last line of defence: what an estimate (nndl.memory) did not foresee
        print(
            "nndl: error: out of memory: NumPy could not allocate an array this command needed; use a "
            "smaller network, mini-batch or data set",
            file=sys.stderr,
        )
        return 1


def entry() -> None:
    """The ``nndl`` console script (as ``nndl.cli:entry``; the installed script uses ``_nndl_entry``)."""
    sys.exit(main())
