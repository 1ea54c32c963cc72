"""Model files: network2's JSON, written atomically and read with every field checked.

A file holds ``sizes``, ``weights``, ``biases`` and ``cost`` (the class name, e.g.
"CrossEntropyCost") exactly as network2 writes them, so files go both ways between this
package and the book's code; network2's own loader ignores the extra keys written here
(``format``, ``format_version``, ``dtype``, ``activation`` - of the hidden neurons -,
``output_activation`` - fixed by the cost -, ``config``, ``history``).

A model file is data, never code: names read from it are looked up in the registries
(``nndl.costs.COSTS``, ``nndl.activations.ACTIVATIONS``) and nowhere else.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from .activations import ACTIVATIONS
from .config import DTYPES
from .costs import get_cost
from .errors import ConfigError, ModelFileError
from .fileio import atomic_write_text

FORMAT = "nndl-network"
FORMAT_VERSION = 1


def to_dict(net, *, config=None, history=None, dataset=None) -> dict:
    """The JSON-ready content of a model file for ``net`` (plus optional run metadata:
    the config, the history, and the name or path of the data set it was trained on)."""
    d: dict[str, Any] = {
        "sizes": list(net.sizes),
        "weights": [w.tolist() for w in net.weights],
        "biases": [b.tolist() for b in net.biases],
        "cost": net.cost.__name__,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dtype": np.dtype(net.dtype).name,
        "activation": net.activation.name,
        "output_activation": net.output.name,
    }
    if config is not None:
        d["config"] = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    if history is not None:
        d["history"] = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    if dataset is not None:
        d["dataset"] = str(dataset)
    return d


def save(net, filename, *, config=None, history=None, dataset=None) -> None:
    """Write ``net`` to ``filename`` as JSON, atomically (temporary file, then rename)."""
    atomic_write_text(filename, json.dumps(to_dict(net, config=config, history=history, dataset=dataset)))


def saved_dataset(d: Any) -> str | None:
    """The data set a parsed model file says it was trained on, if it says so as a string."""
    value = d.get("dataset") if isinstance(d, dict) else None
    return value if isinstance(value, str) else None


def _fail(filename, problem: str):
    raise ModelFileError(f"{filename}: not a valid model file: {problem}")


def _array(value, shape, what, filename, dtype="float64"):
    try:
        arr = np.array(value)
    except (ValueError, TypeError, RecursionError):
        _fail(filename, f"{what} is not a rectangular array of numbers")
    if arr.dtype.kind not in "iuf":
        found = {"U": "text", "S": "text", "b": "true/false", "O": "nested or mixed"}.get(arr.dtype.kind, "non-numeric")
        _fail(filename, f"{what} must hold numbers only, found {found} values")
    if what.startswith("biases") and arr.shape == (shape[0],):
        arr = arr.reshape(shape)
    if arr.shape != shape:
        _fail(filename, f"{what} has shape {arr.shape}, but sizes says {shape}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        _fail(filename, f"{what} contains nan or infinite values")
    limit = np.finfo(DTYPES[dtype]).max
    if arr.size and np.abs(arr).max() > limit:
        _fail(filename, f"{what} holds values beyond {dtype}'s range (largest magnitude {limit:g})")
    return arr


def from_dict(d: Any, filename="<model>", cls=None):
    """Build a network of class ``cls`` (default ``nndl.Network``) from parsed JSON ``d``."""
    if cls is None:
        from .network import Network as cls
    if not isinstance(d, dict):
        _fail(filename, f"the top level must be a JSON object, got {type(d).__name__}")
    missing = [k for k in ("sizes", "weights", "biases", "cost") if k not in d]
    if missing:
        _fail(filename, f"missing key(s) {missing}")
    sizes = d["sizes"]
    if (not isinstance(sizes, list) or len(sizes) < 2
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes)):
        _fail(filename, f"sizes must be a list of at least 2 positive integers, got {sizes!r:.80}")
    try:
        cost = get_cost(d["cost"])
    except ConfigError as e:
        _fail(filename, f"cost: {e}")
    dtype = d.get("dtype", "float64")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        _fail(filename, f"dtype {dtype!r:.40} is not one of {sorted(DTYPES)}")
    activation = d.get("activation", "sigmoid")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        _fail(filename, f"activation {activation!r:.40} is not one of {sorted(ACTIVATIONS)}")
    output = d.get("output_activation", cost.output.name)
    if output != cost.output.name:
        _fail(filename, f"output_activation {output!r:.40} does not match the cost {cost.__name__}, whose "
                        f"output layer is {cost.output.name}")
    n = len(sizes) - 1
    for key in ("weights", "biases"):
        if not isinstance(d[key], list) or len(d[key]) != n:
            _fail(filename, f"{key} must be a list of {n} arrays for sizes {sizes}")
    weights = [_array(w, (o, i), f"weights[{l}]", filename, dtype)
               for l, (w, i, o) in enumerate(zip(d["weights"], sizes[:-1], sizes[1:]))]
    biases = [_array(b, (o, 1), f"biases[{l}]", filename, dtype) for l, (b, o) in enumerate(zip(d["biases"], sizes[1:]))]
    net = cls(sizes, cost, dtype=dtype, activation=activation, rng=0)
    net.weights, net.biases = weights, biases
    return net


def read_json(filename) -> Any:
    """Parse a model file's JSON, turning every failure into ``ModelFileError``."""
    try:
        with open(filename, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ModelFileError(f"{filename}: no such model file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{filename}: is a directory, not a model file") from None
    except OSError as e:
        raise ModelFileError(f"{filename}: cannot read model file: {e.strerror}") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        _fail(filename, "it is not UTF-8 text (a JSON model file was expected)")
    except RecursionError:
        _fail(filename, "JSON nested too deeply")
    except json.JSONDecodeError as e:
        _fail(filename, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}")


def load(filename, cls=None):
    """Load a network saved by ``save`` or by the book's network2.py. Raises ``ModelFileError``."""
    return from_dict(read_json(filename), os.fspath(filename), cls)


def load_with_metadata(filename, cls=None):
    """(net, config dict or None, history dict or None) from a model file."""
    d = read_json(filename)
    net = from_dict(d, os.fspath(filename), cls)
    config = d.get("config") if isinstance(d.get("config"), dict) else None
    history = d.get("history") if isinstance(d.get("history"), dict) else None
    return net, config, history
