"""The bounds nndl puts on what a user can give it, in one place, each with its reason.

Memory is bounded by estimates (:mod:`nndl.memory`); these are the bounds that are plain
numbers. Each is far beyond anything the book or a learner's experiment needs, and low
enough that hitting it costs a moment rather than minutes or gigabytes.
"""

from __future__ import annotations

# Epochs of one training run, and in a saved history. The book trains 30 epochs (400 for its
# overfitting demo on 1,000 images); 100,000 epochs of the book's run would take about 20 hours
# of this machine. A history longer than this was not written by a run: refused on load.
MAX_EPOCHS = 100_000

# Digits of an integer in a model file. Layer sizes and the 128-bit state of the mini-batch
# order (39 digits) are the longest that mean anything; Python refuses more than 4,300 digits
# with a ValueError of its own, and parsing a long integer is quadratic in its digits.
MAX_INT_DIGITS = 40

# Reading a JSON model file takes about this many times its size in memory at the peak
# (Python floats and lists, then the arrays): measured 3.5x for the objects per byte of file,
# plus the file's bytes and its decoded text.
MODEL_FILE_MEMORY_FACTOR = 6.0


def shape_fits(shape, itemsize: int) -> bool:
    """Whether NumPy can make an array of ``shape``: even with a 0 in it, NumPy refuses a shape whose
    other sizes multiply past its index type (``ValueError: array is too big``)."""
    import math

    import numpy as np
    return math.prod(d for d in shape if d) * max(int(itemsize), 1) <= np.iinfo(np.intp).max
