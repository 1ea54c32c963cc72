"""The book's two-conv network, nndl against PyTorch on one CPU thread each, side by side.

    .venv/bin/python benchmarks/bench_conv.py [--images 5000] [--rounds 5] [--mini-batch 10,64]
        [--dtype float32] [--torch-python /work/torchvenv/bin/python] [--json PATH]

PyTorch is never a dependency of nndl: it lives in a separate virtual environment, e.g.
``python3 -m venv ~/torchvenv && ~/torchvenv/bin/pip install torch numpy``; ``--torch-python``
names its interpreter (default: ``$NNDL_TORCH_PYTHON``, else this interpreter if it can import
torch).

The network (chapter 6, the book's ``dbl_conv_relu``): conv 20 maps 5x5 -> max-pool 2 -> conv 40
maps 5x5 -> max-pool 2 -> fully connected 100 ReLU -> softmax 10, ReLU in the conv layers too,
log-likelihood cost, plain SGD (eta 0.03), no regularization. nndl: ``Conv``/``Pool``/``Dense``
layers in (batch, height, width, channels); PyTorch: ``Conv2d``/``MaxPool2d``/``Linear`` in
(batch, channels, height, width), ``CrossEntropyLoss`` (softmax + log-likelihood, mean over the
mini-batch), ``torch.optim.SGD``. Both in the same dtype (float32 by default, PyTorch's own).

Each measurement is a fresh process (so its peak memory is its own) that builds the network,
trains 20 mini-batches to warm up, then trains one pass over ``--images`` images (the book's
MNIST images from ``tests/data/mnist_sample.npz``, repeated; the speed does not depend on which
digits) and evaluates 10,000 images. Times are CPU seconds (``time.process_time``: steadier
than wall time on a shared machine), training scaled to an epoch of 50,000 images. One thread
each: ``threadpoolctl`` limits BLAS to one thread in nndl, ``torch.set_num_threads(1)`` and the
``*_NUM_THREADS`` variables in both. The two run interleaved, round after round, the order
alternating; the table gives each side's median and range over the rounds and the ratio
nndl/PyTorch of the medians, with the range of the per-round ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "mnist_sample.npz"
EPOCH = 50_000  # images in an epoch of the book's MNIST training set
EVAL = 10_000  # images evaluated (the test set's size)
WARMUP = 20  # mini-batches trained before the clock starts
ETA = 0.03
THREADS_ENV = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def images(n: int):
    """``n`` images (n, 28, 28) float in [0, 1] and labels (n,), the sample's training images repeated."""
    import numpy as np

    with np.load(SAMPLE) as d:
        x, y = d["train_images"], d["train_labels"]  # (2000, 28, 28) uint8, (2000,)
    reps = -(-n // len(x))
    return (np.tile(x, (reps, 1, 1))[:n] / 255.0), np.tile(y, reps)[:n].astype(np.int64)


def peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# -- the workers: one measurement each, printed as one JSON line ---------------------------------


def work_nndl(n: int, m: int, dtype: str) -> dict:
    """nndl's training loop as ``fit`` runs it (windows of mini-batches gathered by ``np.take``,
    ``GradientDescent.step``), without fit's per-epoch checks on 1,000 probe images."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from nndl.engine.network import Network
    from nndl.engine.rules import GradientDescent

    X, y = images(n)
    X = X.reshape(n, 784).astype(dtype)  # (n, 784) rows, as fit takes them
    Xe, _ = images(EVAL)
    Xe = Xe.reshape(EVAL, 784).astype(dtype)
    specs = [
        {"kind": "conv", "maps": 20, "kernel": 5, "activation": "relu"},
        {"kind": "pool", "size": 2},
        {"kind": "conv", "maps": 40, "kernel": 5, "activation": "relu"},
        {"kind": "pool", "size": 2},
        {"kind": "dense", "n": 100, "activation": "relu"},
        {"kind": "dense", "n": 10},
    ]
    with threadpool_limits(1):
        net = Network.stack((28, 28, 1), specs, "log-likelihood", init="he", dtype=dtype, rng=0)
        T = np.eye(10, dtype=dtype)[y]  # (n, 10) one-hot
        rule = GradientDescent(ETA, 0.0, n)
        ws = rule.workspace(net, m)

        def train(order):
            for lo in range(0, len(order), ws.rows):
                idx = order[lo : lo + ws.rows]
                np.take(X, idx, axis=0, out=ws.X[: len(idx)])  # (rows, 784)
                np.take(T, idx, axis=0, out=ws.T[: len(idx)])  # (rows, 10)
                rule.step(net, ws, len(idx))

        with np.errstate(over="ignore"):
            train(np.random.default_rng(2).permutation(n)[: WARMUP * m])
            order = np.random.default_rng(1).permutation(n)
            start = time.process_time()
            train(order)
            seconds = time.process_time() - start
            start = time.process_time()
            pred = net.predict(Xe)
            evaluate = time.process_time() - start
    return {"train_s": seconds, "eval_s": evaluate, "peak_mib": peak_mib(), "check": int(pred[:100].sum())}


def work_torch(n: int, m: int, dtype: str) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    tdt = {"float32": torch.float32, "float64": torch.float64}[dtype]
    X, y = images(n)
    X = torch.from_numpy(X.reshape(n, 1, 28, 28)).to(tdt)  # (n, channels, height, width)
    y = torch.from_numpy(y)
    Xe, _ = images(EVAL)
    Xe = torch.from_numpy(Xe.reshape(EVAL, 1, 28, 28)).to(tdt)
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 20, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(20, 40, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(640, 100),
        nn.ReLU(),
        nn.Linear(100, 10),
    ).to(tdt)
    opt = torch.optim.SGD(net.parameters(), lr=ETA)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.from_numpy(np.random.default_rng(1).permutation(n))

    def step(idx):
        opt.zero_grad()
        loss_fn(net(X[idx]), y[idx]).backward()
        opt.step()

    for k in range(WARMUP):
        step(order[k * m : (k + 1) * m])
    start = time.process_time()
    for lo in range(0, n, m):
        step(order[lo : lo + m])
    train = time.process_time() - start
    start = time.process_time()
    with torch.no_grad():
        pred = torch.cat([net(Xe[i : i + 1000]).argmax(1) for i in range(0, EVAL, 1000)])
    evaluate = time.process_time() - start
    return {"train_s": train, "eval_s": evaluate, "peak_mib": peak_mib(), "check": int(pred[:100].sum())}


# -- the orchestrator ----------------------------------------------------------------------------


def torch_python(given: str | None) -> str | None:
    for candidate in (given, os.environ.get("NNDL_TORCH_PYTHON"), sys.executable):
        if candidate and subprocess.run([candidate, "-c", "import torch"], capture_output=True).returncode == 0:
            return candidate
    return None


def measure(python: str, side: str, n: int, m: int, dtype: str) -> dict:
    cmd = [python, __file__, "--worker", side, "--images", str(n), "--mini-batch", str(m), "--dtype", dtype]
    env = {**os.environ, **THREADS_ENV, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"bench_conv: the {side} worker failed:\n{done.stderr[-2000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["epoch_s"] = out["train_s"] * EPOCH / n
    return out


def summary(values) -> str:
    return f"{statistics.median(values):6.2f} ({min(values):.2f}-{max(values):.2f})"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=5000, help="images trained per measurement (default 5000)")
    p.add_argument("--rounds", type=int, default=5, help="rounds, each measuring both sides (default 5)")
    p.add_argument("--mini-batch", default="10,64", help="mini-batch sizes, comma-separated (default 10,64)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--torch-python", help="the interpreter of a venv with torch (default: $NNDL_TORCH_PYTHON)")
    p.add_argument("--json", metavar="PATH", help="also write every measurement as JSON")
    p.add_argument("--worker", choices=["nndl", "torch"], help=argparse.SUPPRESS)
    a = p.parse_args(sys.argv[1:] if argv is None else argv)
    sizes = [int(s) for s in a.mini_batch.split(",")]
    if a.worker:
        work = work_nndl if a.worker == "nndl" else work_torch
        print(json.dumps(work(a.images, sizes[0], a.dtype)))
        return 0
    tpy = torch_python(a.torch_python)
    if tpy is None:
        print("bench_conv: PyTorch is not importable; give --torch-python (see the docstring)", file=sys.stderr)
        return 2
    print(
        f"bench_conv: {a.images:,} images a measurement, scaled to {EPOCH:,} an epoch; {a.rounds} rounds; "
        f"{a.dtype}; load average before: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    runs = {m: {"nndl": [], "torch": []} for m in sizes}
    for r in range(a.rounds):
        for m in sizes:
            sides = ["nndl", "torch"] if r % 2 == 0 else ["torch", "nndl"]
            for side in sides:
                runs[m][side].append(measure(sys.executable if side == "nndl" else tpy, side, a.images, m, a.dtype))
            print(
                f"  round {r + 1}, mini-batch {m}: nndl {runs[m]['nndl'][-1]['epoch_s']:.2f} s, "
                f"PyTorch {runs[m]['torch'][-1]['epoch_s']:.2f} s an epoch",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}\n")
    print(
        "| mini-batch | nndl s/epoch | PyTorch s/epoch | nndl/PyTorch | per-round ratios | "
        "eval 10,000 nndl / PyTorch (s) | peak MiB nndl / PyTorch |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for m in sizes:
        a_, b_ = runs[m]["nndl"], runs[m]["torch"]
        ea, eb = [x["epoch_s"] for x in a_], [x["epoch_s"] for x in b_]
        ratios = [x / y for x, y in zip(ea, eb)]
        print(
            f"| {m} | {summary(ea)} | {summary(eb)} | {statistics.median(ea) / statistics.median(eb):.2f} | "
            f"{min(ratios):.2f}-{max(ratios):.2f} | {statistics.median([x['eval_s'] for x in a_]):.2f} / "
            f"{statistics.median([x['eval_s'] for x in b_]):.2f} | {max(x['peak_mib'] for x in a_):.0f} / "
            f"{max(x['peak_mib'] for x in b_):.0f} |"
        )
    if a.json:
        Path(a.json).write_text(
            json.dumps(
                {
                    "images": a.images,
                    "rounds": a.rounds,
                    "dtype": a.dtype,
                    "runs": {str(m): v for m, v in runs.items()},
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
