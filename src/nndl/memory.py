"""How much memory a run will need, estimated from its sizes before anything is allocated.

A learner's typo (``--sizes 784,1000000,10``, ``--mini-batch-size 100000000``) must end in one
line that says why, not in minutes of swapping, an out-of-memory kill, or a ``MemoryError``
traceback from deep inside NumPy. So the command line asks :func:`training_estimate` what a
run needs, compares it with :func:`available` (the machine's free memory, or the container's
limit when that is lower) and refuses with both numbers (:func:`require`).

The estimate follows the engine as written (``nndl.engine.windowed``, ``nndl.engine.network``,
``nndl.serialization``) with factors measured on it (see ``tests/test_memory.py``): it is
meant to be right within a factor of about 1.5, which is all a refusal needs; runs that
need a few hundred MB are never near the line.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nndl.engine.network import EVAL_ROWS
from nndl.engine.windowed import WINDOW_ROWS
from nndl.errors import ResourceError

JSON_BYTES_PER_PARAM = 85  # writing a model file: 82-85 bytes per weight at the peak (resident memory), measured
EVAL_CHUNK = EVAL_ROWS  # rows per forward pass in Network.evaluate and predict (the engine's own)


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
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
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
    """Bytes a run needs at its peak: ``parts`` held throughout, plus the largest of the
    ``transients`` (moments that do not overlap: building the weights, an evaluation pass,
    writing the model file)."""

    parts: dict[str, int] = field(default_factory=dict)
    transients: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.parts.values()) + max(self.transients.values(), default=0)

    def describe(self) -> str:
        """'about 14.2 GiB (weights and training buffers 9.5 GiB; at the peak, evaluation 4.1 GiB)'."""
        held = ", ".join(f"{k} {human(v)}" for k, v in sorted(self.parts.items(), key=lambda kv: -kv[1]) if v)
        text = f"about {human(self.total)} ({held}"
        if self.transients:
            k, v = max(self.transients.items(), key=lambda kv: kv[1])
            text += f"{'; ' if held else ''}at the peak, {k} {human(v)}"
        return text + ")"


def n_params(sizes: Sequence[int]) -> int:
    """Weights and biases of a network with these layer sizes (Python ints: never overflows)."""
    return sum((i + 1) * o for i, o in zip(sizes[:-1], sizes[1:]))


def training_estimate(
    sizes: Sequence[int],
    mini_batch_size: int,
    n_train: int,
    n_eval: int = 0,
    *,
    itemsize: int = 8,
    data_bytes: int = 0,
    saves: bool = True,
) -> Estimate:
    """What ``nndl train`` needs for a network of ``sizes`` (input first) trained on ``n_train`` rows.

    ``itemsize`` is the network's float size (8 for float64, 4 for float32); ``n_eval`` the
    largest set evaluated at once (validation or test); ``data_bytes`` what the data takes
    if it is not loaded yet; ``saves`` whether a model file is written. Following the engine:

    * held throughout - the weights and the one-hot targets of every row;
    * at the peak, the largest of three moments: building the weights (two more copies);
      training - the window's first-layer buffers (``W0``, ``U``: two of the first layer), a
      window of ``B = min(max(1, 100 // m) * m, n)`` rows of every layer (``X``, ``Xc``, ``Z``,
      ``e``, and per step activations, errors, scratch), the (B, B) decay tables when a
      window holds several mini-batches, and one evaluation chunk of up to 10,000 rows
      through the widest layer (its product and sum: two of them, in float64); and writing
      the model file as JSON (~85 bytes per weight, measured).

    Checked against measured peaks in ``tests/test_memory.py`` (within a factor of 1.5).
    """
    sizes = [int(s) for s in sizes]
    n0, n1, n_out = sizes[0], sizes[1], sizes[-1]
    n = max(int(n_train), 1)
    m = max(1, min(int(mini_batch_size), n))
    rows = min(max(1, WINDOW_ROWS // m) * m, n)
    p = n_params(sizes)
    window = rows * (2 * n0 + 2 * n1 + n_out) * itemsize + min(m, rows) * 4 * sum(sizes[1:]) * itemsize
    if rows > m:
        window += rows * rows * (3 * itemsize + 5 * 8)
    parts = {"weights": p * itemsize + (n + 2 * int(n_eval)) * n_out * itemsize}  # and one-hot targets
    if data_bytes:
        parts["data"] = int(data_bytes)
    chunk = min(EVAL_CHUNK, max(int(n_eval), n))
    widest = max(i + 2 * o for i, o in zip(sizes[:-1], sizes[1:]))
    transients = {
        "building the weights": 2 * p * itemsize,
        "training (window buffers and an evaluation pass)": 2 * n0 * n1 * itemsize + window + chunk * widest * 8,
    }
    if saves:
        transients["writing the model file"] = JSON_BYTES_PER_PARAM * p
    return Estimate(parts, transients)


def file_estimate(nbytes: int, factor: float, what: str) -> Estimate:
    """Reading a file of ``nbytes`` that needs ``factor`` times its size in memory."""
    return Estimate({}, {what: int(math.ceil(nbytes * factor))})


def require(
    estimate: Estimate, what: str, *, hint: str = "", free: int | None = None, error: type[Exception] = ResourceError
) -> None:
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
