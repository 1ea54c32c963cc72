"""The Level 3 document's section 5.1 snippet, run as written, with the other core busy.

    .venv/bin/python benchmarks/bench_snippet.py [--epochs 30] [--repeats 1]

This is how the book's code once failed to be fast: ``import network2`` as a learner runs it
leaves OpenBLAS at its default thread count, and on a two-core machine whose other core is
busy the thin mini-batch products then wait for a core. Training now runs its loop with one
BLAS thread unless the user chose a count (``nndl.blas``, scoped to the loop). Three children
run one after another, each while a fourth process keeps one core busy:

* the snippet as written (``import mnist_loader, network2``; ``net.SGD(...)``), nothing set;
* the same with ``OPENBLAS_NUM_THREADS=2`` - what a library call used to get;
* ``nndl train`` with the same configuration - the command line.

Printed: each one's seconds in ``SGD`` (the snippet) or in training (the command line), and
the ratios. The snippet's own lines (``Epoch 0 training complete`` ...) are kept in the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

SNIPPET = """
import time
import mnist_loader
import network2

training_data, validation_data, test_data = mnist_loader.load_data_wrapper()

net = network2.Network([784, 100, 10], cost=network2.CrossEntropyCost)
start = time.perf_counter()
net.SGD(training_data, epochs={epochs}, mini_batch_size=10, eta=0.5, lmbda=5.0,
        evaluation_data=validation_data, monitor_evaluation_accuracy=True)
print("SECONDS", time.perf_counter() - start)
"""

BUSY = "import numpy as np\na = np.random.rand(600, 600)\nwhile True:\n    a @ a\n"


def run_child(argv, env, cwd):
    start = time.perf_counter()
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - start
    seconds = next((float(line.split()[1]) for line in out.splitlines() if line.startswith("SECONDS")), wall)
    return seconds, wall, out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=30, help="the snippet's epochs (default 30, as written)")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)

    base_env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")
    }
    code = SNIPPET.format(epochs=args.epochs)
    nndl_bin = str(Path(sys.executable).with_name("nndl"))
    variants = {
        "snippet as written": ([sys.executable, "-c", code], base_env, SRC),
        "snippet, OPENBLAS_NUM_THREADS=2": (
            [sys.executable, "-c", code],
            {**base_env, "OPENBLAS_NUM_THREADS": "2"},
            SRC,
        ),
        "nndl train (command line)": ([nndl_bin, "train", "--epochs", str(args.epochs), "--quiet"], base_env, SRC),
    }
    results = {name: [] for name in variants}
    busy = subprocess.Popen([sys.executable, "-c", BUSY], env={**base_env, "OPENBLAS_NUM_THREADS": "1"})
    try:
        time.sleep(1.0)
        for _ in range(args.repeats):
            for name, (cmd, env, cwd) in variants.items():
                seconds, wall, out = run_child(cmd, env, cwd)
                results[name].append({"seconds": seconds, "wall": wall, "last_lines": out.strip().splitlines()[-3:]})
                print(f"{name:<34} {seconds:7.1f} s training ({wall:.1f} s with start-up and data)", flush=True)
    finally:
        busy.kill()
    med = {name: sorted(v["seconds"] for v in runs)[len(runs) // 2] for name, runs in results.items()}
    a, b, c = med.values()
    print(
        f"\nwith the other core busy: the snippet as written takes {a:.1f} s, {b / a:.1f}x less than with two "
        f"BLAS threads ({b:.1f} s), and {a / c:.2f}x the command line's {c:.1f} s"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"epochs": args.epochs, "results": results, "median": med}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
