"""Fuzz targets: each parser of a file a user can give, fed hostile bytes by hypothesis.

Each target is a hypothesis test whose only promise is: the parser returns, or raises the
project's own error type for that file (``DataError``, ``ModelFileError``, ``ImageError``) -
never another exception, and never unbounded work (inputs are small, so a parser that
allocates or loops by what a header declares shows up as a slow or failing example).

Inputs start from valid files and are mutated (bytes flipped, cut, inserted, headers
rewritten), so the fuzzing reaches past the first check. ``tests/fuzz/test_fuzz.py`` runs every
target with a small budget in ``make test``; ``make fuzz`` (``tests/fuzz/fuzz.py``) runs the same
targets for minutes, counting the inputs.
"""

from __future__ import annotations

import atexit
import gzip
import io
import json
import os
import shutil
import struct
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndl.data import read_idx
from nndl.data.cache import read_cached
from nndl.data.idx import parse_idx
from nndl.data.npyfile import load_npy_file
from nndl.data.npz import load_npz
from nndl.errors import DataError, ImageError, ModelFileError
from nndl.serialization import load_with_metadata, to_dict

COUNTS: dict[str, int] = {}  # inputs run per target (read by tests/fuzz/fuzz.py)
_TMP = Path(tempfile.mkdtemp(prefix="nndl-fuzz-"))
atexit.register(shutil.rmtree, _TMP, True)  # nothing left behind
SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
# What every run shares; a runner adds the budget: run(target, max_examples=..., derandomize=...).
BASE = settings(suppress_health_check=SUPPRESS, deadline=None, database=None, print_blob=True)


TARGETS: dict[str, tuple] = {}  # name -> (the body, its strategies)


def target(name: str, *strategies):
    """Register ``body(*drawn)`` as fuzz target ``name``, fed by ``strategies``."""

    def register(body):
        TARGETS[name] = (body, strategies)
        return body

    return register


def run(name: str, **budget) -> None:
    """Run target ``name`` under ``BASE`` plus ``budget`` (max_examples=..., derandomize=...)."""
    body, strategies = TARGETS[name]
    settings(BASE, **budget)(given(*strategies)(body))()


def _count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


def _file(data: bytes, name: str) -> Path:
    path = _TMP / f"{os.getpid()}-{name}"
    path.write_bytes(data)
    return path


# --- mutations of valid bytes ---------------------------------------------------------------------


@st.composite
def mutated(draw, base: bytes, max_edits: int = 6) -> bytes:
    """``base`` with a few edits: bytes set, runs cut or inserted, the end cut or extended."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, max_edits))):
        kind = draw(st.sampled_from(["set", "flip", "cut", "insert", "truncate", "append", "int"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[pos : pos + draw(st.integers(1, 16))]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "append":
            data += draw(st.binary(min_size=1, max_size=64))
        elif kind == "int" and len(data) >= pos + 4:  # a big-endian or little-endian size rewritten
            value = draw(st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**32 - 1, 255, 65, 64, 28, 784]))
            fmt = draw(st.sampled_from([">I", "<I", "<H"]))
            value &= 0xFFFF if fmt == "<H" else 0xFFFFFFFF
            data[pos : pos + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return bytes(data)


def small_arrays(kinds=("u1", "i1", ">i2", ">i4", ">f4", ">f8")):
    return st.builds(
        lambda dtype, shape, seed: (np.random.default_rng(seed).standard_normal(shape) * 60).astype(np.dtype(dtype)),
        st.sampled_from(kinds),
        st.lists(st.integers(0, 5), min_size=1, max_size=4).map(tuple),
        st.integers(0, 2**16),
    )


# --- 1. the IDX reader ------------------------------------------------------------------------------


def _idx_bytes(array: np.ndarray) -> bytes:
    from nndl.data.idx import idx_bytes

    return idx_bytes(array)


@st.composite
def idx_inputs(draw) -> bytes:
    base = _idx_bytes(draw(small_arrays()))
    if draw(st.booleans()):
        base = gzip.compress(draw(mutated(base)), mtime=0)
    return draw(mutated(base)) if draw(st.booleans()) else base


@target("idx", idx_inputs())
def fuzz_idx(data: bytes):
    _count("idx")
    try:
        array = read_idx(_file(data, "idx"))
    except DataError:
        return
    assert array.flags.writeable and array.dtype.isnative
    if data[:2] != b"\x1f\x8b":
        np.testing.assert_array_equal(parse_idx(data), array)


# --- 2. the model-file loader -------------------------------------------------------------------------


def _model_text(sizes=(3, 4, 2), history=True) -> str:
    import nndl
    from nndl.engine.training import History

    net = nndl.Network(list(sizes), rng=0)
    h = History(evaluation_accuracy=[1, 2], epoch_seconds=[0.1, 0.2], n_training=5, n_evaluation=3)
    d = to_dict(net, config=nndl.TrainConfig(sizes=sizes), history=h if history else None, dataset="mnist")
    return json.dumps(d)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**50), 10**50) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=8), kids, max_size=5),
    max_leaves=20,
)
KEYS = [
    "sizes",
    "weights",
    "biases",
    "cost",
    "format",
    "format_version",
    "dtype",
    "activation",
    "output_activation",
    "config",
    "history",
    "dataset",
]


@st.composite
def model_inputs(draw) -> bytes:
    text = _model_text()
    how = draw(st.sampled_from(["value", "bytes", "nested"]))
    if how == "bytes":
        return draw(mutated(text.encode()))
    d = json.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(KEYS))
        if how == "nested" and isinstance(d.get(key), (dict, list)) and d[key]:
            inner = d[key]
            slot = (
                draw(st.sampled_from(sorted(inner)))
                if isinstance(inner, dict)
                else draw(st.integers(0, len(inner) - 1))
            )
            inner[slot] = draw(JSON)
        elif draw(st.booleans()):
            d[key] = draw(JSON)
        else:
            d.pop(key, None)
    return json.dumps(d).encode()


@target("model file", model_inputs())
def fuzz_model_file(data: bytes):
    _count("model file")
    try:
        net, config, history = load_with_metadata(_file(data, "model.json"))
    except ModelFileError:
        return
    assert len(net.weights) == len(net.sizes) - 1


# --- 3. the .npz loader -------------------------------------------------------------------------------


def _npz(compressed: bool, n: int = 8, seed: int = 0, validation: bool = False) -> bytes:
    rng = np.random.default_rng(seed)
    d = {
        "train_images": rng.integers(0, 256, (n, 4, 4), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n).astype(np.uint8),
        "test_images": rng.random((3, 16)).astype(np.float32),
        "test_labels": np.arange(3),
    }
    if validation:
        d.update(validation_images=np.zeros((2, 16), np.uint8), validation_labels=np.array([1, 2]))
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **d)
    return buf.getvalue()


_NPZ_BASES = [_npz(c, n, s, v) for c in (False, True) for n, s, v in ((8, 0, False), (2, 1, True))]


@st.composite
def npz_inputs(draw) -> bytes:
    base = draw(st.sampled_from(_NPZ_BASES))
    if draw(st.integers(0, 4)) == 0:  # members rewritten by hand: odd methods, flags, names, headers
        buf = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(buf, "w") as dst, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # zipfile's "Duplicate name": wanted here
            for info in src.infolist():
                raw = src.read(info)
                if draw(st.booleans()):
                    raw = draw(mutated(raw[:200], 4)) + raw[200:]
                method = draw(
                    st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
                )
                dst.writestr(
                    zipfile.ZipInfo(draw(st.sampled_from([info.filename, info.filename[:-4], "x.npy"]))),
                    raw,
                    compress_type=method,
                )
        base = buf.getvalue()
    return draw(mutated(base, 8))


@target("npz", npz_inputs())
def fuzz_npz(data: bytes):
    _count("npz")
    try:
        splits = load_npz(_file(data, "set.npz"))
    except DataError:
        return
    for split in splits:
        assert len(split) > 0 and split.images.dtype == np.float32
        assert 0 <= split.labels.min() and split.labels.max() <= 9


# --- 4. the array cache -------------------------------------------------------------------------------


def _npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


HEADER_VALUES = st.sampled_from(
    [
        "'|u1'",
        "'<f8'",
        "'|O'",
        "'<U3'",
        "[('a', '<u1')]",
        "(3,)",
        "(10**12,)",
        "(-1,)",
        "()",
        "(0,)",
        "True",
        "None",
        "{}",
        "[" * 50,
        "1e400",
        "'" + "x" * 300,
    ]
)


@st.composite
def npy_inputs(draw) -> bytes:
    if draw(st.integers(0, 3)) == 0:
        descr, fortran, shape = draw(HEADER_VALUES), draw(HEADER_VALUES), draw(HEADER_VALUES)
        text = f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}".encode("latin1")
        text += b" " * ((64 - (10 + len(text) + 1) % 64) % 64) + b"\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + draw(st.binary(max_size=64))
    return draw(mutated(_npy(draw(small_arrays(("u1", "<f8", ">i4", "?")))), 6))


@target("array cache", npy_inputs())
def fuzz_array_cache(data: bytes):
    _count("array cache")
    path = _file(data, "cache.npy")
    array, why = read_cached(path, "0" * 64, limit=10_000)  # never raises: a reason instead
    assert (array is None) != (why is None) and array is None  # no content matches this checksum
    try:
        load_npy_file(path)
    except DataError:
        pass


# --- 5. image preparation (nndl.imageprep's public functions) ------------------------------------------


def _image(fmt: str, mode: str, seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    a = np.full((12, 10), 230, np.uint8)
    a[3:9, 4:6] = rng.integers(0, 60, (6, 2))  # a dark stroke on light paper
    im = Image.fromarray(a).convert(mode)
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


_IMAGE_BASES = [
    _image(f, m, s)
    for f, m in (
        ("PNG", "L"),
        ("PNG", "RGBA"),
        ("PNG", "P"),
        ("JPEG", "L"),
        ("JPEG", "RGB"),
        ("BMP", "RGB"),
        ("GIF", "P"),
    )
    for s in (0, 1)
]


@target("image file", st.sampled_from(_IMAGE_BASES).flatmap(lambda b: mutated(b, 6)))
def fuzz_image_file(data: bytes):
    from nndl.imageprep import load_digit

    _count("image file")
    try:
        x = load_digit(_file(data, "digit.img"))
    except ImageError:
        return
    assert x.shape == (784,) and np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1


@target(
    "image arrays",
    st.integers(0, 40),
    st.integers(0, 40),
    st.integers(0, 2**16),
    st.sampled_from(["uniform", "stroke", "constant", "extreme"]),
)
def fuzz_image_arrays(h: int, w: int, seed: int, kind: str):
    from nndl.imageprep import prepare_digit, to_ink

    _count("image arrays")
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        grey = rng.random((h, w))
    elif kind == "stroke":
        grey = np.ones((h, w))
        if h and w:
            grey[rng.integers(0, h) :, rng.integers(0, w)] = 0.0
    elif kind == "constant":
        grey = np.full((h, w), rng.random())
    else:
        grey = rng.choice([0.0, 1.0, np.nan, np.inf, -1.0, 1e300], size=(h, w))
    for call in (lambda: prepare_digit(to_ink(grey)), lambda: prepare_digit(grey)):
        try:
            with warnings.catch_warnings():  # to_ink computes on nan/inf before prepare_digit refuses them:
                warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns (reported; imageprep is not ours)
                field = call()
        except ImageError:
            continue
        assert field.shape == (28, 28) and np.isfinite(field).all()


# --- 7. results.json and model files -> the report page -------------------------------------------------


def _edited(draw, d, max_edits: int = 3):
    """``d`` (parsed JSON) with a few values somewhere in its tree replaced by any JSON, or removed."""
    for _ in range(draw(st.integers(1, max_edits))):
        node, depth = d, 0
        while depth < 5 and isinstance(node, (dict, list)) and node:
            slot = (
                draw(st.sampled_from(sorted(node))) if isinstance(node, dict) else draw(st.integers(0, len(node) - 1))
            )
            if not isinstance(node[slot], (dict, list)) or not node[slot] or draw(st.booleans()):
                if draw(st.integers(0, 3)) == 0:
                    del node[slot]
                else:
                    node[slot] = draw(
                        st.sampled_from(["<!--<script>", "../../x/m", 2**53, 1e308, -1, [], {}, None, "[" * 50]) | JSON
                    )
                break
            node, depth = node[slot], depth + 1
    return d


def _page_model(sizes=(784, 3, 10)) -> dict:
    import nndl
    from nndl.engine.history import History

    net = nndl.Network(list(sizes), rng=0)
    h = History(
        evaluation_accuracy=[5, 7, 9],
        evaluation_cost=[0.9, 0.5, 0.4],
        training_accuracy=[10, 12, 14],
        epoch_seconds=[0.1, 0.2, 0.2],
        saturation=[[0.5], [0.3], [0.2], [0.1]],
        n_training=20,
        n_evaluation=10,
        eta=[0.5, 0.5, 0.5],
    )
    return to_dict(net, config=nndl.TrainConfig(sizes=sizes, epochs=3), history=h, dataset="mnist")


def _page_results(model: dict) -> dict:
    run = {
        "config": model["config"],
        "history": model["history"],
        "n_train": 20,
        "evaluation_data": "validation",
        "final": {"test_accuracy": 0.5, "validation_accuracy": 0.6, "training_accuracy": 0.7},
        "seconds": 1.5,
        "model": "models/full.json",
    }
    return {
        "level": 3,
        "created": "2026-12-01T00:00:00+00:00",
        "complete": True,
        "options": {"dataset": "mnist", "quick": True},
        "sizes": {"training": 20, "validation": 10, "test": 20},
        "ladder": [
            {"step": "Level 2 baseline", "run": "baseline", "expected": "~94.5%"},
            {"step": "+ larger hidden layer", "run": "full", "expected": "~97.5-98%"},
        ],
        "runs": {"baseline": {**run, "config": {**run["config"], "eta": 3.0}}, "full": run},
    }


_PAGE_MODEL = _page_model()
_PAGE_BASES = [json.dumps(_PAGE_MODEL), json.dumps(_page_model((3, 4, 2)))]
_RESULTS_BASE = json.dumps(_page_results(_PAGE_MODEL))


def _tiny_test():
    from nndl.data import load_npz

    if "test" not in _TINY:
        test = load_npz(Path(__file__).parents[1] / "data" / "mnist_sample.npz").test
        _TINY["test"] = type(test)(test.images[:20], test.labels[:20])
    return _TINY["test"]


_TINY: dict = {}


def _report_folder() -> Path:
    """A folder of this process with models/full.json and models/baseline.json (valid) and a figure."""
    folder = _TMP / f"{os.getpid()}-report"
    if not (folder / "models").is_dir():
        (folder / "models").mkdir(parents=True)
        for name in ("full", "baseline"):
            (folder / "models" / f"{name}.json").write_text(_PAGE_BASES[0])
    return folder


@st.composite
def results_inputs(draw) -> bytes:
    if draw(st.integers(0, 3)) == 0:
        return draw(mutated(_RESULTS_BASE.encode(), 8))
    d = _edited(draw, json.loads(_RESULTS_BASE))
    if draw(st.integers(0, 5)) == 0:
        d = {**d, "exploration": "beyond"} if isinstance(d, dict) else d
    return json.dumps(d).encode()


def _page_or_nndl_error(source, test) -> None:
    from nndl.errors import NndlError
    from nndl.report import build_report
    from nndl.report.page import html

    try:
        page = html(build_report(source, test))
    except NndlError:
        return
    block = page.split('id="nndl-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block and json.loads(block)["networks"] is not None
    assert page.count("<script") == 4


@target("results -> report", results_inputs(), st.booleans())
def fuzz_results_report(data: bytes, with_test: bool):
    _count("results -> report")
    folder = _report_folder()
    (folder / "results.json").write_bytes(data)
    _page_or_nndl_error(folder, _tiny_test() if with_test else None)


@st.composite
def page_model_inputs(draw) -> bytes:
    base = draw(st.sampled_from(_PAGE_BASES))
    if draw(st.integers(0, 3)) == 0:
        return draw(mutated(base.encode(), 6))
    return json.dumps(_edited(draw, json.loads(base))).encode()


@target("model -> report", page_model_inputs(), st.booleans())
def fuzz_model_report(data: bytes, with_test: bool):
    _count("model -> report")
    _page_or_nndl_error(_file(data, "page-model.json"), _tiny_test() if with_test else None)


# --- 7. the sweep specification parser (flags, and the JSON a sweep.sqlite records) ------------------


def _sweep_allowed():
    from nndl.cli.common import UsageError
    from nndl.errors import ConfigError

    return (ConfigError, UsageError)


FIELD_TEXTS = st.one_of(
    st.sampled_from(
        [
            "0.5",
            "0.025,0.25,2.5",
            "0,5",
            "1:3",
            "0.01:10",
            "1e-3:1e3",
            "-1:1",
            "784,30,10",
            "none",
            "cross-entropy",
            "quadratic,log-likelihood",
            "true",
            "nan",
            "inf",
            "1e999",
            "9" * 30,
            "0x10",
            ",",
            ":",
            "1:",
            ":2",
            "1:2:3",
            "",
            " ",
            "1,,2",
            "2:1",
            "10**9",
            "784,30",
            "784,0,10",
            "1e308",
        ]
    ),
    st.text(alphabet="0123456789.,:-+e ", max_size=12),
    st.text(max_size=8),
)


@st.composite
def sweep_flags(draw):
    from nndl.sweep.spec import sweepable

    fields = draw(st.lists(st.sampled_from(sweepable()), max_size=4, unique=True))
    values = {f: draw(st.lists(FIELD_TEXTS, min_size=1, max_size=3)) for f in fields}
    seeds = draw(st.sampled_from(["0", "0,1", "0,,1", "-1", "a", "0,1,2,3", "1" * 50, ""]) | st.text(max_size=6))
    return (
        values,
        seeds,
        draw(st.none() | st.integers(-3, 3) | st.sampled_from([10**9, 5001, 10**30])),
        draw(st.none() | st.integers(-2, 10**6)),
        draw(st.sampled_from(["evaluation_accuracy,training_cost", "training_cost", "", "weights", "evaluation-cost"])),
    )


@target("sweep flags", sweep_flags())
def fuzz_sweep_flags(drawn):
    """The flags of ``nndl sweep`` -> a SweepSpec (``spec_from_args``), as the command line builds it."""
    import argparse

    from nndl.cli.sweep import spec_from_args
    from nndl.limits import MAX_SWEEP_TRIALS
    from nndl.sweep import SweepSpec
    from nndl.sweep.spec import sweepable

    _count("sweep flags")
    values, seeds, random, n_train, monitor = drawn
    args = argparse.Namespace(
        seeds=seeds,
        random=random,
        random_seed=0,
        train_size=n_train,
        validation_size=None,
        test=False,
        monitor=monitor,
        **{f"field_{f}": values.get(f) for f in sweepable()},
    )
    try:
        spec = spec_from_args(args)
    except _sweep_allowed():
        return
    assert 1 <= len(spec.trials()) <= MAX_SWEEP_TRIALS
    again = SweepSpec.from_dict(json.loads(json.dumps(spec.to_dict())))  # what a sweep.sqlite records reads back
    assert again.to_dict() == spec.to_dict() and [t.key for t in again.trials()] == [t.key for t in spec.trials()]


def _spec_base() -> dict:
    from nndl.sweep import SweepSpec

    return SweepSpec(
        values={"eta": (0.5, 3.0), "sizes": ((784, 30, 10), (784, 10)), "epochs": (2,)}, ranges={}, seeds=(0, 1)
    ).to_dict() | {"random": None}


SPEC_KEYS = [
    "values",
    "ranges",
    "seeds",
    "random",
    "random_seed",
    "n_train",
    "n_validation",
    "test",
    "monitor",
    "bogus",
]


@st.composite
def spec_dicts(draw):
    d = json.loads(json.dumps(_spec_base()))
    if draw(st.booleans()):
        d["ranges"] = {"lmbda": {"lo": 0.01, "hi": 10.0, "log": True}}
        d["random"] = draw(st.integers(1, 20))
    for _ in range(draw(st.integers(1, 4))):
        key = draw(st.sampled_from(SPEC_KEYS))
        target_ = d.get(key)
        if isinstance(target_, dict) and target_ and draw(st.booleans()):
            inner = draw(st.sampled_from(sorted(target_)))
            target_[inner] = draw(JSON)
        elif isinstance(target_, list) and target_ and draw(st.booleans()):
            target_[draw(st.integers(0, len(target_) - 1))] = draw(JSON)
        elif draw(st.booleans()):
            d[key] = draw(JSON)
        else:
            d.pop(key, None)
    return d


@target("sweep spec", spec_dicts())
def fuzz_sweep_spec(d):
    """A sweep specification as a sweep.sqlite records it (JSON) -> ``SweepSpec.from_dict``."""
    from nndl.errors import ConfigError
    from nndl.limits import MAX_SWEEP_TRIALS
    from nndl.sweep import SweepSpec

    _count("sweep spec")
    try:
        spec = SweepSpec.from_dict(d)
    except ConfigError:
        return
    assert 1 <= len(spec.trials()) <= MAX_SWEEP_TRIALS
    assert SweepSpec.from_dict(json.loads(json.dumps(spec.to_dict()))).to_dict() == spec.to_dict()


# --- 8. sweep.sqlite -> nndl sweep show, plot, resume ------------------------------------------------

_SWEEP_DB: list[bytes] = []  # the valid database, made once by the real store
SAMPLE_NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")


def _sweep_db() -> bytes:
    """A real sweep.sqlite written through nndl's store: six trials done, one diverged, one pending."""
    if _SWEEP_DB:
        return _SWEEP_DB[0]
    from nndl.sweep import SweepSpec, open_sweep

    spec = SweepSpec(
        values={"eta": (0.5, 3.0), "lmbda": (0.0, 5.0), "sizes": ((784, 30, 10),), "epochs": (2,)}, seeds=(0, 1)
    )
    folder = _TMP / "sweep-base"
    with open_sweep(folder, spec, SAMPLE_NPZ, ["nndl", "sweep", "--eta", "0.5,3"]) as store:
        trials = spec.trials()
        store.add_trials(trials)
        for i, t in enumerate(trials[:6]):
            store.write_result(
                {
                    "key": t.key,
                    "config": t.config.to_dict(),
                    "n_train": 1667,
                    "n_evaluation": 333,
                    "history": {
                        "evaluation_accuracy": [200 + i, 250 + i],
                        "training_cost": [1.5, 0.9 - i / 10],
                        "epoch_seconds": [0.1, 0.1],
                        "n_training": 1667,
                        "n_evaluation": 333,
                    },
                    "final": {"validation_accuracy": (250 + i) / 333},
                    "seconds": 0.2,
                    "host": "h",
                    "pid": 7,
                    "started": "2026-01-01T00:00:00+00:00",
                    "finished": "2026-01-01T00:00:01+00:00",
                }
            )
        store.write_diverged(trials[6].key, "diverged: the cost is no number")
    _SWEEP_DB.append((folder / "sweep.sqlite").read_bytes())
    shutil.rmtree(folder)
    return _SWEEP_DB[0]


from nndl.sweep.store import COLUMNS as COLUMN_NAMES  # noqa: E402 - the trials table's columns, as the store writes them

CELLS = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.binary(max_size=12),
    JSON.map(json.dumps),
    st.sampled_from(
        [
            "{}",
            "[]",
            "null",
            "[" * 5000,
            '{"seed": 0}',
            "NaN",
            "1e999",
            "done",
            "diverged",
            "pending",
            "running",
            '{"training_cost": [1e400]}',
            '{"eta": 0.5, "seed": 0}',
        ]
    ),
)


@st.composite
def sweep_db_edits(draw):
    """(how, edits): SQL edits of cells, meta values and the schema, or bytes of the file mutated."""
    if draw(st.integers(0, 5)) == 0:
        return "bytes", draw(mutated(_sweep_db(), 8))
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["cell", "cell", "cell", "meta", "json", "schema"]))
        if kind == "cell":
            edits.append(
                (
                    "UPDATE trials SET " + draw(st.sampled_from(COLUMN_NAMES)) + " = ? WHERE idx = ?",
                    (draw(CELLS), draw(st.integers(0, 8))),
                )
            )
        elif kind == "meta":
            edits.append(
                (
                    "UPDATE meta SET value = ? WHERE key = ?",
                    (draw(CELLS), draw(st.sampled_from(["sweep", "command", "created"]))),
                )
            )
        elif kind == "json":  # a JSON column with a few bytes edited, so the parse goes deep
            column = draw(st.sampled_from(["params", "config", "history"]))
            edits.append(
                (
                    "jsonedit",
                    (
                        column,
                        draw(st.integers(0, 8)),
                        draw(st.integers(0, 200)),
                        draw(
                            st.sampled_from(
                                ['"', "{", "}", "[", "]", ",", ":", "1e999", "null", "-", '"x"', "9" * 60, "true"]
                            )
                        ),
                    ),
                )
            )
        else:
            edits.append(
                (
                    draw(
                        st.sampled_from(
                            [
                                "ALTER TABLE trials ADD COLUMN extra TEXT",
                                "ALTER TABLE trials DROP COLUMN error",
                                "DROP TABLE meta",
                                "DELETE FROM meta WHERE key = 'sweep'",
                                "PRAGMA user_version = 2",
                                "DELETE FROM trials",
                                "INSERT INTO trials SELECT * FROM trials WHERE idx = 0",
                                "UPDATE trials SET key = 'same'",
                                "ALTER TABLE trials RENAME COLUMN host TO hostname",
                            ]
                        )
                    ),
                    (),
                )
            )
    return "sql", edits


def _apply(path: Path, edits) -> None:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("PRAGMA ignore_check_constraints = 1")
    for sql, args in edits:
        try:
            if sql == "jsonedit":
                column, idx, pos, text = args
                row = con.execute(f"SELECT {column} FROM trials WHERE idx = ?", (idx,)).fetchone()
                if row and isinstance(row[0], str):
                    value = row[0][:pos] + text + row[0][pos + 1 :]
                    con.execute(f"UPDATE trials SET {column} = ? WHERE idx = ?", (value, idx))
            else:
                con.execute(sql, args)
        except sqlite3.Error:  # a constraint the edit broke (NOT NULL, a unique key): that edit is skipped
            pass
    con.commit()
    con.close()


@target("sweep database", sweep_db_edits(), st.sampled_from(["show", "show --json", "resume", "show", "plot"]))
def fuzz_sweep_database(edited, action):
    """An edited sweep.sqlite -> ``nndl sweep show`` (and --json), ``plot``, and what ``resume`` reads
    (``read_sweep``, then the trials): one line (exit 1) or a full answer, never another exception."""
    import contextlib

    from nndl.cli import main
    from nndl.sweep import SweepFileError, read_sweep

    _count("sweep database")
    folder = _TMP / f"{os.getpid()}-sweep"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    how, edits = edited
    if how == "bytes":
        (folder / "sweep.sqlite").write_bytes(edits)
    else:
        (folder / "sweep.sqlite").write_bytes(_sweep_db())
        _apply(folder / "sweep.sqlite", edits)
    before = (folder / "sweep.sqlite").read_bytes()
    if action == "resume":
        try:
            record = read_sweep(folder)
        except SweepFileError:
            return
        assert len(record.spec.trials()) >= len(record.rows)
    else:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["sweep", *action.split()[:1], str(folder), *action.split()[1:]])
        assert code in (0, 1), (code, err.getvalue())
        if code == 1:
            assert len(err.getvalue().strip().splitlines()) == 1 and "Traceback" not in err.getvalue()
    assert (folder / "sweep.sqlite").read_bytes() == before  # readers never write
