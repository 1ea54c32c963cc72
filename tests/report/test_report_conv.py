"""The report page of a conv net, as written by Python: the stack embedded exactly (base64 float32
in the engine's layouts), its test numbers, the feature-map section, a Level 4 exploration folder,
and the page's bounds (weights, multiply-adds a digit, float32's range), each refused in one line.
Its behaviour in a browser is tested in test_report_conv_browser.py."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

import nndl
from nndl.cli import main
from nndl.config import TrainConfig
from nndl.data import load_npz
from nndl.errors import ModelFileError
from nndl.report import build_report, collect, modelfile, write_report
from nndl.report.page import html

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
LAYERS = "conv:3x5x5:relu,pool:2,conv:4x3x3,pool:3,dense:12:tanh"


@pytest.fixture(scope="module")
def sample():
    return load_npz(NPZ)


@pytest.fixture(scope="module")
def conv(tmp_path_factory, sample) -> Path:
    """A small conv net trained 20 mini-batches of 10 (float64), saved with config and history."""
    cfg = TrainConfig(layers=LAYERS, cost="log-likelihood", init="he", eta=0.05, lmbda=0.1, epochs=1, seed=4)
    few = type(sample.training)(sample.training.images[:200], sample.training.labels[:200])
    net, history = nndl.train(cfg, few, sample.validation)
    path = tmp_path_factory.mktemp("conv") / "conv.json"
    nndl.save(net, path, config=cfg, history=history, dataset=NPZ)
    return path


def page_data(text: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="nndl-data">(.*?)</script>', text, re.S).group(1))


def f32(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


def test_a_conv_page_embeds_the_stack_exactly(conv, sample, tmp_path):
    text = write_report(conv, tmp_path / "page.html", test=sample.test).read_text()
    (entry,) = page_data(text)["networks"]
    net = nndl.load(conv)
    assert entry["in_shape"] == [28, 28, 1] and "weights" not in entry
    assert [e["kind"] for e in entry["stack"]] == ["conv", "pool", "conv", "pool", "dense", "dense"]
    for e, layer in zip(entry["stack"], net.layers):
        assert e["in_shape"] == list(layer.in_shape) and e["out_shape"] == list(layer.out_shape)
        assert {k: e[k] for k in layer.spec()} == layer.spec()
        values = [p.value for p in layer.params]  # conv w (k, k, C, maps), b; dense (n_out, n_in), b
        assert [k for k in ("w", "b") if k in e] == (["w", "b"] if values else [])
        for key, value in zip(("w", "b"), values):
            assert np.array_equal(f32(e[key]), value.astype(np.float32).ravel())  # row-major, exact
    assert entry["stack"][-1]["activation"] == "softmax" and entry["stack"][2]["activation"] == "sigmoid"
    predicted = net.predict(sample.test.images.astype(np.float64))
    assert entry["test"]["correct"] == int((predicted == sample.test.labels).sum())
    expected = net.saturation(sample.test.images[:1000].astype(np.float64))  # conv and dense layers
    assert len(entry["saturation"]) == 3 and entry["saturation"] == pytest.approx(expected, abs=1e-4)
    # the filters and feature maps are on the page, and the page says it is chapter 6's
    assert 'id="maps"' in text and 'id="features-conv"' in text and "chapter 6 (<code>network3.py</code>)" in text
    assert "the layers conv:3x5x5:relu,pool:2,conv:4x3x3:sigmoid,pool:3,dense:12:tanh -&gt; 10" in text


def test_a_dense_page_has_no_feature_maps(tmp_path, sample):
    net = nndl.Network([784, 10, 10], rng=0)
    nndl.save(net, tmp_path / "dense.json")
    text = html(build_report(tmp_path / "dense.json"))
    assert 'id="maps"' not in text and '"stack"' not in text and "chapter 3 (<code>network2.py</code>)" in text


def test_the_cli_writes_a_conv_page(conv, tmp_path, capsys):
    out = tmp_path / "c.html"
    assert main(["report", str(conv), "--dataset", NPZ, "-o", str(out), "-q"]) == 0
    assert capsys.readouterr().out.strip() == str(out) and page_data(out.read_text())["networks"][0]["stack"]


@pytest.mark.parametrize(
    "bound,value,message",
    [
        (
            "MAX_PAGE_WEIGHTS",
            500,
            "the page's networks would hold 764 weights and biases, more than the 500 a report page holds",
        ),
        (
            "MAX_PAGE_MULTIPLY_ADDS",
            10_000,
            "reading one digit takes 54,552 multiply-adds, more than the 10,000 a report page "
            "runs each time the drawing changes",
        ),
    ],
)
def test_a_conv_net_over_the_pages_bounds_is_refused_in_one_line(
    conv, tmp_path, capsys, monkeypatch, bound, value, message
):
    net = nndl.load(conv)
    assert net.n_params() == 78 + 112 + 444 + 130 == 764
    assert modelfile.multiply_adds(net) == 24 * 24 * 3 * 25 + 10 * 10 * 4 * 27 + 36 * 12 + 12 * 10 == 54_552
    monkeypatch.setattr(modelfile, bound, value)
    out = tmp_path / "c.html"
    assert main(["report", str(conv), "--dataset", NPZ, "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not out.exists()


def test_the_bound_counts_every_network_of_a_folder(conv, tmp_path, monkeypatch):
    net = nndl.load(conv)
    monkeypatch.setattr(modelfile, "MAX_PAGE_WEIGHTS", 2 * net.n_params() - 1)  # one network fits, two do not
    assert modelfile.check_for_page(net, "a", None) == net.n_params()
    with pytest.raises(ModelFileError, match="would hold 1,528 weights and biases, more than the 1,527"):
        modelfile.check_for_page(net, "b", None, net.n_params())


def test_a_weight_beyond_float32_is_refused(conv, tmp_path):
    net = nndl.load(conv)
    net.layers[2].w.value[0, 0, 0, 0] = 1e39  # finite in float64, inf in the page's float32
    nndl.save(net, tmp_path / "big.json")
    with pytest.raises(ModelFileError, match=r"a weight of magnitude 1e\+39, beyond float32's range"):
        build_report(tmp_path / "big.json")


def test_saturation_read_in_chunks_equals_one_pass(conv, sample):
    net = nndl.load(conv)
    X = sample.test.images[:7].astype(np.float64)  # chunks of 3, 3 and 1
    assert collect.saturation(net, X, 3) == pytest.approx(net.saturation(X), abs=1e-15)
