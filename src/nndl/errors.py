"""The exceptions nndl raises.

Library code raises these; only the command line (``nndl.cli``) turns them into a
message on stderr and an exit code. Each subclasses ``ValueError`` where the cause is
a bad value (an argument, a file's content), so callers that catch ``ValueError`` -
as code written against the book's ``network2`` would - still work.
"""

from __future__ import annotations


class NndlError(Exception):
    """Base class of every error nndl raises on purpose."""


class ConfigError(NndlError, ValueError):
    """A hyperparameter or argument has a value that is not allowed."""


class DataError(NndlError, ValueError):
    """A data file or data set is missing, malformed, or fails its checksum."""


class FetchError(DataError):
    """Every source for a data set failed; the message lists each and why."""


class ModelFileError(NndlError, ValueError):
    """A saved model file cannot be read: not JSON, wrong structure, bad numbers."""


class DivergenceError(NndlError, ArithmeticError):
    """Training produced non-finite weights or cost (usually: eta too large)."""


class ImageError(NndlError, ValueError):
    """An image file cannot be read or holds no digit-like ink."""
