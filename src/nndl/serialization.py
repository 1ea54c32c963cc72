"""Model files: network2's JSON, written atomically and read with every field checked.

A file holds ``sizes``, ``weights``, ``biases`` and ``cost`` (the class name, e.g.
"CrossEntropyCost") exactly as network2 writes them, so files go both ways between this
package and the book's code; network2's own loader ignores the extra keys written here
(``format``, ``format_version``, ``dtype``, ``activation`` - of the hidden neurons -,
``output_activation`` - fixed by the cost -, ``config``, ``history``).

A model file is data, never code: names read from it are looked up in the registries
(``nndl.engine.costs.COSTS``, ``nndl.engine.activations.ACTIVATIONS``) and nowhere else.

A network other than network2's dense stack (a conv net) is written as format_version 2:
``in_shape`` (one example, e.g. [28, 28, 1]), ``layers`` (the layer specs of
``nndl.engine.layers``, output layer included, looked up in ``LAYERS``) and ``params`` (per
layer, its parameters' values in the order of ``layer.params``) instead of ``weights`` and
``biases``. Dense networks are still written as format_version 1 (network2 reads them), and
files of version 1 still load. A stack read from a file is checked by arithmetic
(``nndl.engine.describe.check_stack``: shapes and parameter count) before it is built.

Reading is bounded: the file's size against the memory the machine has (reading takes
about six times the file's size), integers of at most ``nndl.limits.MAX_INT_DIGITS``
digits, histories of at most ``MAX_EPOCHS`` epochs, and every value a message echoes is
quoted short (``nndl.errors.quote``). A file whose ``format_version`` is newer than this
nndl's is refused with a message that says so.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from . import memory
from .config import DTYPES
from .engine.activations import ACTIVATIONS
from .engine.costs import COSTS, get_cost
from .errors import ConfigError, ModelFileError, quote
from .fileio import atomic_write_text, write_new
from .limits import MAX_EPOCHS, MAX_INT_DIGITS, MAX_LAYERS, MODEL_FILE_MEMORY_FACTOR

FORMAT = "nndl-network"
FORMAT_VERSION = 2  # the newest this nndl reads; dense networks are still written as 1


def to_dict(net, *, config=None, history=None, dataset=None) -> dict:
    """The JSON-ready content of a model file for ``net`` (plus optional run metadata:
    the config, the history, and the data set it was trained on: a registered name, or an
    .npz file's absolute path and SHA-256, so that another folder never finds another file)."""
    if net.dense:
        d: dict[str, Any] = {
            "sizes": list(net.sizes),
            "weights": [w.tolist() for w in net.weights],
            "biases": [b.tolist() for b in net.biases],
            "cost": net.cost.__name__,
            "format": FORMAT,
            "format_version": 1,
            "dtype": np.dtype(net.dtype).name,
            "activation": net.activation.name,
            "output_activation": net.output.name,
        }
    else:
        d = {
            "sizes": list(net.sizes),
            "cost": net.cost.__name__,
            "format": FORMAT,
            "format_version": 2,
            "dtype": np.dtype(net.dtype).name,
            "activation": net.activation.name,
            "output_activation": net.output.name,
            "in_shape": list(net.in_shape),
            "layers": net.specs(),
            "params": [[p.value.tolist() for p in layer.params] for layer in net.layers],
        }
    if config is not None:
        d["config"] = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    if history is not None:
        d["history"] = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    if dataset is not None:  # a registered name, or an .npz file's absolute path and SHA-256
        from .data.provenance import record

        d.update(record(dataset))
    return d


def save(net, filename, *, config=None, history=None, dataset=None, exclusive=False):
    """Write ``net`` to ``filename`` as JSON, atomically (temporary file, then rename); return the path.

    ``exclusive``: never overwrite - write to ``filename``, or ``name-2.json``... if taken.
    """
    text = json.dumps(to_dict(net, config=config, history=history, dataset=dataset))
    if exclusive:
        return write_new(filename, text.encode("utf-8"))
    atomic_write_text(filename, text)
    return Path(filename)


def saved_dataset(d: Any) -> str | None:
    """The data set a parsed model file says it was trained on, if it says so as a string."""
    value = d.get("dataset") if isinstance(d, dict) else None
    return value if isinstance(value, str) else None


def _fail(filename, problem: str, kind: str = "model file", error: type = ModelFileError):
    raise error(f"{filename}: not a valid {kind}: {problem}")


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
        from .engine.network import Network as cls
    if not isinstance(d, dict):
        _fail(filename, f"the top level must be a JSON object, got {type(d).__name__}")
    if "layers" in d:
        return _from_layers(d, filename, cls)
    missing = [k for k in ("sizes", "weights", "biases", "cost") if k not in d]
    if missing:
        _fail(filename, f"missing key(s) {missing}")
    sizes = d["sizes"]
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes)
    ):
        _fail(filename, f"sizes must be a list of at least 2 positive integers, got {quote(sizes)}")
    _check_format(d, filename)
    name = d["cost"]
    if isinstance(name, str) and len(name) > 100:
        _fail(filename, f"cost: unknown cost {quote(name, 40)}; valid costs are: {', '.join(map(repr, COSTS))}")
    try:
        cost = get_cost(name)
    except ConfigError as e:
        _fail(filename, f"cost: {quote(str(e), 300)[1:-1] if len(str(e)) > 300 else e}")
    dtype = d.get("dtype", "float64")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        _fail(filename, f"dtype {quote(dtype, 40)} is not one of {sorted(DTYPES)}")
    activation = d.get("activation", "sigmoid")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        _fail(filename, f"activation {quote(activation, 40)} is not one of {sorted(ACTIVATIONS)}")
    output = d.get("output_activation", cost.output.name)
    if output != cost.output.name:
        _fail(
            filename,
            f"output_activation {quote(output, 40)} does not match the cost {cost.__name__}, whose "
            f"output layer is {cost.output.name}",
        )
    n = len(sizes) - 1
    for key in ("weights", "biases"):
        if not isinstance(d[key], list) or len(d[key]) != n:
            _fail(filename, f"{key} must be a list of {n} arrays for sizes {quote(sizes)}")
    weights = [
        _array(w, (o, i), f"weights[{l}]", filename, dtype)
        for l, (w, i, o) in enumerate(zip(d["weights"], sizes[:-1], sizes[1:]))
    ]
    biases = [
        _array(b, (o, 1), f"biases[{l}]", filename, dtype) for l, (b, o) in enumerate(zip(d["biases"], sizes[1:]))
    ]
    net = cls(sizes, cost, dtype=dtype, activation=activation, rng=0)
    net.weights, net.biases = weights, biases
    return net


def _from_layers(d: dict, filename, cls):
    """A network of format_version 2 (``in_shape``, ``layers``, ``params``), every field checked."""
    from .engine.activations import LAYER_ACTIVATIONS, OUTPUTS
    from .engine.describe import check_stack

    missing = [k for k in ("in_shape", "layers", "params", "cost") if k not in d]
    if missing:
        _fail(filename, f"missing key(s) {missing}")
    _check_format(d, filename)
    in_shape, layers = d["in_shape"], d["layers"]
    if (
        not isinstance(in_shape, list)
        or len(in_shape) not in (1, 3)
        or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 100_000 for v in in_shape)
    ):
        _fail(
            filename,
            f"in_shape must be [n] or [height, width, channels] of positive integers, got {quote(in_shape, 40)}",
        )
    names = {**LAYER_ACTIVATIONS, **OUTPUTS}
    for at, spec in enumerate(layers if isinstance(layers, list) else [], 1):
        act = spec.get("activation") if isinstance(spec, dict) else None
        if act is not None and (not isinstance(act, str) or act not in names):
            _fail(filename, f"layer {at}: activation {quote(act, 40)} is not one of {sorted(names)}")
    try:
        check_stack(tuple(in_shape), layers)
        cost = get_cost(d["cost"]) if not (isinstance(d["cost"], str) and len(d["cost"]) > 100) else None
    except ConfigError as e:
        _fail(filename, str(e))
    if cost is None:
        _fail(filename, f"cost: unknown cost {quote(d['cost'], 40)}")
    dtype = d.get("dtype", "float64")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        _fail(filename, f"dtype {quote(dtype, 40)} is not one of {sorted(DTYPES)}")
    if layers[-1].get("kind") != "dense" or layers[-1].get("activation", cost.output.name) != cost.output.name:
        _fail(filename, f"the last layer must be a dense layer with the cost's output activation ({cost.output.name})")
    if cls is None or not hasattr(cls, "stack"):
        from .engine.network import Network as cls
    try:
        net = cls.stack(tuple(in_shape), layers, cost, dtype=dtype, rng=0)
    except ConfigError as e:
        _fail(filename, str(e))
    params = d["params"]
    if not isinstance(params, list) or len(params) != len(net.layers):
        _fail(filename, f"params must be a list of {len(net.layers)} lists, one per layer")
    for at, (layer, values) in enumerate(zip(net.layers, params), 1):
        if not isinstance(values, list) or len(values) != len(layer.params):
            _fail(filename, f"params of layer {at} must be a list of {len(layer.params)} arrays")
        for p, v in zip(layer.params, values):
            p.value[...] = _array(v, p.value.shape, f"layer {at}'s {p.name}", filename, dtype)
    if d.get("sizes", net.sizes) != net.sizes:
        _fail(filename, f"sizes {quote(d.get('sizes'), 60)} do not match its layers ({net.sizes})")
    return net


def _check_format(d: dict, filename) -> None:
    """``format`` and ``format_version``, when present (network2's own files have neither)."""
    fmt = d.get("format", FORMAT)
    if fmt != FORMAT:
        _fail(filename, f"format {quote(fmt, 40)} is not {FORMAT!r}")
    version = d.get("format_version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        _fail(filename, f"format_version {quote(version, 40)} is not a positive integer")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{filename}: written by a newer nndl (format_version {version}; this nndl reads "
            f"format_version {FORMAT_VERSION} and older); upgrade nndl to read it"
        )


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _TooLong(len(text.lstrip("-")))
    return int(text)


class _TooLong(Exception):
    def __init__(self, digits: int):
        self.digits = digits


def read_json(filename, kind: str = "model file", error: type = ModelFileError) -> Any:
    """Parse a JSON file nndl wrote (a model file, or ``kind``), turning every failure into ``error``.

    Bounded: the file's size against available memory, integers of at most ``MAX_INT_DIGITS``
    digits, nesting as deep as Python's recursion allows (deeper is one line, not a traceback)."""
    try:
        if not stat.S_ISREG(os.stat(filename).st_mode) and not os.path.isdir(filename):
            raise error(f"{filename}: not a regular file (a FIFO or a device?), so not a {kind}")  # never blocks
        with open(filename, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            memory.require(
                memory.file_estimate(size, MODEL_FILE_MEMORY_FACTOR, "reading it"),
                f"{filename}: this {kind} of {memory.human(size)}",
                error=error,
            )
            raw = f.read()
    except FileNotFoundError:
        raise error(f"{filename}: no such {kind}") from None
    except IsADirectoryError:
        raise error(f"{filename}: is a directory, not a {kind}") from None
    except OSError as e:
        raise error(f"{filename}: cannot read {kind}: {e.strerror}") from None
    try:
        return json.loads(raw.decode("utf-8"), parse_int=_parse_int)
    except _TooLong as e:
        _fail(
            filename,
            f"it holds an integer of {e.digits:,} digits (a {kind}'s integers have at most {MAX_INT_DIGITS})",
            kind,
            error,
        )
    except UnicodeDecodeError:
        _fail(filename, f"it is not UTF-8 text (a JSON {kind} was expected)", kind, error)
    except RecursionError:
        _fail(filename, "JSON nested too deeply", kind, error)
    except json.JSONDecodeError as e:
        _fail(filename, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}", kind, error)
    except (ValueError, MemoryError) as e:  # what json raises beyond JSONDecodeError
        _fail(filename, f"cannot be parsed as JSON ({quote(str(e), 100)[1:-1]})", kind, error)


def load(filename, cls=None):
    """Load a network saved by ``save`` or by the book's network2.py. Raises ``ModelFileError``."""
    return from_dict(read_json(filename), os.fspath(filename), cls)


def load_with_metadata(filename, cls=None):
    """(net, config dict or None, history dict or None) from a model file; the history's series are
    checked (``check_history``: a history of a million epochs is refused at once)."""
    d = read_json(filename)
    name = os.fspath(filename)
    net = from_dict(d, name, cls)
    config = d.get("config") if isinstance(d.get("config"), dict) else None
    history = check_history(d["history"], name) if isinstance(d.get("history"), dict) else None
    return net, config, history


SERIES = ("evaluation_cost", "evaluation_accuracy", "training_cost", "training_accuracy", "epoch_seconds", "eta")
PER_EPOCH = ("saturation",)  # per-epoch lists of other things: only their length is bounded here


def check_history(history: dict, filename, kind: str = "model file", error: type = ModelFileError) -> dict:
    """A saved history's series: lists of at most ``MAX_EPOCHS`` finite numbers; counts >= 0; saturation
    a list of per-epoch lists of finite numbers (or null). ``kind``/``error``: the file it came from."""

    def fail(problem):
        _fail(filename, problem, kind, error)

    if not isinstance(history, dict):
        fail(f"history must be an object, got {quote(history, 40)}")
    for key in SERIES:
        if key not in history:
            continue
        series = history[key]
        if not isinstance(series, list):
            fail(f"history {key} must be a list of numbers, got {quote(series, 40)}")
        if len(series) > MAX_EPOCHS:
            fail(f"history {key} has {len(series):,} epochs, more than the {MAX_EPOCHS:,} a run of nndl can have")
        bad = [v for v in series if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)]
        if bad:
            fail(f"history {key} must hold finite numbers only, found {quote(bad[0], 40)}")
    for key in PER_EPOCH:
        value = history.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            fail(f"history {key} must be a list (one entry per epoch), got {quote(value, 40)}")
        if len(value) > MAX_EPOCHS:
            fail(f"history {key} has {len(value):,} epochs, more than the {MAX_EPOCHS:,} a run of nndl can have")
        for entry in value:
            if entry is not None and (
                not isinstance(entry, list)
                or len(entry) > MAX_LAYERS
                or any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in entry)
            ):
                fail(
                    f"history {key} must hold lists of at most {MAX_LAYERS} finite numbers (one per hidden "
                    f"layer), found {quote(entry, 40)}"
                )
    for key in ("n_training", "n_evaluation"):
        v = history.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            fail(f"history {key} must be an integer >= 0, got {quote(v, 40)}")
    return history
