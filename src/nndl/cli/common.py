"""What the subcommands share: the usage error, progress bars, number formatting, datasets.

Only the command line prints. Results (epoch lines, accuracies, tables) go to stdout;
progress bars and status messages ("saved ...") go to stderr, so ``nndl ... > out.txt``
keeps just the results. Bars are drawn only when stderr is a terminal and ``--quiet``
was not given.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import re
import signal
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from nndl.config import FieldDoc, TrainConfig, flag_of
from nndl.data import DATASETS, Splits, get_spec, load_dataset
from nndl.data.load import ARRAY_CACHE
from nndl.data.store import dataset_dir
from nndl.errors import quote


class UsageError(Exception):
    """A flag's value is not allowed: the CLI prints one line (``nndl train: error: ...``), exits with 2."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled exactly like Ctrl-C (a run saves, says how to resume), exit status 143.

    A subclass of ``KeyboardInterrupt`` so that every place that cleans up after Ctrl-C
    cleans up after ``kill`` too; :func:`interrupt_status` tells the two apart."""


def interrupt_status(error: BaseException) -> int:
    """128 + the signal's number: 143 after SIGTERM, 130 after Ctrl-C (SIGINT)."""
    return 143 if isinstance(error, Terminated) else 130


def interrupt_word(error: BaseException) -> str:
    return "terminated (SIGTERM)" if isinstance(error, Terminated) else "interrupted"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that says everything: what is wrong and where
    to read more (``nndl train: error: argument --eta: invalid float value: 'x' (see nndl train
    --help)``), not a usage block of six lines first. Exit status 2, as argparse's."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {cap(did_you_mean(message))} (see {self.prog} --help)\n")


def did_you_mean(message: str) -> str:
    """argparse's "invalid choice: 'trian' (choose from 'train', ...)" with "; did you mean
    'train'?" in place of the list when one choice is close to what was typed (a typo), so the
    line stays short; the list is kept when nothing is close."""
    found = re.search(r"invalid choice: '([^']*)'.*\(choose from (.*)\)\s*$", message)
    if not found or "did you mean" in message or "maybe you meant" in message:
        return message
    choices = [c.strip().strip("'\"") for c in found.group(2).split(",")]
    close = difflib.get_close_matches(found.group(1), choices, n=1, cutoff=0.6)
    return f"{message[: found.end(1) + 1]}; did you mean {close[0]!r}?" if close else message


MESSAGE_LINE_LIMIT = 1000  # characters per line of an error message; a longer one is cut
MESSAGE_LINES_LIMIT = 40
DETAIL_WIDTH = 100  # columns of the detail lines under an error (the sources a failed fetch tried)


def cap(message: str) -> str:
    """An error message with each line cut to ``MESSAGE_LINE_LIMIT`` characters and at most
    ``MESSAGE_LINES_LIMIT`` lines: the last guard against echoing a huge input back."""
    lines = message.splitlines() or [""]
    out = [
        ln if len(ln) <= MESSAGE_LINE_LIMIT else ln[:MESSAGE_LINE_LIMIT] + f"... ({len(ln):,} characters)"
        for ln in lines[:MESSAGE_LINES_LIMIT]
    ]
    if len(lines) > MESSAGE_LINES_LIMIT:
        out.append(f"... ({len(lines) - MESSAGE_LINES_LIMIT:,} more lines)")
    return "\n".join(out)


def details_wrapped(message: str, width: int = DETAIL_WIDTH) -> str:
    """A message whose first line says everything, its detail lines (the sources a failed fetch
    tried, each '  - <source>: <why>') wrapped to ``width`` columns, continued 4 spaces in."""
    first, *rest = message.split("\n")
    out = [first]
    for line in rest:
        lead = len(line) - len(line.lstrip(" -"))
        out.extend(
            textwrap.wrap(line, width, subsequent_indent=" " * (lead + 2), break_on_hyphens=False, drop_whitespace=True)
            or [line]
            if len(line) > width
            else [line]
        )
    return "\n".join(out)


def nonnegative_int(text: str) -> int:
    """An argparse type: an integer >= 0 (a seed, a count), with a message that says so."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {quote(text, 40)}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def default_text(doc: FieldDoc, value) -> str:
    """How a field's default reads in help: its ``FieldDoc.shown_default``, else the value itself."""
    if doc.shown_default is not None:
        return doc.shown_default
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def add_config_flags(group_of: Callable[[str, FieldDoc], Any], *, sweep: Callable[[str], str] | None = None) -> None:
    """One flag per ``TrainConfig`` field, made from its ``FieldDoc``: ``--mini-batch-size`` for
    ``mini_batch_size``, added to the argument group ``group_of(name, doc)`` (None: no flag).

    ``nndl train`` takes one value per flag, read by the field's type and checked against its
    choices, default None (not given). With ``sweep`` (name -> how several values are written)
    a flag takes one or more texts instead, into ``field_<name>``, for ``nndl sweep`` to parse.
    """
    base = TrainConfig()
    for name, doc in TrainConfig.field_docs().items():
        group = group_of(name, doc)
        if group is None:
            continue
        default = default_text(doc, getattr(base, name))
        if sweep is not None:
            group.add_argument(
                flag_of(name),
                dest=f"field_{name}",
                nargs="+",
                metavar="V",
                help=f"{doc.help}; {sweep(name)} (default {default})",
            )
            continue
        choices = list(doc.choices) if doc.choices is not None else None
        group.add_argument(
            flag_of(name), type=doc.type, choices=choices, metavar=doc.metavar, help=f"{doc.help} (default {default})"
        )


def describe(error: BaseException) -> str:
    """One readable line for an exception ('path: No such file or directory' for an OSError)."""
    if isinstance(error, OSError) and error.strerror:
        where = " -> ".join(os.fspath(f) for f in (error.filename, error.filename2) if f is not None)
        return f"{where}: {error.strerror}" if where else error.strerror
    return str(error) or type(error).__name__


def bars_wanted(quiet: bool) -> bool:
    """Draw progress bars? Not with ``--quiet``, and not when stderr is a file or a pipe."""
    if quiet:
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def count(k: int, n: int) -> str:
    """'9,781 / 10,000 (97.81%)'."""
    return f"{k:,} / {n:,} ({percent(k, n)})"


def percent(k: int, n: int) -> str:
    return f"{100.0 * k / n:.2f}%" if n else "n/a"


def say(message: str) -> None:
    """A status line on stderr (not part of the results), without disturbing a bar."""
    tqdm.write(message, file=sys.stderr)


class FileBars:
    """A ``progress(filename, done_bytes, total_or_None)`` callback: one tqdm bar per file.

    This is the callback ``nndl.data.fetch`` and ``load_mnist`` take. A new bar starts when
    the file changes, or when the same file starts again from 0 (the next source).
    """

    def __init__(self, enabled: bool, file=None):
        self.enabled = enabled
        self.file = file
        self._bar: tqdm | None = None
        self._name: str | None = None

    def __call__(self, filename: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if self._bar is None or filename != self._name or (done == 0 and self._bar.n > 0):
            self.close()
            self._name = filename
            self._bar = tqdm(
                total=total,
                desc=filename,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=self.file or sys.stderr,
                leave=True,
                dynamic_ncols=True,
            )
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def class_names(dataset: str) -> tuple[str, ...]:
    """The class names of a registered data set; digits 0-9 for an .npz file."""
    return DATASETS[dataset].labels if dataset in DATASETS else tuple(str(d) for d in range(10))


DATASET_HELP = (
    "'mnist', 'fashion' (Fashion-MNIST), or the path of an .npz file holding train_images, "
    "train_labels, test_images, test_labels (uint8 (n, 28, 28) images 0-255, or floats in "
    "[0, 1]) and optionally validation_images, validation_labels - without them the last "
    "sixth of the training images is the validation split, as MNIST's 10,000 of 60,000"
)


def load_data(dataset: str, data_dir: str | None, *, bars: bool) -> Splits:
    """Load ``--dataset`` (a registered name, fetched on first use, or an .npz path)."""
    is_file = dataset.endswith(".npz") or os.sep in dataset or Path(dataset).is_file()
    if dataset not in DATASETS and not is_file:
        valid = ", ".join(repr(k) for k in DATASETS)
        raise UsageError(
            f"argument --dataset: unknown data set {dataset!r}; give one of {valid} or the path of an .npz file"
        )
    if is_file and dataset not in DATASETS:
        return load_dataset(dataset)
    progress = FileBars(bars)
    try:
        splits = load_dataset(get_spec(dataset).name, data_dir=data_dir, progress=progress)
    finally:
        progress.close()
    for note in splits.notes:  # damaged cache files that were deleted and rebuilt
        say(f"nndl: note: {note}")
    if any(source not in ("cache", ARRAY_CACHE) for source in splits.sources.values()):  # a fetch: say from where
        spec = get_spec(dataset)
        say("nndl: " + fetched_line(spec.title, dataset_dir(spec, data_dir), splits.sources))
    return splits


def fetched_line(title: str, directory, served: dict) -> str:
    """One line for a fetch that worked: where the files came from, that they verified, where
    they are ('MNIST: the 4 files fetched from <source>, verified (SHA-256), in <folder>').
    ``served``: file name -> the source that served it ("cache" or "array cache": already here)."""
    here = ("cache", ARRAY_CACHE)
    fetched = {}
    for name, source in served.items():
        if source not in here:
            fetched.setdefault(source, []).append(name)
    n, kept = len(served), sum(source in here for source in served.values())
    if not fetched:
        return f"{title}: the {n} files are already in {directory}, verified (SHA-256)"
    came = "; ".join(
        f"{len(names)} from {source}" if len(fetched) > 1 or kept else f"from {source}"
        for source, names in fetched.items()
    )
    if kept:
        return f"{title}: {kept} of the {n} files already in {directory}, {came} (verified, SHA-256)"
    return f"{title}: the {n} files fetched {came}, verified (SHA-256), in {directory}"


def describe_data(splits: Splits) -> str:
    """'MNIST: 50,000 training, 10,000 validation, 10,000 test images'."""
    title = DATASETS[splits.dataset].title if splits.dataset in DATASETS else splits.dataset
    return (
        f"{title}: {len(splits.training):,} training, {len(splits.validation):,} validation, "
        f"{len(splits.test):,} test images"
    )


def check_fits(net, images, what: str, model: str) -> None:
    """The model's input layer must match the images' pixels (else a clear ``UsageError``)."""
    n_in = net.sizes[0]
    if images.shape[1] != n_in:
        raise UsageError(
            f"{model} takes {n_in} inputs, but the {what} images have {images.shape[1]} "
            f"pixels; use a model trained on 28x28 images (sizes starting with 784)"
        )


@contextlib.contextmanager
def sigint_held(defer: bool = False) -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM for the moment a file is written (the write is atomic anyway).

    ``defer``: a signal that arrives meanwhile is acted on once the file is complete (raised
    as ``KeyboardInterrupt`` or ``Terminated``); otherwise it is ignored (the command is
    already on its way out, saving after an interrupt).
    """
    pending: list[int] = []
    held = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            held.append((sig, signal.signal(sig, (lambda n, f: pending.append(n)) if defer else signal.SIG_IGN)))
        except (ValueError, OSError):  # not the main thread: signals cannot be changed here
            pass
    try:
        yield
    finally:
        for sig, old in held:
            signal.signal(sig, old)
    if pending:
        raise Terminated() if signal.SIGTERM in pending else KeyboardInterrupt()


def _raise_terminated(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the command runs, SIGTERM raises ``Terminated`` (like Ctrl-C's KeyboardInterrupt)."""
    try:
        old = signal.signal(signal.SIGTERM, _raise_terminated)
    except (ValueError, OSError):  # not the main thread
        old = None
    try:
        yield
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
