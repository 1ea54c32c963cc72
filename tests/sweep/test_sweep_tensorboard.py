"""nndl sweep --tensorboard and the explorations' --tensorboard: a TensorBoard run per trial, named by its
swept values (or the exploration's run name), holding the numbers the sweep's database or results.json
holds - and training exactly as it does without them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorboardX", reason="the tensorboard extra: pip install -e '.[test]'")
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator", reason="TensorBoard's reader, in the test extra"
)

from nndl.cli import main  # noqa: E402
from nndl.data import load_npz  # noqa: E402
from nndl.explore.runs import Options, run_level3  # noqa: E402
from nndl.sweep import SweepStore  # noqa: E402

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")


def scalars(folder: Path, tag: str) -> tuple[list[int], np.ndarray]:
    ea = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0}
    )
    ea.Reload()
    events = ea.Scalars(tag)
    assert sorted(h.step for h in ea.Histograms("z/hidden1"))[0] == 0  # histograms from before training on
    return [e.step for e in events], np.array([e.value for e in events])


def test_sweep_writes_a_run_per_trial_named_by_its_values_with_the_databases_numbers(tmp_path, capsys):
    sweep = [
        "sweep",
        "--dataset",
        NPZ,
        "--eta",
        "0.1,1",
        "--sizes",
        "784,10,10",
        "--epochs",
        "2",
        "--workers",
        "1",
        "-q",
    ]
    assert main([*sweep, "--out", str(tmp_path / "sw"), "--tensorboard", str(tmp_path / "runs")]) == 0
    assert main([*sweep, "--out", str(tmp_path / "plain")]) == 0
    capsys.readouterr()
    runs = tmp_path / "runs" / "sw"
    assert sorted(p.name for p in runs.iterdir()) == ["eta=0.1,seed=0", "eta=1,seed=0"]
    with SweepStore(tmp_path / "sw") as a, SweepStore(tmp_path / "plain") as b:
        boarded, plain = a.rows(), b.rows()

    def numbers(rows):  # every series but the seconds each epoch took
        return [{k: v for k, v in r["history"].items() if k != "epoch_seconds"} for r in rows]

    assert numbers(boarded) == numbers(plain)  # the same training, bit for bit
    for row in boarded:
        h = row["history"]
        steps, acc = scalars(runs / f"eta={row['params']['eta']:g},seed=0", "accuracy/validation")
        assert steps == [1, 2]
        np.testing.assert_allclose(acc, np.array(h["evaluation_accuracy"]) / h["n_evaluation"], rtol=1e-6)
        np.testing.assert_allclose(
            scalars(runs / f"eta={row['params']['eta']:g},seed=0", "cost/training")[1], h["training_cost"], rtol=1e-6
        )


def test_exploration_writes_a_run_per_training_named_by_the_run(tmp_path):
    splits = load_npz(NPZ)
    options = Options.make(quick=True, dataset=NPZ, epochs=2, overfit_epochs=3)
    nets = {}
    results = run_level3(
        options, splits, tensorboard=tmp_path / "runs", on_model=lambda name, net, record: nets.__setitem__(name, net)
    )
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(results["runs"])
    full = results["runs"]["full"]["history"]
    steps, acc = scalars(tmp_path / "runs" / "full", "accuracy/validation")
    assert steps == [1, 2]
    np.testing.assert_allclose(acc, np.array(full["evaluation_accuracy"]) / full["n_evaluation"], rtol=1e-6)
    ea = event_accumulator.EventAccumulator(
        str(tmp_path / "runs" / "full"), size_guidance={event_accumulator.HISTOGRAMS: 0}
    )
    ea.Reload()
    last = [h.histogram_value for h in ea.Histograms("weights/hidden1") if h.step == 2][0]
    trained = np.asarray(nets["full"].weights[0], np.float64)  # the histograms follow the trained net
    assert last.sum == pytest.approx(trained.sum(), rel=1e-9) and last.max == pytest.approx(trained.max())
    overfit = results["runs"]["overfit-lambda-0"]["history"]  # the book's demo watches the test set
    steps, acc = scalars(tmp_path / "runs" / "overfit-lambda-0", "accuracy/test")
    np.testing.assert_allclose(acc, np.array(overfit["evaluation_accuracy"]) / overfit["n_evaluation"], rtol=1e-6)


def test_explore_tensorboard_naming_a_file_is_one_line(tmp_path, capsys):
    afile = tmp_path / "runs"
    afile.write_text("x")
    code = main(
        [
            "explore",
            "level3",
            "--quick",
            "--dataset",
            NPZ,
            "--pictures",
            str(tmp_path / "p"),
            "--tensorboard",
            str(afile),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "is a file, not a folder" in err and err.count("\n") == 1
    assert not (tmp_path / "p").exists()  # refused before anything ran
