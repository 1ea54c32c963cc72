"""A model file read for the report page, and the networks a page can hold.

``read_model`` reads a model file whole, once: the network as ``nndl.serialization.from_dict``
checks it, its saved configuration and history as the page reads them (bounded, typed:
``ModelFileError``). ``check_for_page`` refuses a network the page cannot show exactly in
bounded memory: more outputs than a data set has classes, weights beyond float32's range (the
page computes in float32), more weights on one page than ``MAX_PAGE_WEIGHTS``, more
multiply-adds to read one drawn digit than ``MAX_PAGE_MULTIPLY_ADDS`` - dense and conv nets alike.
"""

from __future__ import annotations

import math

import numpy as np

from nndl.data.provenance import recorded_of
from nndl.errors import ModelFileError
from nndl.limits import MAX_CLASSES, MAX_PAGE_MULTIPLY_ADDS, MAX_PAGE_WEIGHTS
from nndl.serialization import check_history, from_dict, read_json

from .resultsfile import check_config

F32_MAX = float(np.finfo(np.float32).max)
WORK_VALUES = 2**22  # activations held at once while the page's numbers are computed (32 MB of float64)


def check_for_page(net, source, test, weights_so_far: int = 0) -> int:
    """Refuse (``ModelFileError``) a network the page cannot show exactly, in bounded memory: more
    outputs than the data set has classes (at most ``MAX_CLASSES``; fewer than its labels need),
    weights beyond float32's range (the page computes in float32: they would be inf), or more
    weights than ``MAX_PAGE_WEIGHTS`` on one page. Returns the page's weights with this network."""
    k = net.sizes[-1]
    if k > MAX_CLASSES:
        raise ModelFileError(
            f"{source}: its output layer has {k:,} neurons, but a data set here has at most "
            f"{MAX_CLASSES} classes (MNIST's digits 0-9): not a network for these images"
        )
    if test is not None and len(test.labels) and int(test.labels.max()) >= k:
        raise ModelFileError(
            f"{source}: its output layer has {k} neurons, but the test labels go up to {int(test.labels.max())}"
        )
    total = weights_so_far + net.n_params()
    if total > MAX_PAGE_WEIGHTS:
        raise ModelFileError(
            f"{source}: the page's networks would hold {total:,} weights and biases, more than the "
            f"{MAX_PAGE_WEIGHTS:,} a report page holds (the book's [784, 100, 10] has 79,510)"
        )
    macs = multiply_adds(net)
    if macs > MAX_PAGE_MULTIPLY_ADDS:
        raise ModelFileError(
            f"{source}: reading one digit takes {macs:,} multiply-adds, more than the "
            f"{MAX_PAGE_MULTIPLY_ADDS:,} a report page runs each time the drawing changes "
            f"(the book's two-conv network takes 1,633,000)"
        )
    for i, layer in enumerate(net.layers):
        big = max((float(np.abs(p.value).max(initial=0)) for p in layer.params), default=0.0)
        if big > F32_MAX:
            raise ModelFileError(
                f"{source}: layer {i + 1} holds a weight of magnitude {big:.3g}, beyond float32's "
                f"range ({F32_MAX:.3g}), in which the page computes; it would show as infinite"
            )
    return total


def multiply_adds(net) -> int:
    """Multiply-adds of one example's forward pass (conv: one per weight per output position)."""
    total = 0
    for layer in net.layers:
        if layer.kind == "conv":
            total += math.prod(layer.out_shape) * layer.kernel**2 * layer.in_shape[2]
        elif layer.kind == "dense":
            total += math.prod(layer.in_shape) * layer.out_shape[0]
    return total


def read_model(path) -> tuple:
    """(network, the parsed file, its config or None, its history or {}) of a model file, the whole
    file checked once, here: the network as ``from_dict`` checks it, the config and the history as
    the page reads them (``check_config``, ``check_history``: bounded). ``ModelFileError`` otherwise."""
    d = read_json(path)
    net = from_dict(d, str(path))
    config, history = d.get("config"), d.get("history")
    if config is not None:
        config = check_config(config, path, kind="model file", error=ModelFileError)
    history = check_history(history, path) if history is not None else {}
    recorded_of(d, path, "model file", ModelFileError)  # dataset and dataset_sha256
    return net, d, config, history
