"""What the subcommands share: the usage error, progress bars, number formatting, datasets.

Only the command line prints. Results (epoch lines, accuracies, tables) go to stdout;
progress bars and status messages ("saved ...") go to stderr, so ``nndl ... > out.txt``
keeps just the results. Bars are drawn only when stderr is a terminal and ``--quiet``
was not given.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Iterator

from tqdm import tqdm

from nndl.data import DATASETS, Splits, get_spec, load_dataset


class UsageError(Exception):
    """A flag's value is not allowed: the CLI prints the usage line and exits with 2."""


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
            self._bar = tqdm(total=total, desc=filename, unit="B", unit_scale=True, unit_divisor=1024,
                             file=self.file or sys.stderr, leave=True, dynamic_ncols=True)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def class_names(dataset: str) -> tuple[str, ...]:
    """The class names of a registered data set; digits 0-9 for an .npz file."""
    return DATASETS[dataset].labels if dataset in DATASETS else tuple(str(d) for d in range(10))


DATASET_HELP = ("'mnist', 'fashion' (Fashion-MNIST), or the path of an .npz file holding train_images, "
                "train_labels, test_images, test_labels (uint8 (n, 28, 28) images 0-255, or floats in "
                "[0, 1]) and optionally validation_images, validation_labels - without them the last "
                "sixth of the training images is the validation split, as MNIST's 10,000 of 60,000")


def load_data(dataset: str, data_dir: str | None, *, bars: bool) -> Splits:
    """Load ``--dataset`` (a registered name, fetched on first use, or an .npz path)."""
    is_file = dataset.endswith(".npz") or os.sep in dataset or Path(dataset).is_file()
    if dataset not in DATASETS and not is_file:
        valid = ", ".join(repr(k) for k in DATASETS)
        raise UsageError(f"argument --dataset: unknown data set {dataset!r}; give one of {valid} "
                         f"or the path of an .npz file")
    if is_file and dataset not in DATASETS:
        return load_dataset(dataset)
    progress = FileBars(bars)
    try:
        splits = load_dataset(get_spec(dataset).name, data_dir=data_dir, progress=progress)
    finally:
        progress.close()
    for note in splits.notes:  # damaged cache files that were deleted and rebuilt
        say(f"nndl: note: {note}")
    return splits


def describe_data(splits: Splits) -> str:
    """'MNIST: 50,000 training, 10,000 validation, 10,000 test images'."""
    title = DATASETS[splits.dataset].title if splits.dataset in DATASETS else splits.dataset
    return (f"{title}: {len(splits.training):,} training, {len(splits.validation):,} validation, "
            f"{len(splits.test):,} test images")


def check_fits(net, images, what: str, model: str) -> None:
    """The model's input layer must match the images' pixels (else a clear ``UsageError``)."""
    n_in = net.sizes[0]
    if images.shape[1] != n_in:
        raise UsageError(f"{model} takes {n_in} inputs, but the {what} images have {images.shape[1]} "
                         f"pixels; use a model trained on 28x28 images (sizes starting with 784)")


@contextlib.contextmanager
def sigint_held() -> Iterator[None]:
    """Ignore Ctrl-C for the moment a file is written (the write is atomic anyway)."""
    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals cannot be changed here
        old = None
    try:
        yield
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)
