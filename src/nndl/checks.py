"""Small checks every public entry point uses: the bottom of the house, importing nothing of nndl's
but its errors, so any module can use them without climbing back up.

Each returns the value in its plain Python type, or raises ``ConfigError`` naming the
parameter, the value given (shortened when long, by ``nndl.errors.quote``) and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .errors import ConfigError, quote

DTYPES = {"float64": np.float64, "float32": np.float32}


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int in [minimum, maximum], else ``ConfigError`` naming ``name`` and the value."""
    allowed = f"an integer >= {minimum}" if maximum is None else f"an integer from {minimum} to {maximum}"
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        detail = f"must be {allowed}, got {quote(value)}"
        raise ConfigError(f"{name} {detail}", field=name, detail=detail)
    return int(value)


def check_float(
    name: str, value: Any, minimum: float, *, strict: bool, maximum: float | None = None, strict_max: bool = False
) -> float:
    """``value`` as a finite float > (strict) or >= ``minimum`` (and below or at ``maximum``)."""
    ok_type = isinstance(value, numbers.Real) and not isinstance(value, bool)
    v = float(value) if ok_type else math.nan
    low_ok = v > minimum if strict else v >= minimum
    high_ok = maximum is None or (v < maximum if strict_max else v <= maximum)
    if not ok_type or not math.isfinite(v) or not low_ok or not high_ok:
        allowed = f"{'>' if strict else '>='} {minimum:g}"
        if maximum is not None:
            allowed += f" and {'<' if strict_max else '<='} {maximum:g}"
        detail = f"must be a finite number {allowed}, got {quote(value)}"
        raise ConfigError(f"{name} {detail}", field=name, detail=detail)
    return v


def check_sizes(sizes: Any) -> tuple[int, ...]:
    """Layer sizes as a tuple of >= 2 positive ints, e.g. (784, 100, 10)."""
    try:
        seq = list(sizes) if not isinstance(sizes, (str, bytes)) else None
    except TypeError:
        seq = None
    if (
        seq is None
        or len(seq) < 2
        or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in seq)
    ):
        detail = f"must be a list of at least 2 positive integers (e.g. [784, 100, 10]), got {quote(sizes)}"
        raise ConfigError(f"sizes {detail}", field="sizes", detail=detail)
    return tuple(int(s) for s in seq)


def check_dtype(dtype) -> type:
    """Resolve 'float64' / 'float32' (or the NumPy type) to the NumPy scalar type."""
    if isinstance(dtype, np.dtype):  # np.dtype('float32') == np.float32: resolve it first
        dtype = dtype.type
    if dtype in (np.float64, np.float32):
        return dtype
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    raise ConfigError(f"unknown dtype {quote(dtype)}; valid dtypes are: 'float64', 'float32'", field="dtype")
