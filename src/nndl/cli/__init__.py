"""The ``nndl`` command: ``main(argv) -> int``, ``make_parser()``, and ``entry()`` for the script.

Subcommands: ``train``, ``evaluate``, ``predict``, ``report``, ``data fetch|info``, ``explore level3``.
Each lives in a module here with an ``add_parser`` function and a ``run(args) -> int``.

Errors: library code raises ``nndl.NndlError`` (and ``OSError`` for files); ``main`` is the
one place that turns them into one line on stderr - ``nndl: error: ...`` - and exit code 1.
Usage errors (a bad flag or value) print the usage and exit with 2, as argparse does;
Ctrl-C exits with 130 (``nndl train`` saves its model first). A user's mistake never shows
a traceback; a traceback means a bug in nndl.
"""

from __future__ import annotations

import argparse
import os
import sys

from nndl import __version__
from nndl.errors import NndlError

from . import data, models, report, train
from .common import UsageError
from nndl.blas import blas_threads

__all__ = ["main", "make_parser", "entry"]

EXPLORATIONS = {"level3": "Level 3 of the book: every chapter-3 improvement, measured, with figures"}


def make_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line (subcommands set ``run`` and keep their ``parser``)."""
    parser = argparse.ArgumentParser(
        prog="nndl", description="Neural Networks and Deep Learning, Level 3: network2.py in NumPy, "
                                 "with MNIST, figures and a command line.",
        epilog="Exit status: 0 success, 1 error, 2 bad usage, 130 interrupted (Ctrl-C).")
    parser.add_argument("--version", action="version", version=f"nndl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train.add_parser(sub)
    models.add_parsers(sub)
    report.add_parser(sub)
    data.add_parser(sub)
    e = sub.add_parser("explore", help="run one of the book's explorations (see nndl explore level3 --help)",
                       description="Run an exploration; everything after its name goes to it.",
                       epilog="; ".join(f"{k}: {v}" for k, v in EXPLORATIONS.items()))
    e.add_argument("exploration", choices=list(EXPLORATIONS), help="which exploration")
    e.add_argument("options", nargs=argparse.REMAINDER, help="its options (see nndl explore level3 --help)")
    e.set_defaults(run=run_explore)
    for name, p in sub.choices.items():  # each subcommand's parser, for usage errors
        p.set_defaults(parser=p)
        if name == "data":
            for q in p._subparsers._group_actions[0].choices.values():  # noqa: SLF001
                q.set_defaults(parser=q)
    return parser


def run_explore(args) -> int:
    """Hand everything after the exploration's name to its own ``main(argv) -> int``."""
    try:
        from nndl.explore.level3 import main as level3_main
    except ModuleNotFoundError as e:
        if e.name not in ("nndl.explore", "nndl.explore.level3"):
            raise
        raise NndlError(f"the exploration {args.exploration!r} is not available in this installation "
                        f"(no module nndl.explore.{args.exploration})") from None
    try:
        code = level3_main(list(args.options))
    except SystemExit as e:  # its argparse: --help, or a usage error
        code = e.code
    return code if isinstance(code, int) else (0 if code is None else 1)


def describe(error: BaseException) -> str:
    """One readable line for an exception ('path: No such file or directory' for an OSError)."""
    if isinstance(error, OSError) and error.strerror:
        where = " -> ".join(os.fspath(f) for f in (error.filename, error.filename2) if f is not None)
        return f"{where}: {error.strerror}" if where else error.strerror
    return str(error) or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a usage error already printed by argparse
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        with blas_threads():
            return args.run(args)
    except UsageError as e:
        args.parser.print_usage(sys.stderr)
        print(f"{args.parser.prog}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nnndl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `nndl evaluate m.json | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (NndlError, OSError) as e:
        print(f"nndl: error: {describe(e)}", file=sys.stderr)
        return 1


def entry() -> None:
    """The ``nndl`` console script."""
    sys.exit(main())
