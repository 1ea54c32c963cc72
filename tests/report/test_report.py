"""The report page, as written by Python: what it embeds, how big it is, and the commands that
write it (nndl report, nndl explore). The page's behaviour in a browser is tested in
test_report_browser.py."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import shutil
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pytest

import nndl
from nndl.cli import main
from nndl.config import TrainConfig
from nndl.data import load_npz
from nndl.explore.figures import FILES, captions
from nndl.report import build_report, report_path, write_report
from nndl.report.collect import MISTAKES, PER_CELL
from nndl.report.page import CSP, html

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")


@pytest.fixture(scope="module")
def sample():
    return load_npz(NPZ)


@pytest.fixture(scope="module")
def model(tmp_path_factory, sample) -> Path:
    """784-30-10 trained 2 epochs on the sample, saved with its config and history."""
    config = TrainConfig(sizes=(784, 30, 10), epochs=2, seed=1)
    net, history = nndl.train(config, sample.training, sample.validation, monitor_saturation=True)
    path = tmp_path_factory.mktemp("model") / "net.json"
    nndl.save(net, path, config=config, history=history, dataset=NPZ)
    return path


def page_data(text: str) -> dict:
    m = re.search(r'<script type="application/json" id="nndl-data">(.*?)</script>', text, re.S)
    return json.loads(m.group(1))


def f32(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


def test_model_page_embeds_the_network_exactly(model, sample, tmp_path):
    out = write_report(model, tmp_path / "page.html", test=sample.test)
    data = page_data(out.read_text())
    net = nndl.load(model)
    (entry,) = data["networks"]
    assert entry["sizes"] == [784, 30, 10] and entry["activation"] == "sigmoid" and entry["output"] == "sigmoid"
    for w, b, ew, eb in zip(net.weights, net.biases, entry["weights"], entry["biases"]):
        assert np.array_equal(f32(ew), w.astype(np.float32).ravel())  # row-major (n_out, n_in)
        assert np.array_equal(f32(eb), b.astype(np.float32).ravel())
    predicted = net.predict(sample.test.images.astype(np.float64))
    t = entry["test"]
    assert t["n"] == len(sample.test.labels) and t["correct"] == int((predicted == sample.test.labels).sum())
    cm = np.array(t["confusion"])
    assert cm.sum() == t["n"] and np.trace(cm) == t["correct"]
    # mistakes: really wrong, most confident first, digits embedded exactly
    pixels = np.frombuffer(base64.b64decode(data["digits"]["pixels"]), dtype=np.uint8).reshape(-1, 784)
    rows = data["digits"]["rows"]
    confidences = [m[3] for m in t["mistakes"]]
    assert confidences == sorted(confidences, reverse=True) and t["top"] == MISTAKES
    wrong = np.flatnonzero(predicted != sample.test.labels)
    net_out = net.forward(sample.test.images.astype(np.float64))
    conf = (net_out.max(axis=1) / net_out.sum(axis=1))[wrong]
    assert np.allclose(confidences[:MISTAKES], np.sort(conf)[::-1][:MISTAKES], atol=1e-4)  # the most confident of all
    for k, truth, pred, _ in t["mistakes"]:
        r = rows[k]
        assert truth == sample.test.labels[r] != pred == predicted[r]
        assert np.array_equal(pixels[k].astype(np.float32) / np.float32(255), sample.test.images[r])
    assert len(data["examples"]) == 20 and sorted({data["digits"]["labels"][k] for k in data["examples"]}) == list(
        range(10)
    )


def test_every_confusion_cell_with_mistakes_keeps_some(model, sample):
    """10,000 test digits (the sample's 500, twenty times): far more mistakes than the gallery's
    48, yet clicking any cell with mistakes shows some of them, and the page stays bounded."""
    big = type(sample.test)(np.tile(sample.test.images, (20, 1)), np.tile(sample.test.labels, 20))
    (entry,) = build_report(model, test=big).networks
    t = entry["test"]
    cm = np.array(t["confusion"])
    kept = np.zeros_like(cm)
    for _, truth, pred, _ in t["mistakes"]:
        kept[truth, pred] += 1
    off = ~np.eye(10, dtype=bool)
    assert t["n"] - t["correct"] > 10 * MISTAKES and (cm[off] > 0).sum() > 10
    assert np.all(kept[off] >= np.minimum(cm[off], 1)) and np.all(kept <= cm)  # never "0 kept"
    assert np.all(kept[off] >= np.minimum(cm[off], PER_CELL))
    assert len(t["mistakes"]) <= MISTAKES + PER_CELL * 90  # bounded


def test_final_saturation_of_each_network(model, sample):
    report = build_report(model, test=sample.test)
    net = nndl.load(model)
    expected = net.saturation(sample.test.images[:1000].astype(np.float64))
    assert report.networks[0]["saturation"] == pytest.approx(expected, abs=1e-4)
    assert "After training, on the test digits" in html(report)


def test_page_is_self_contained(model, sample, tmp_path):
    text = write_report(model, tmp_path / "page.html", test=sample.test).read_text()
    assert f'content="{CSP}"' in text and "default-src 'none'" in CSP
    assert not re.search(r'(src|href)\s*=\s*["\'](?!data:|#)', text)  # nothing loaded from anywhere
    assert not re.search(r"https?://", text.split('id="nndl-data"')[0])  # no URL in the markup or CSS
    assert text.count("<script") == 4 and "<link" not in text


def test_page_size_for_784_100_10(sample, tmp_path):
    config = TrainConfig(sizes=(784, 100, 10), epochs=1, seed=0)
    net, _ = nndl.train(config, sample.training, sample.validation)
    path = tmp_path / "big.json"
    nndl.save(net, path, config=config)
    size = write_report(path, tmp_path / "big.html", test=sample.test).stat().st_size
    weights = 4 * (784 * 100 + 100 + 100 * 10 + 10)  # 318,040 bytes as float32
    assert weights * 4 / 3 < size < weights * 4 / 3 + 200_000  # measured 0.54 MB in all


def test_figure_captions_cover_every_figure():
    results = json.loads((Path(__file__).resolve().parents[2] / "docs" / "level3" / "results.json").read_text())
    said = captions(results)
    assert set(said) == set(FILES) and all(10 < len(c) < 600 for c in said.values())


@pytest.fixture(scope="module")
def exploration(tmp_path_factory, sample):
    """A quick exploration on the sample, with models/<run>.json for every run, as the
    exploration's sweep writes them (trained here with each run's own configuration)."""
    root = tmp_path_factory.mktemp("pictures")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["explore", "level3", "--quick", "--dataset", NPZ, "--pictures", str(root), "--quiet"]) == 0
    (folder,) = (root / "level3").iterdir()
    (folder / "printed.txt").write_text(printed.getvalue())
    written = (folder / "report.html").read_text()
    if (folder / "models").is_dir():  # the exploration saved its models
        assert '"networks":[{' in written
        return folder
    assert "holds no model files" in written  # an exploration without them
    results = json.loads((folder / "results.json").read_text())
    (folder / "models").mkdir()
    for name, run in results["runs"].items():
        config = TrainConfig.from_dict(run["config"]).replace(epochs=1)
        n = run["n_train"]
        net, history = nndl.train(config, type(sample.training)(sample.training.images[:n], sample.training.labels[:n]))
        nndl.save(net, folder / "models" / f"{name}.json", config=config, history=history)
    return folder


def test_exploration_page(exploration, sample):
    report = build_report(exploration, test=sample.test)
    results = json.loads((exploration / "results.json").read_text())
    assert [r["run"] for r in report.ladder] == [s["run"] for s in results["ladder"]]
    assert {r["name"] for r in report.runs} == set(results["runs"])
    assert [f["file"] for f in report.figures] == list(FILES)
    said = captions(results)
    assert all(f["caption"] == said[f["file"]] for f in report.figures)
    names = [n["name"] for n in report.networks]
    assert names[:5] == [s["run"] for s in results["ladder"]] and set(names) == set(results["runs"])
    text = html(report)
    data = page_data(text)
    assert data["default_network"] == "full"
    for fig in FILES:  # every figure, inline
        assert html_escape(said[fig]) in text
    assert text.count("data:image/png;base64,") == 5
    chart = text.split("id='saturation'")[1].split("</section>")[0]  # every run records saturation
    assert "Saturation per epoch was not recorded" not in chart and chart.count("<polyline") == len(results["runs"])
    colours = re.findall(r'<polyline[^>]*stroke="([^"]+)"', chart)
    assert len(set(colours)) == len(results["runs"])  # a colour of its own each
    assert "why a trained network still reads as largely saturated" in chart.lower()


def test_saturation_is_drawn_when_recorded(exploration, sample, tmp_path):
    folder = tmp_path / "with-saturation"
    shutil.copytree(exploration, folder)
    results = json.loads((folder / "results.json").read_text())
    for run in results["runs"].values():
        run["history"].pop("saturation", None)
    (folder / "results.json").write_text(json.dumps(results))
    text = html(build_report(folder, test=sample.test))
    assert "Saturation per epoch was not recorded" in text.split("id='saturation'")[1].split("</section>")[0]
    for name in ("regularized", "better-init"):
        epochs = results["runs"][name]["config"]["epochs"]
        start = 0.6 if name == "regularized" else 0.1
        results["runs"][name]["history"]["saturation"] = [[start / (1 + e)] for e in range(epochs + 1)]
    (folder / "results.json").write_text(json.dumps(results))
    text = html(build_report(folder, test=sample.test))
    chart = text.split('id=\'saturation\'')[1].split("</section>")[0]
    assert "Saturation per epoch was not recorded" not in chart and "<svg" in chart
    assert "regularized" in chart and "better-init" in chart and chart.count("<polyline") == 2


def test_model_history_gives_curves_and_saturation(model, sample):
    text = html(build_report(model, test=sample.test))
    runs = text.split("id='runs'")[1].split("</section>")[0]
    assert "Accuracy after each epoch" in runs and "learning rate eta" in runs
    assert "Saturated hidden neurons after each epoch" in text  # monitored when it was trained


def test_explore_writes_the_page_and_names_it_last(exploration):
    lines = (exploration / "printed.txt").read_text().strip().splitlines()
    assert lines[-2:] == ["Report page (open it in a browser; it works offline):", f"  {exploration / 'report.html'}"]


def test_cli_report_model_and_folder(model, exploration, tmp_path, capsys):
    assert main(["report", str(model), "--dataset", NPZ, "-q"]) == 0
    assert capsys.readouterr().out.strip() == str(report_path(model)) == str(model.with_name("net.report.html"))
    out = tmp_path / "here" / "x.html"
    assert main(["report", str(exploration), "-o", str(out), "-q"]) == 0  # the data set named in results.json
    assert capsys.readouterr().out.strip() == str(out) and out.stat().st_size > 500_000


@pytest.mark.parametrize(
    "args, message",
    [
        (["report", "/no/such/thing"], "does not exist"),
        (["report", "."], "has no results.json"),
    ],
)
def test_cli_report_errors(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_report_bad_model_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["report", str(bad), "--dataset", NPZ]) == 1
    err = capsys.readouterr().err
    assert "bad.json" in err and "invalid JSON" in err and "Traceback" not in err
    assert not (tmp_path / "bad.report.html").exists()


def test_beyond_level3_folder(model, sample, tmp_path):
    """nndl explore beyond's folder: the ladder past 98 % (seeds' mean and range), its seven figures'
    captions, one network per ladder row (its first seed)."""
    from nndl.explore.beyond_figures import CAPTION as BEYOND

    saved = json.loads(model.read_text())
    folder = tmp_path / "beyond" / "stamp"
    (folder / "models").mkdir(parents=True)
    runs = {}
    for key, accs in (("level3", (0.90, 0.92)), ("dropout", (0.93, 0.95))):
        for seed, acc in enumerate(accs):
            name = f"{key}-seed{seed}"
            config = dict(saved["config"], seed=seed, dropout=0.2 if key == "dropout" else 0.0)
            runs[name] = {
                "config": config,
                "group": f"ladder:{key}",
                "n_train": 1667,
                "evaluation_data": "validation",
                "history": saved["history"],
                "seconds": 1.0,
                "final": {"test_accuracy": acc, "validation_accuracy": acc - 0.01},
            }
            shutil.copy(model, folder / "models" / f"{name}.json")
    runs["momentum-0.9"] = dict(runs["level3-seed0"], group="figure:momentum")
    (folder / "results.json").write_text(
        json.dumps(
            {
                "exploration": "beyond",
                "complete": True,
                "runs": runs,
                "options": {"dataset": NPZ, "quick": True},
                "sizes": {"test": 500, "validation": 333},
            }
        )
    )
    (folder / "7_ladder_past_98.png").write_bytes(
        (Path(__file__).parents[2] / "docs" / "level3" / "2_cost_comparison.png").read_bytes()
    )
    report = build_report(folder, test=sample.test)
    assert [n["name"] for n in report.networks] == ["level3-seed0", "dropout-seed0"]
    assert [r["test"] for r in report.ladder] == ["91.00% (90.00-92.00)", "94.00% (93.00-95.00)"]
    assert report.ladder_expected == "What it shows" and report.title.startswith("Beyond Level 3")
    results = json.loads((folder / "results.json").read_text())
    assert [f["caption"] for f in report.figures] == [BEYOND["7_ladder_past_98.png"](results)]
    assert "mean test accuracy of its 2 seeds" in report.figures[0]["caption"]  # this folder's own
    text = html(report)
    assert "What it shows" in text and "Level 3 document expects" not in text and len(report.runs) == 5
