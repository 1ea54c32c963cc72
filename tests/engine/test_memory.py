"""nndl.memory: the estimate follows the engine (measured peaks within a factor of 1.5), the
machine's memory is read, and a refusal says both numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nndl import memory
from nndl.errors import ResourceError

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
# VmHWM, the peak resident memory of this process image (ru_maxrss would include the parent's
# peak inherited at fork: pytest's own, after a few hundred tests).
PEAK = (
    "import sys; from nndl.cli import main; code = main(sys.argv[1:]); "
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]; "
    "print(int(hwm.split()[1]) * 1024, file=sys.stderr); sys.exit(code)"
)


def peak_rss(*args) -> int:
    proc = subprocess.run([sys.executable, "-c", PEAK, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def baseline() -> int:
    """A run of the same command on a tiny network: the libraries and the data set, measured the same way."""
    return peak_rss("train", "--dataset", NPZ, "--sizes", "784,2,10", "--epochs", "1", "-q")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
@pytest.mark.parametrize("sizes, m, dtype", [("784,3000,10", 10, "float64"), ("784,1500,200,10", 500, "float32")])
def test_the_estimate_is_within_a_factor_of_1_5_of_the_measured_peak(tmp_path, baseline, sizes, m, dtype):
    measured = (
        peak_rss(
            "train",
            "--dataset",
            NPZ,
            "--sizes",
            sizes,
            "--epochs",
            "1",
            "--mini-batch-size",
            str(m),
            "--dtype",
            dtype,
            "--save",
            str(tmp_path / "m.json"),
            "-q",
        )
        - baseline
    )
    est = memory.training_estimate(
        [int(s) for s in sizes.split(",")], m, 1667, 500, itemsize=4 if dtype == "float32" else 8
    ).total
    assert measured / 1.5 < est < measured * 1.5, (memory.human(est), memory.human(measured))


def test_the_estimate_grows_with_what_drives_memory():
    e = lambda *a, **k: memory.training_estimate(*a, **k).total  # noqa: E731
    assert e([784, 100, 10], 10, 50_000) < e([784, 1000, 10], 10, 50_000)  # wider layers
    assert e([784, 100, 10], 10, 50_000, itemsize=4) < e([784, 100, 10], 10, 50_000)  # float32
    assert e([784, 100, 10], 10, 50_000) < e([784, 100, 10], 5_000, 50_000)  # larger mini-batches
    assert e([784, 100, 10], 10**30, 1_000) == e([784, 100, 10], 1_000, 1_000)  # capped at the data set
    assert e([784, 10**30, 10], 10, 10) > 10**30  # Python ints: no overflow


def test_the_machine_s_memory_is_read():
    assert memory.total() > 2**28 and 0 < memory.available() <= memory.total()


def test_require_says_the_estimate_and_the_machine(monkeypatch):
    est = memory.training_estimate([784, 10**7, 10], 10, 50_000, 10_000)
    with pytest.raises(
        ResourceError,
        match=r"^training it needs about [\d.]+ TiB \(weights [\d.]+ GiB; at the "
        r"peak, training \(window buffers and an evaluation pass\) [\d.]+ TiB\), "
        r"more than the 1\.0 GiB available now \([\d.]+ [GMT]iB in all\); try less$",
    ):
        memory.require(est, "training it", hint="; try less", free=2**30)
    assert isinstance(ResourceError("x"), MemoryError)
    memory.require(memory.Estimate({"x": 10}), "small", free=100)  # fits: nothing happens
    monkeypatch.setattr(memory, "available", lambda: None)
    memory.require(est, "unknown machine")  # cannot tell: NumPy's MemoryError stays the last guard


def test_human():
    assert [memory.human(n) for n in (0, 1023, 1024, 1536, 2**30 * 1.5, 2**60 * 5000)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "1.5 KiB",
        "1.5 GiB",
        "5.1e+06 PiB",
    ]
