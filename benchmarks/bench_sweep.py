"""A 6-trial sweep three ways: serial (inline), a local pool of 2 processes, a 2-worker Dask cluster.

    .venv/bin/python benchmarks/bench_sweep.py                 # MNIST, 6 trials, 3 rounds
    .venv/bin/python benchmarks/bench_sweep.py --dataset tests/data/mnist_sample.npz --rounds 2

Each round runs the same 6 trials (eta 0.1-0.6, [784, 30, 10], cross-entropy, lambda 5,
a 10,000-image training subset, 3 epochs, the validation accuracy and training cost after
every epoch) through each runner in turn, each runner new for the round (so a pool's start
and each worker's first data load are paid every round, as a command-line sweep pays them).
It prints per runner the wall time, the speed-up over serial (measured within the round,
then the median over rounds), and two overheads:

* start: making the runner (a process pool: the fork server; Dask: connecting and the
  worker plugin) - paid once per sweep;
* per trial: (workers x wall - the trials' own seconds) / trials - what running a trial
  somewhere costs beyond training it: submitting, moving the result back, the worker's first
  data load spread over its trials, and idle workers at the end.

A 0-epoch variant (``--epochs 0``) measures the overheads alone. The Dask cluster is a
``LocalCluster`` on loopback, 2 worker processes with one thread each, started before the
rounds (its start is printed but not counted in a round). Results equal the serial ones
bit for bit; the benchmark checks that too. The machine is shared: trust the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="mnist", help="mnist (default, from the verified cache) or an .npz")
    p.add_argument("--rounds", type=int, default=3, help="rounds of serial / pool / Dask (default 3)")
    p.add_argument("--epochs", type=int, default=3, help="epochs per trial (default 3; 0: overheads alone)")
    p.add_argument("--train-size", type=int, default=10_000, help="training images per trial (default 10,000)")
    p.add_argument("--no-dask", action="store_true", help="leave out the Dask cluster")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return p.parse_args(argv)


def one_sweep(spec, runner, source, splits):
    """Run spec's trials on runner in a fresh store; (wall seconds, trial seconds, rows)."""
    from nndl.sweep import open_sweep, run_sweep

    with tempfile.TemporaryDirectory() as folder:
        store = open_sweep(folder, spec, source.dataset)
        start = time.perf_counter()
        run_sweep(spec, store, runner, runner.share(source, splits))
        wall = time.perf_counter() - start
        rows = store.rows()
        store.close()
    return wall, sum(r["seconds"] for r in rows), rows


def main(argv=None) -> int:
    args = parse_args(argv)
    from nndl.sweep import DataSource, InlineRunner, LocalRunner, SweepSpec

    spec = SweepSpec(
        values={
            "eta": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6),
            "sizes": ((784, 30, 10),),
            "epochs": (args.epochs,),
            "lmbda": (5.0,),
        },
        n_train=args.train_size,
    )
    source = DataSource.make(args.dataset)
    splits = source.load()
    n = len(spec.trials())
    cluster = None
    makers = {"serial": InlineRunner, "local pool (2 processes)": lambda: LocalRunner(2)}
    if not args.no_dask:
        from distributed import LocalCluster

        env = dict(os.environ)
        t = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        print(f"Dask LocalCluster (2 worker processes, 1 thread each) started in {time.perf_counter() - t:.1f} s")
        os.environ.clear()
        os.environ.update(env)  # LocalCluster sets OPENBLAS_NUM_THREADS & co. in this process; undo that
        from nndl.sweep.dask import DaskRunner

        makers["Dask, 2 workers"] = lambda: DaskRunner(cluster.scheduler_address)
    load = os.getloadavg()
    results = {name: {"wall": [], "start": [], "trial_seconds": [], "speedup": [], "per_trial": []} for name in makers}
    reference = None
    try:
        for r in range(args.rounds):
            serial_wall = None
            for name, make in makers.items():
                t = time.perf_counter()
                runner = make()
                start = time.perf_counter() - t
                with runner:
                    wall, busy, rows = one_sweep(spec, runner, source, splits)
                same = [(x["key"], x["history"]["training_cost"], x["validation_accuracy"]) for x in rows]
                if reference is None:
                    reference = same
                assert same == reference, f"{name}: results differ from the serial run"
                serial_wall = wall if serial_wall is None else serial_wall
                res = results[name]
                res["wall"].append(wall)
                res["start"].append(start)
                res["trial_seconds"].append(busy)
                res["speedup"].append(serial_wall / wall)
                res["per_trial"].append((runner.workers * wall - busy) / n)
                print(
                    f"round {r + 1}: {name:<26} wall {wall:6.2f} s (start {start:4.2f} s), trials' own "
                    f"{busy:6.2f} s, speed-up {serial_wall / wall:4.2f}x",
                    flush=True,
                )
    finally:
        if cluster is not None:
            cluster.close()
    med = statistics.median
    print(
        f"\n{n} trials: eta 0.1-0.6, [784, 30, 10], lambda 5, {args.train_size:,} training images, "
        f"{args.epochs} epochs; {args.rounds} rounds; load average before {load[0]:.2f}"
    )
    print(f"{'runner':<26} {'wall (median)':>13} {'speed-up':>9} {'start':>7} {'overhead/trial':>15}")
    for name, res in results.items():
        print(
            f"{name:<26} {med(res['wall']):>11.2f} s {med(res['speedup']):>8.2f}x {med(res['start']):>5.2f} s "
            f"{1000 * med(res['per_trial']):>12.0f} ms"
        )
    print("results identical to the serial run in every round: yes")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "trials": n,
                    "epochs": args.epochs,
                    "train_size": args.train_size,
                    "dataset": args.dataset,
                    "rounds": args.rounds,
                    "load_average_before": load,
                    "load_average_after": os.getloadavg(),
                    "runners": results,
                },
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
