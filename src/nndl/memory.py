"""How much memory a run will need, estimated from its sizes before anything is allocated.

A learner's typo (``--sizes 784,1000000,10``, ``--mini-batch-size 100000000``) must end in one
line that says why, not in minutes of swapping, an out-of-memory kill, or a ``MemoryError``
traceback from deep inside NumPy. So the command line asks :func:`training_estimate` what a
run needs, compares it with :func:`available` (the machine's free memory, or the container's
limit when that is lower) and refuses with both numbers (:func:`require`).

The estimate follows the engine as written (``nndl.windowed``, ``nndl.network``,
``nndl.serialization``) with factors measured on it (see ``tests/test_memory.py``): it is
meant to be right within a factor of about 1.5, which is all a refusal needs; runs that
need a few hundred MB are never near the line.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from nndl.errors import ResourceError

JSON_BYTES_PER_PARAM = 80  # saving (and loading) a model file: ~76-77 bytes per number at the peak, measured
EVAL_CHUNK = 10_000       # rows per forward pass in Network.evaluate and predict
WINDOW_ROWS = 100         # nndl.windowed.WINDOW_ROWS: rows of a training window


def _meminfo(key: str) -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_room() -> tuple[int | None, int | None]:
    """(limit, limit - usage) of this process's cgroup (v2, else v1), or (None, None)."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            text = Path(limit_file).read_text().strip()
            if text == "max":
                return None, None
            limit = int(text)
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit >= 2**60:  # v1's "no limit"
            return None, None
        return limit, max(limit - usage, 0)
    return None, None


def total() -> int | None:
    """This machine's memory (or the container's limit, if lower), in bytes; None if unknown."""
    values = [_meminfo("MemTotal"), _cgroup_room()[0]]
    if values[0] is None:
        try:
            values[0] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            pass
    known = [v for v in values if v]
    return min(known) if known else None


def available() -> int | None:
    """Memory a new allocation can use now without swapping, in bytes; None if unknown."""
    values = [_meminfo("MemAvailable"), _cgroup_room()[1]]
    if values[0] is None:
        try:
            values[0] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            pass
    known = [v for v in values if v is not None]
    return min(known) if known else None


def human(n: float) -> str:
    """2147483648 -> '2.0 GiB'; 1536 -> '1.5 KiB'; beyond a PiB in powers of ten."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            break
        n /= 1024
    if unit == "PiB" and n >= 1000:
        return f"{n:.1e} PiB"
    return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"


@dataclass(frozen=True)
class Estimate:
    """Bytes a run needs at its peak, by part (the parts add up to ``total``)."""

    parts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def describe(self, top: int = 3) -> str:
        """'about 14.2 GiB (weights and training buffers 9.5 GiB, evaluation 4.1 GiB, ...)'."""
        big = sorted(self.parts.items(), key=lambda kv: -kv[1])[:top]
        return f"about {human(self.total)} (" + ", ".join(f"{k} {human(v)}" for k, v in big) + ")"


def n_params(sizes: Sequence[int]) -> int:
    """Weights and biases of a network with these layer sizes (Python ints: never overflows)."""
    return sum((i + 1) * o for i, o in zip(sizes[:-1], sizes[1:]))


def training_estimate(sizes: Sequence[int], mini_batch_size: int, n_train: int, n_eval: int = 0,
                      *, itemsize: int = 8, data_bytes: int = 0, saves: bool = True) -> Estimate:
    """What ``nndl train`` needs for a network of ``sizes`` (input first) trained on ``n_train`` rows.

    ``itemsize`` is the network's float size (8 for float64, 4 for float32); ``n_eval`` the
    largest set evaluated at once (validation or test); ``data_bytes`` what the loaded data
    already takes; ``saves`` whether a model file is written (its JSON is the largest
    transient: ~80 bytes per weight). Parts, following the engine:

    * weights: the parameters, their copies while the initializer fills them (3 at the peak)
      and the window's first-layer buffers (``W0``, ``U``: two of the first layer);
    * training buffers: a window of ``B = min(max(1, 100 // m) * m, n)`` rows of every layer
      (``X``, ``Xc``, ``Z``, ``e``, activations, errors), one-hot targets of every row, and
      the (B, B) decay tables when a window holds several mini-batches;
    * evaluation: a chunk of up to 10,000 rows through the widest layer (result and sum: two
      of them), as ``Network.evaluate`` and ``predict`` do.
    """
    sizes = [int(s) for s in sizes]
    n0, n1, n_out = sizes[0], sizes[1], sizes[-1]
    m = max(1, min(int(mini_batch_size), max(int(n_train), 1)))
    k = max(1, WINDOW_ROWS // m)
    rows = min(k * m, max(int(n_train), 1))
    p = n_params(sizes)
    parts = {"weights": 3 * p * itemsize + 2 * n0 * n1 * itemsize}
    window = rows * (2 * n0 + 2 * n1 + n_out) * itemsize + min(m, rows) * 4 * sum(sizes[1:]) * itemsize
    if rows > m:
        window += rows * rows * (3 * itemsize + 5 * 8)
    targets = (int(n_train) + 2 * int(n_eval)) * n_out * itemsize
    parts["training buffers"] = window + targets
    chunk = min(EVAL_CHUNK, max(int(n_eval), int(n_train), 1))
    widest = max(i + 2 * o for i, o in zip(sizes[:-1], sizes[1:]))
    parts["evaluation"] = chunk * widest * 8
    if saves:
        parts["saving the model file"] = JSON_BYTES_PER_PARAM * p
    if data_bytes:
        parts["data"] = int(data_bytes)
    return Estimate(parts)


def file_estimate(nbytes: int, factor: float, what: str) -> Estimate:
    """Reading a file of ``nbytes`` that needs ``factor`` times its size in memory."""
    return Estimate({what: int(math.ceil(nbytes * factor))})


def require(estimate: Estimate, what: str, *, hint: str = "", free: int | None = None,
            error: type[Exception] = ResourceError) -> None:
    """Raise ``error`` (default ``ResourceError``) if ``estimate`` exceeds the available memory.

    The message says what needs it, the estimate, and this machine's memory: ``{what} needs
    about 14.2 GiB (...), more than the 9.8 GiB available now (23.4 GiB in all){hint}``.
    Does nothing when the available memory cannot be read (then NumPy's own ``MemoryError``
    remains the last line of defence). ``free`` replaces :func:`available` (for tests).
    """
    room = available() if free is None else free
    if room is None or estimate.total <= room:
        return
    all_of_it = total()
    machine = f"the {human(room)} available now" + (f" ({human(all_of_it)} in all)" if all_of_it else "")
    raise error(f"{what} needs {estimate.describe()}, more than {machine}{hint}")
