"""nndl train --tensorboard DIR: event files that TensorBoard's own reader reads back, holding the
numbers of the run's History and histograms of the network's weights and z; a clear error when
tensorboardX is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorboardX", reason="the tensorboard extra: pip install -e '.[test]'")
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator", reason="TensorBoard's reader, in the test extra"
)

import nndl  # noqa: E402
from nndl.cli import main  # noqa: E402
from nndl.config import TrainConfig, training_streams  # noqa: E402
from nndl.data import load_npz  # noqa: E402
from nndl.serialization import load_with_metadata  # noqa: E402
from nndl.tensorboard import TensorBoardWriter, layer_names, weighted_inputs  # noqa: E402

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
MONITOR = "evaluation-accuracy,evaluation-cost,training-accuracy,training-cost,saturation"
EPOCHS = 3


def read_events(folder: Path):
    """TensorBoard's EventAccumulator over ``folder``, every event kept (its default samples histograms)."""
    ea = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0}
    )
    ea.Reload()
    return ea


def scalars(ea, tag: str) -> tuple[list[int], np.ndarray]:
    events = ea.Scalars(tag)
    return [e.step for e in events], np.array([e.value for e in events])


def histogram(ea, tag: str, step: int):
    found = [h.histogram_value for h in ea.Histograms(tag) if h.step == step]
    assert len(found) == 1, f"{tag}: {len(found)} histograms at step {step}"
    return found[0]


def z_by_hand(net, X) -> list[np.ndarray]:
    """z of each layer of a sigmoid network, written out as the book writes it: z = w a + b."""
    a, out = np.asarray(X, np.float64), []
    for w, b in zip(net.weights, net.biases):
        z = a @ w.T + b.T  # (m, n_out of the layer)
        out.append(z)
        a = nndl.sigmoid(z)
    return out


def assert_histogram_of(h, values: np.ndarray, what: str) -> None:
    values = np.asarray(values, np.float64).ravel()
    assert h.num == values.size, what
    assert h.min == pytest.approx(values.min(), rel=1e-12, abs=1e-12), what
    assert h.max == pytest.approx(values.max(), rel=1e-12, abs=1e-12), what
    assert h.sum == pytest.approx(values.sum(), rel=1e-9, abs=1e-9), what
    assert h.sum_squares == pytest.approx(np.square(values).sum(), rel=1e-9), what
    assert sum(h.bucket) == values.size, what


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One nndl train run with --tensorboard and --save (its History is in the model file)."""
    tmp = tmp_path_factory.mktemp("tb")
    logdir, model = tmp / "runs", tmp / "m.json"
    code = main(
        [
            "train",
            "--dataset",
            NPZ,
            "--sizes",
            "784,30,10",
            "--epochs",
            str(EPOCHS),
            "--monitor",
            MONITOR,
            "--save",
            str(model),
            "--tensorboard",
            str(logdir),
            "-q",
        ]
    )
    assert code == 0
    folders = list(logdir.iterdir())
    assert len(folders) == 1 and folders[0].is_dir()
    net, config, history = load_with_metadata(model)
    return {"folder": folders[0], "ea": read_events(folders[0]), "net": net, "config": config, "history": history}


def test_the_run_has_a_folder_of_its_own_named_by_its_config(run):
    name = run["folder"].name
    assert "_784-30-10_cross-entropy_eta0.5_lmbda5" in name
    assert list(run["folder"].glob("events.out.tfevents.*"))


def test_scalars_equal_the_runs_history_epoch_by_epoch(run):
    ea, h = run["ea"], run["history"]
    steps = list(range(1, EPOCHS + 1))
    expected = {
        "accuracy/validation": np.array(h["evaluation_accuracy"]) / h["n_evaluation"],
        "accuracy/training": np.array(h["training_accuracy"]) / h["n_training"],
        "cost/validation": h["evaluation_cost"],
        "cost/training": h["training_cost"],
        "cost/validation_without_regularization": h["evaluation_cost_without_regularization"],
        "cost/training_without_regularization": h["training_cost_without_regularization"],
        "eta": h["eta"],
        "saturation/hidden1": [s[0] for s in h["saturation"][1:]],  # entry 0 is before training
    }
    assert set(expected) <= set(ea.Tags()["scalars"])
    for tag, values in expected.items():
        got_steps, got = scalars(ea, tag)
        assert got_steps == steps, tag
        assert len(values) == EPOCHS, tag
        np.testing.assert_allclose(got, values, rtol=1e-6, err_msg=tag)  # event files hold float32
    assert h["n_evaluation"] == 333 and h["n_training"] == 1667


def test_histograms_hold_every_layers_weights_and_z_each_epoch_and_before_training(run):
    ea, net = run["ea"], run["net"]
    tags = set(ea.Tags()["histograms"])
    for layer in ("hidden1", "output"):
        for kind in ("weights", "biases", "z"):
            assert f"{kind}/{layer}" in tags
            assert sorted(h.step for h in ea.Histograms(f"{kind}/{layer}")) == list(range(EPOCHS + 1))
    # the last epoch's histograms are the trained network's: its weights, and z on 1,000 validation images
    probe = load_npz(NPZ).validation.images[:1000]
    zs = z_by_hand(net, probe)
    for mine, theirs in zip(zs, weighted_inputs(net, probe)):
        np.testing.assert_allclose(theirs, mine, rtol=1e-12, atol=1e-12)
    for l, layer in enumerate(layer_names(net.sizes)):
        assert_histogram_of(histogram(ea, f"weights/{layer}", EPOCHS), net.weights[l], f"weights/{layer}")
        assert_histogram_of(histogram(ea, f"biases/{layer}", EPOCHS), net.biases[l], f"biases/{layer}")
        assert_histogram_of(histogram(ea, f"z/{layer}", EPOCHS), zs[l], f"z/{layer}")
        assert zs[l].shape == (len(probe), net.sizes[l + 1])
    # step 0 is the network before its first step: the initial draws of the config's seed
    config = TrainConfig.from_dict(run["config"])
    start = nndl.Network(config.sizes, config.cost, init=config.init, rng=training_streams(config.seed).init)
    assert_histogram_of(histogram(ea, "weights/hidden1", 0), start.weights[0], "weights/hidden1 at step 0")
    assert_histogram_of(histogram(ea, "z/hidden1", 0), z_by_hand(start, probe)[0], "z/hidden1 at step 0")


def test_z_histogram_shows_saturation_of_large_init(tmp_path):
    """The library callback with nndl.train: N(0, 1) weights give z of the first hidden layer a
    spread several times that of N(0, 1/n_in) (section 4), in the step-0 histograms."""
    data = load_npz(NPZ)
    spread = {}
    for init in ("large", "default"):
        config = TrainConfig(sizes=(784, 30, 10), init=init, epochs=1)
        net = nndl.Network(config.sizes, config.cost, init=init, rng=training_streams(config.seed).init)
        with TensorBoardWriter(tmp_path / init, net, data.validation.images) as board:
            _, history = nndl.train(config, data.training, data.validation, net=net, on_epoch=board.on_epoch)
        ea = read_events(tmp_path / init)
        h = histogram(ea, "z/hidden1", 0)
        mean = h.sum / h.num
        spread[init] = np.sqrt(h.sum_squares / h.num - mean**2)
        steps, acc = scalars(ea, "accuracy/validation")
        assert steps == [1]
        assert acc[0] == pytest.approx(history.evaluation_accuracy[0] / len(data.validation), rel=1e-6)
    assert spread["large"] > 4 * spread["default"]


def test_missing_tensorboardx_is_one_line_before_any_data_is_loaded(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import tensorboardX now raises ImportError
    code = main(
        ["train", "--dataset", str(tmp_path / "absent.npz"), "--epochs", "1", "--tensorboard", str(tmp_path / "runs")]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert err.count("\n") == 1
    assert "tensorboardX" in err and "pip install 'nndl[tensorboard]'" in err
    assert "absent.npz" not in err  # refused before the data set is looked at
    assert not (tmp_path / "runs").exists()


def test_tensorboard_flag_naming_a_file_is_a_usage_error(capsys, tmp_path):
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    code = main(["train", "--dataset", NPZ, "--epochs", "1", "--tensorboard", str(afile)])
    err = capsys.readouterr().err
    assert code == 2
    assert "argument --tensorboard" in err and "is a file" in err and err.count("\n") == 1
