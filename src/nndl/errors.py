"""The exceptions nndl raises.

Library code raises these; only the command line (``nndl.cli``) turns them into a
message on stderr and an exit code. Each subclasses ``ValueError`` where the cause is
a bad value (an argument, a file's content), so callers that catch ``ValueError`` -
as code written against the book's ``network2`` would - still work.
"""

from __future__ import annotations

import re
import reprlib


class NndlError(Exception):
    """Base class of every error nndl raises on purpose."""


class ConfigError(NndlError, ValueError):
    """A hyperparameter or argument has a value that is not allowed.

    ``field``: the name of the ``TrainConfig`` field (or argument) at fault, where one is, so
    that the command line can name its flag without reading the message; None otherwise.
    ``detail``: the message without the field's name in front ("must be an integer >= 1, got
    0"), for a caller that names the field its own way (``argument --epochs: ...``).
    """

    def __init__(self, message: str = "", field: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.field = field
        self.detail = message if detail is None else detail


class DataError(NndlError, ValueError):
    """A data file or data set is missing, malformed, or fails its checksum."""


class FetchError(DataError):
    """Every source for a data set failed; the message lists each and why."""


class ModelFileError(NndlError, ValueError):
    """A saved model file cannot be read: not JSON, wrong structure, bad numbers."""


class ResultsFileError(DataError):
    """An exploration's results.json cannot be read: not JSON, or not the shape nndl writes."""


class DivergenceError(NndlError, ArithmeticError):
    """Training produced non-finite weights or cost (usually: eta too large)."""


class ImageError(NndlError, ValueError):
    """An image file cannot be read or holds no digit-like ink."""


class ResourceError(NndlError, MemoryError):
    """A run would need more memory than this machine has (estimated before allocating it)."""


class OutputError(NndlError, OSError):
    """An output path that writing would destroy something through: a device, a FIFO, a folder,
    or a file the same command reads (``nndl.fileio.output_path``). An ``OSError`` too, so code
    that reports a file that could not be written reports this one the same way."""


QUOTE_LIMIT = 80  # characters of a user's value that a message echoes


def _short_repr(limit: int) -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxstring = r.maxother = limit
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = r.maxfrozenset = r.maxdeque = r.maxarray = 6
    r.maxlevel = 3
    r.maxlong = 40
    return r


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` shortened to about ``limit`` characters (``reprlib``: bounded work).

    Every message that echoes something a user gave (a flag's value, a name read from a
    file, a checked argument) quotes it through here, so a 200 MB string in a file becomes a
    short line, not a 200 MB one, a huge nested list is never formatted whole, and a value whose
    repr spans several lines (a NumPy array) is shown on one: at most about ``2 * limit``
    characters, plus the length of a long string.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"<an integer of about {int(value.bit_length() * 0.30103):,} digits>"
    if isinstance(value, (str, bytes)) and len(value) > limit:
        head = repr(value[:limit])[: 2 * limit]  # escapes (\x00) make a repr up to 4x longer
        return f"{head}... ({len(value):,} characters in all)"
    try:  # a string up to ``limit`` characters whole (reprlib would cut its middle)
        text = repr(value) if isinstance(value, (str, bytes)) else _short_repr(limit).repr(value)
    except (RecursionError, ValueError):  # deeply nested, or an int too long to print
        return f"<a {type(value).__name__} too large to show>"
    text = re.sub(r"\s*\n\s*", " ", text)  # one line: an array's repr spans several
    return text if len(text) <= 2 * limit else text[: 2 * limit] + "..."
