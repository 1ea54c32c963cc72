"""The full `nndl explore level4` run's time on this machine, estimated from measured epochs.

    .venv/bin/python benchmarks/level4_estimate.py [--images 2000] [--out docs/level4/estimate.json]

Each training of the exploration (its config as `nndl.explore.level4.configs` makes it for the
full run) trains one epoch on the first IMAGES training images of MNIST (5x that with expanded
data), measured in CPU seconds (`time.process_time`, one BLAS thread: steadier than wall time
on a shared machine); the epoch is scaled to the 50,000 images of the full run and to the row's
cap of epochs. An upper bound on one core: early stopping ends rows sooner, and two workers
run two trainings at once. Validation (10,000 images an epoch) is measured apart and added.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from nndl.augment import get_expansion
from nndl.blas import blas_threads
from nndl.data import load_dataset
from nndl.engine.training import train
from nndl.explore.level4 import FULL_TRAINING, Options, configs
from nndl.fileio import atomic_write_text


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=2000)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    splits = load_dataset("mnist")
    training = splits.training.head(args.images)
    rows, total = {}, 0.0
    with blas_threads():
        for key, config in configs(Options.make()).items():
            if key.startswith("ensemble-"):
                rows[key] = dict(rows["dropout"])  # the same network, another seed
                total += rows[key]["seconds"]
                continue
            t = time.process_time()
            net, _ = train(config.replace(epochs=1, early_stopping=None), training, None)
            train_s = time.process_time() - t
            t = time.process_time()
            net.accuracy(splits.validation)
            eval_s = time.process_time() - t
            factor = get_expansion(config.expand).factor
            epoch = train_s * FULL_TRAINING / args.images + eval_s  # an epoch of 50,000 (x factor)
            rows[key] = {
                "measured_cpu_seconds": round(train_s, 2),
                "rows_measured": args.images * factor,
                "epoch_cpu_seconds": round(epoch, 1),
                "epochs_cap": config.epochs,
                "seconds": round(epoch * config.epochs, 0),
            }
            total += rows[key]["seconds"]
            print(
                f"{key:<12} {train_s:6.2f} s CPU for {args.images * factor:,} rows -> {epoch:7.1f} s an epoch "
                f"of {FULL_TRAINING * factor:,} rows; cap {config.epochs} epochs: {epoch * config.epochs / 60:6.1f} min",
                flush=True,
            )
    out = {
        "rows": rows,
        "total_cpu_seconds_one_core": round(total),
        "images_measured": args.images,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    print(f"total, one core, every cap reached: {total / 3600:.1f} h; two workers: about {total / 7200:.1f} h")
    if args.out:
        atomic_write_text(args.out, json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
