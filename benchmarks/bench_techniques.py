"""What each technique of chapter 3 costs per epoch, against plain SGD, measured side by side.

    .venv/bin/python benchmarks/bench_techniques.py             # the table (make bench-techniques)
    .venv/bin/python benchmarks/bench_techniques.py --dtype float32 --repeats 5

Every variant trains the book's [784, 100, 10] network (cross-entropy, mini-batch 10, eta
0.5, lambda 5) for one epoch of MNIST's 50,000 training images from the same start, with
one technique switched on; variants run interleaved, round after round, so each round's
ratio to plain SGD compares runs that saw the same machine. Expanded data visits 250,000
rows an epoch: its ratio is also given per 50,000 rows. The engine used is named: the
windowed one takes plain SGD with L2 exactly (and so softmax, dropout, tanh/ReLU and the
schedule, which change nothing in its algebra); L1 and momentum go one mini-batch at a time.

Peak memory of a whole expanded-data run (``--memory``, in a child process) checks the
promise of at most 1 GiB: the 250,000 rows are made a window at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

VARIANTS = {  # name: (TrainConfig changes, what it shows)
    "plain SGD (network2)": ({}, "the baseline"),
    "softmax + log-likelihood": ({"cost": "log-likelihood"}, ""),
    "L1": ({"regularization": "l1"}, ""),
    "momentum 0.9": ({"momentum": 0.9, "eta": 0.05}, ""),
    "dropout 0.5": ({"dropout": 0.5}, ""),
    "tanh": ({"activation": "tanh", "eta": 0.1}, ""),
    "ReLU": ({"activation": "relu", "init": "he", "eta": 0.05}, ""),
    "halving schedule": ({"schedule": "halve"}, "needs validation accuracy each epoch"),
    "expanded data (shifts)": ({"expand": "shifts"}, "250,000 rows an epoch"),
    "rotations up to 10 degrees": ({"rotate": 10.0}, ""),
    "saturation monitor": ({}, "1,000 images after each epoch"),
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--memory", action="store_true", help="peak memory of a 1-epoch expanded-data run instead")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return p.parse_args(argv)


def engine_of(config) -> str:
    return "windowed" if config.fast_path else "one mini-batch at a time"


def table(args) -> dict:
    import numpy as np

    import nndl
    from nndl.data import load_mnist

    training, validation, _ = load_mnist()
    base = nndl.TrainConfig(epochs=1, dtype=args.dtype)
    seconds = {name: [] for name in VARIANTS}
    ratios = {name: [] for name in VARIANTS}
    for r in range(args.repeats):
        plain = None
        for name, (changes, _) in VARIANTS.items():
            config = base.replace(**changes)
            needs_val = config.watches_validation or name == "saturation monitor"
            start = time.perf_counter()
            _, h = nndl.train(
                config,
                training,
                validation if needs_val else None,
                monitor_evaluation_accuracy=needs_val,
                monitor_saturation=name == "saturation monitor",
            )
            total = time.perf_counter() - start  # the epoch and what it monitors
            seconds[name].append(total)
            plain = total if plain is None else plain
            ratios[name].append(total / plain)
        print(f"round {r + 1}/{args.repeats} done", file=sys.stderr, flush=True)
    rows = []
    for name, (changes, note) in VARIANTS.items():
        config = base.replace(**changes)
        s, q = np.asarray(seconds[name]), np.asarray(ratios[name])
        per_50k = float(np.median(q)) / (5 if config.expand == "shifts" else 1)
        rows.append(
            {
                "technique": name,
                "engine": engine_of(config),
                "median_s": float(np.median(s)),
                "min_s": float(s.min()),
                "ratio": float(np.median(q)),
                "ratio_per_50k_rows": per_50k,
                "note": note,
            }
        )
    return {
        "dtype": args.dtype,
        "repeats": args.repeats,
        "rows": rows,
        "numpy": np.__version__,
        "nndl": nndl.__version__,
        "load": open("/proc/loadavg").read().split()[:3],
    }


def memory_child() -> None:
    import nndl
    from nndl.data import load_mnist

    training, validation, _ = load_mnist()
    nndl.train(nndl.TrainConfig(epochs=1, expand="shifts"), training, validation)
    print(json.dumps({"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.memory:
        out = subprocess.run(
            [sys.executable, __file__, "--memory-child"], capture_output=True, text=True, check=True
        ).stdout
        result = json.loads(out)
        print(
            f"peak memory of a whole expanded-data run (load MNIST, 1 epoch of 250,000 rows, float64): "
            f"{result['peak_rss_mib']:.0f} MiB (limit 1,024 MiB)"
        )
    else:
        result = table(args)
        print(
            f"seconds for one epoch of 50,000 MNIST images, [784, 100, 10], {result['dtype']}, "
            f"median of {result['repeats']} interleaved rounds (load {' '.join(result['load'])})\n"
        )
        print(f"{'technique':<28} {'engine':<26} {'median s':>9} {'min s':>7} {'x plain':>8} {'x per 50k rows':>15}")
        for row in result["rows"]:
            print(
                f"{row['technique']:<28} {row['engine']:<26} {row['median_s']:>9.2f} {row['min_s']:>7.2f} "
                f"{row['ratio']:>8.2f} {row['ratio_per_50k_rows']:>15.2f}  {row['note']}"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--memory-child"]:
        memory_child()
    else:
        sys.exit(main())
