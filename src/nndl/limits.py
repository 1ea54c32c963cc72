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


# Layers of a network in a file we read (sizes, a saturation entry per hidden layer). The book's
# networks have 3; a page or a history with thousands of layers was not written by nndl.
MAX_LAYERS = 100

# Classes a network's output layer may have where a data set is read: MNIST, Fashion-MNIST and
# .npz sets have labels 0-9, and the page shows ten outputs. A model file with 10,000 outputs would
# otherwise make a 10,000 x 10,000 confusion matrix.
MAX_CLASSES = 10

# The report page: weights and biases of all its networks together (4 bytes each as float32, base64:
# about 43 MB of page at the bound; the book's [784, 100, 10] has 79,510), the runs of one
# results.json it shows (Level 3 has 7, beyond Level 3 has 26), and the points of one chart's
# curve (longer histories are thinned evenly, the last epoch kept: a chart stays a few kilobytes).
MAX_PAGE_WEIGHTS = 8_000_000
# Multiply-adds the page's JavaScript runs to read one drawn digit, each time the drawing changes (the book's
# two-conv network takes 1.6 million; [784, 100, 10] 79,400).
MAX_PAGE_MULTIPLY_ADDS = 20_000_000
MAX_REPORT_RUNS = 200
MAX_CHART_POINTS = 500


def shape_fits(shape, itemsize: int) -> bool:
    """Whether NumPy can make an array of ``shape``: even with a 0 in it, NumPy refuses a shape whose
    other sizes multiply past its index type (``ValueError: array is too big``)."""
    import math

    import numpy as np

    return math.prod(d for d in shape if d) * max(int(itemsize), 1) <= np.iinfo(np.intp).max


# Trials in one sweep (combinations x seeds, or --random draws x seeds), counted before any is
# made. A trial is a whole training run: a short one on the committed 2,500-image sample takes about
# 0.2 s, one epoch of MNIST about 1-2 s, so 10,000 trials are from half an hour to days of this
# 2-core machine - the book's grids have tens. Making 10,000 trials' configs takes about 0.5 s
# and 10 MB (measured); a grid of 10^9 would need hundreds of GB before the first trial ran.
MAX_SWEEP_TRIALS = 10_000

# What `nndl sweep show|plot|resume` read from a sweep.sqlite: a meta value (the specification,
# the command) is at most 1 MB of JSON text (a 10,000-trial specification is far smaller); the
# trials' text (configs, swept values, histories, errors) at most 64 MiB in all - 10,000 trials of
# 30 epochs take about 15 MB - so reading a file costs at most a few hundred MB and seconds.
MAX_SWEEP_META_CHARS = 1_000_000
MAX_SWEEP_TEXT = 64 * 2**20
