"""Layer descriptions a learner can type: ``conv:20x5x5,pool:2,conv:40x5x5,pool:2,dense:100:relu``.

One line, comma-separated, the hidden layers from the input up (the output layer is implied:
one neuron per class, with the cost's output activation):

* ``conv:MAPSxK`` or ``conv:MAPSxKxK`` - MAPS feature maps of K x K filters (valid, stride 1);
* ``pool:P`` - max-pooling of P x P windows;
* ``dense:N`` - N fully connected neurons;

each conv or dense item may end in ``:ACTIVATION`` (sigmoid, tanh, relu, linear); without it the
run's ``activation`` is used. An image network takes 28 x 28 x 1 images from 784 inputs
(square images of one channel). ``parse_layers`` turns the text into layer specs
(``nndl.engine.layers``), ``describe`` turns specs back into the text, and ``check_stack``
follows the shapes up the stack and counts the parameters by arithmetic alone, before anything
is allocated: a description (typed, or read from a model file) that does not fit its input, or
that would need more than ``MAX_PARAMS`` parameters, is refused with one line.
"""

from __future__ import annotations

import math
import re

from ..errors import ConfigError, quote
from .activations import LAYER_ACTIVATIONS

MAX_TEXT = 1000  # characters of a description
MAX_LAYERS = 32  # hidden layers of a description
MAX_PARAMS = 50_000_000  # parameters of a whole stack: 400 MB in float64
MAX_VALUES = 5_000_000  # values one example occupies in any one layer's output
FORM = "conv:MAPSxK[xK][:ACTIVATION], pool:P or dense:N[:ACTIVATION], comma-separated"
EXAMPLE = "conv:20x5x5,pool:2,conv:40x5x5,pool:2,dense:100:relu"
_ITEM = re.compile(
    r"(conv):(\d{1,6})x(\d{1,6})(?:x(\d{1,6}))?(?::([a-z]{1,12}))?|(pool):(\d{1,6})|"
    r"(dense):(\d{1,9})(?::([a-z]{1,12}))?"
)


def _error(what: str) -> ConfigError:
    """A ``ConfigError`` of the field 'layers' (the command line names its flag)."""
    return ConfigError(f"layers: {what}", field="layers", detail=what)


def _bad(what: str):
    raise _error(f"{what}; a description is {FORM} (e.g. {EXAMPLE!r})")


def parse_layers(text) -> list[dict]:
    """The hidden layers ``text`` describes, as specs: [{"kind": "conv", "maps": 20, "kernel": 5}, ...]
    (an activation only where the text gives one). Raises ``ConfigError`` (field 'layers')."""
    if not isinstance(text, str):
        _bad(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        _bad(f"{len(text):,} characters, more than {MAX_TEXT:,}")
    items = [t.strip() for t in text.split(",")] if text.strip() else []
    if len(items) > MAX_LAYERS:
        _bad(f"{len(items)} layers, more than {MAX_LAYERS}")
    specs = []
    for i, item in enumerate(items, 1):
        match = _ITEM.fullmatch(item)
        if match is None:
            _bad(f"item {i}, {quote(item, 40)}, is not one of its forms")
        g = match.groups()
        if g[0]:
            if g[3] is not None and g[3] != g[2]:
                _bad(f"item {i}, {quote(item, 40)}: filters must be square (K x K)")
            spec = {"kind": "conv", "maps": int(g[1]), "kernel": int(g[2])}
            act = g[4]
        elif g[5]:
            spec, act = {"kind": "pool", "size": int(g[6])}, None
        else:
            spec, act = {"kind": "dense", "n": int(g[8])}, g[9]
        if act is not None:
            if act not in LAYER_ACTIVATIONS:
                _bad(
                    f"item {i}: unknown activation {quote(act, 20)}; valid activations are "
                    f"{', '.join(map(repr, LAYER_ACTIVATIONS))}"
                )
            spec["activation"] = act
        specs.append(spec)
    return specs


def describe(specs) -> str:
    """The one-line description of hidden layer ``specs`` (the inverse of ``parse_layers``)."""
    out = []
    for s in specs:
        act = f":{s['activation']}" if s.get("activation") else ""
        if s["kind"] == "conv":
            out.append(f"conv:{s['maps']}x{s['kernel']}x{s['kernel']}{act}")
        elif s["kind"] == "pool":
            out.append(f"pool:{s['size']}")
        else:
            out.append(f"dense:{s['n']}{act}")
    return ",".join(out)


def input_shape(n_in: int, specs) -> tuple:
    """What the first layer takes from ``n_in`` inputs: (side, side, 1) images when the stack
    starts with a conv or pool layer, else (n_in,)."""
    if specs and specs[0].get("kind") in ("conv", "pool"):
        side = math.isqrt(n_in)
        if side * side != n_in:
            raise _error(f"a conv or pool layer needs square images, and {n_in} inputs are not side x side pixels")
        return (side, side, 1)
    return (n_in,)


def _positive(spec: dict, key: str, at: int) -> int:
    v = spec.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise _error(f"layer {at} ({spec.get('kind')}) needs a positive integer {key}, got {quote(v, 40)}")
    return v


def check_stack(in_shape: tuple, specs) -> int:
    """Follow ``in_shape`` up ``specs`` (hidden layers and the output layer) by arithmetic:
    every layer fits the shape below it, no layer's output holds more than ``MAX_VALUES`` values
    per example, the whole stack no more than ``MAX_PARAMS`` parameters. Returns the number of
    parameters; raises ``ConfigError`` (field 'layers') with one line otherwise."""
    if not isinstance(specs, list) or not 1 <= len(specs) <= MAX_LAYERS + 1:
        raise _error(f"a stack is a list of 1 to {MAX_LAYERS + 1} layers")
    shape, params = tuple(in_shape), 0
    for at, spec in enumerate(specs, 1):
        kind = spec.get("kind") if isinstance(spec, dict) else None
        if kind in ("conv", "pool") and len(shape) != 3:
            raise _error(f"layer {at} ({kind}) needs images below it, but gets {shape[0]:,} values from a dense layer")
        if kind == "conv":
            maps, k = _positive(spec, "maps", at), _positive(spec, "kernel", at)
            if k > min(shape[:2]):
                raise _error(f"layer {at}: a {k}x{k} filter does not fit in {shape[0]}x{shape[1]} images")
            params += (k * k * shape[2] + 1) * maps
            shape = (shape[0] - k + 1, shape[1] - k + 1, maps)
        elif kind == "pool":
            p = _positive(spec, "size", at)
            if p > min(shape[:2]):
                raise _error(f"layer {at}: a {p}x{p} pool does not fit in {shape[0]}x{shape[1]} images")
            shape = (shape[0] // p, shape[1] // p, shape[2])
        elif kind == "dense":
            n = _positive(spec, "n", at)
            params += (math.prod(shape) + 1) * n
            shape = (n,)
        else:
            raise _error(f"layer {at} is of unknown kind {quote(kind, 20)}; kinds are 'conv', 'pool', 'dense'")
        if math.prod(shape) > MAX_VALUES or params > MAX_PARAMS:
            raise _error(
                f"the stack is too large at layer {at} ({params:,} parameters, "
                f"{math.prod(shape):,} values an example; at most {MAX_PARAMS:,} and "
                f"{MAX_VALUES:,})"
            )
    return params


def step_values(in_shape: tuple, specs) -> int:
    """Numbers one example occupies in a training step's buffers, by arithmetic: every layer's
    output about four times (output, its error, scratch, the error passed down) and a conv
    layer's patch matrix twice (``cols``, ``dcols``). For a memory estimate before building."""
    shape, total = tuple(in_shape), math.prod(in_shape)
    for spec in specs:
        kind = spec.get("kind")
        if kind == "conv":
            k = spec["kernel"]
            total += 2 * (shape[0] - k + 1) * (shape[1] - k + 1) * k * k * shape[2]
            shape = (shape[0] - k + 1, shape[1] - k + 1, spec["maps"])
        elif kind == "pool":
            shape = (shape[0] // spec["size"], shape[1] // spec["size"], shape[2])
        else:
            shape = (spec["n"],)
        total += 4 * math.prod(shape)
    return total
