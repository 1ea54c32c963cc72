"""Seconds per training epoch on real MNIST: the engine against network2's loop and PyTorch.

    .venv/bin/python benchmarks/bench_epoch.py                # the epoch table (make bench)
    .venv/bin/python benchmarks/bench_epoch.py --full         # the 30-epoch run of section 5.1
    .venv/bin/python benchmarks/bench_epoch.py --levers       # what each optimization gives
    .venv/bin/python benchmarks/bench_epoch.py --compare-threads   # 1 vs 2 BLAS threads

The configuration is section 5.1's (Level 3: Improved Neural Network Techniques): [784, 100,
10], cross-entropy, mini-batch 10, eta 0.5, lmbda 5, trained on the 50,000 training images. The
machine this was written on is shared and noisy (the same code varied 1.0-4.5 s an epoch), so
variants run interleaved, round after round, and the table gives the median, the minimum and
the spread; ratios are taken within each round, where the variants saw the same machine, and
their median reported.

BLAS threads are fixed before NumPy loads (``--threads``, default 1: the engine's
products are small, and on a busy two-core machine a second BLAS thread waits for a core
far longer than it saves). PyTorch gets the same count through ``torch.set_num_threads``.
See benchmarks/README.md for figures and what each lever gave.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

N_TRAIN, MINI_BATCH, ETA, LMBDA = 50_000, 10, 0.5, 5.0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="rounds of interleaved epochs (default 5)")
    p.add_argument(
        "--threads", type=int, default=None, help="BLAS/torch threads (default: $OPENBLAS_NUM_THREADS, else 1)"
    )
    p.add_argument(
        "--baseline-examples",
        type=int,
        default=5000,
        help="examples the per-example baseline trains on per round, scaled to an epoch",
    )
    p.add_argument(
        "--variants",
        default="nndl64,nndl32,plain64,plain32,network2,torch32,torch64",
        help="comma-separated subset of nndl64,nndl32,plain64,plain32,network2,torch32,torch64",
    )
    p.add_argument("--full", action="store_true", help="time the 30-epoch run of section 5.1 instead")
    p.add_argument("--dtype", default="float64", help="dtype of the --full run (float64 or float32)")
    p.add_argument("--levers", action="store_true", help="time the optimizations one by one instead")
    p.add_argument(
        "--compare-threads",
        action="store_true",
        help="time the engine with 1 and 2 BLAS threads, in alternating child processes",
    )
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    if args.repeats < 1 or args.baseline_examples < MINI_BATCH:
        p.error("--repeats must be >= 1 and --baseline-examples >= 10")
    return args


def set_threads(threads):
    """Pin BLAS threads through the environment; must run before NumPy is imported."""
    if threads is None:
        threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    return threads


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_avg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def summary(values):
    import numpy as np

    v = np.asarray(values, dtype=float)
    return {
        "median": float(np.median(v)),
        "min": float(v.min()),
        "max": float(v.max()),
        "runs": [round(float(x), 4) for x in v],
    }


def write_json(path, result):
    if path:
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=2)
        os.replace(tmp, path)


# --- the epoch table -----------------------------------------------------------------------


def make_variants(names, splits, threads, baseline_examples):
    """name -> (label, run(round) -> seconds per epoch, accuracy() -> validation count or None)."""
    import numpy as np
    from references import Network2PerExample, PlainVectorized, TorchNet

    import nndl

    train, val = splits.training, splits.validation
    start = nndl.Network([784, 100, 10], "cross-entropy", rng=0)
    w0, b0 = [w.copy() for w in start.weights], [b.copy() for b in start.biases]
    variants = {}
    images = {}  # one converted copy of the training images per dtype, shared by the variants

    def images_as(dtype):
        if dtype not in images:
            images[dtype] = np.ascontiguousarray(train.images, dtype=dtype)  # (50000, 784)
        return images[dtype]

    for name, dtype in (("nndl64", "float64"), ("nndl32", "float32")):
        if name not in names:
            continue
        net = nndl.Network([784, 100, 10], "cross-entropy", dtype=dtype, rng=0)
        # checked once, outside the timing; float64 keeps MNIST's float32 images (exact) and
        # widens them a window at a time, as nndl.train does with load_mnist()'s data
        ex = net.examples((train.images, train.labels))

        def run(r, net=net, ex=ex):
            return nndl.sgd(net, ex, 1, MINI_BATCH, ETA, LMBDA, rng=1000 + r).epoch_seconds[0]

        variants[name] = (f"nndl engine, {dtype}", run, lambda net=net: net.accuracy(val))

    for name, dtype in (("plain64", "float64"), ("plain32", "float32")):
        if name not in names:
            continue
        plain = PlainVectorized(w0, b0, MINI_BATCH, dtype)
        X, T = images_as(dtype), np.eye(10, dtype=dtype)[train.labels]  # (50000, 784), (50000, 10)
        decay = 1.0 - ETA * LMBDA / N_TRAIN

        def run(r, plain=plain, X=X, T=T, decay=decay):
            order = np.random.default_rng(1000 + r).permutation(len(X))
            t0 = time.perf_counter()
            plain.epoch(X, T, order, ETA, decay)
            return time.perf_counter() - t0

        variants[name] = (f"plain vectorized (batched products, eager decay), {dtype}", run, lambda: None)

    if "network2" in names:
        X = images_as("float64")
        eye = np.eye(10)
        pairs = [(X[i].reshape(784, 1), eye[train.labels[i]].reshape(10, 1)) for i in range(len(X))]
        ref = Network2PerExample(w0, b0)
        scale = len(X) / baseline_examples

        def run(r):
            order = np.random.default_rng(2000 + r).permutation(len(pairs))[:baseline_examples]
            t0 = time.perf_counter()
            ref.run(pairs, order, MINI_BATCH, ETA, LMBDA, N_TRAIN)
            return (time.perf_counter() - t0) * scale

        variants["network2"] = (
            f"network2 per-example, float64 ({baseline_examples:,} examples x {scale:g})",
            run,
            lambda: None,
        )

    torch_names = [n for n in ("torch32", "torch64") if n in names]
    if torch_names:
        try:
            import torch
        except ImportError:
            print(
                "PyTorch is not importable: the torch rows are skipped "
                "(.venv/bin/pip install torch==2.13.0, a CPU build, to add them)"
            )
            torch = None
        if torch is not None:
            torch.set_num_threads(threads)
            for name in torch_names:
                dtype = "float32" if name == "torch32" else "float64"
                tnet = TorchNet(w0, b0, ETA, LMBDA, N_TRAIN, dtype)
                tX = torch.from_numpy(images_as(dtype))
                tY = torch.nn.functional.one_hot(torch.as_tensor(train.labels), 10).to(tnet.dtype)
                vX = torch.as_tensor(np.ascontiguousarray(val.images, dtype=dtype))
                vy = torch.as_tensor(val.labels)
                gen = torch.Generator().manual_seed(3000)

                def run(r, tnet=tnet, tX=tX, tY=tY, gen=gen):
                    t0 = time.perf_counter()
                    tnet.epoch(tX, tY, MINI_BATCH, gen)
                    return time.perf_counter() - t0

                variants[name] = (
                    f"PyTorch {torch.__version__} CPU, {dtype}",
                    run,
                    lambda tnet=tnet, vX=vX, vy=vy: tnet.accuracy(vX, vy),
                )
    return variants


def check_same_math(splits, steps=20) -> dict:
    """Train every variant ``steps`` mini-batches on the same examples; compare with the engine.

    Shows that the rows of the table compute one thing: the largest difference of any
    parameter, relative to that parameter array's largest entry, from nndl in float64.
    """
    import numpy as np
    from references import Network2PerExample, PlainVectorized, TorchNet

    import nndl

    idx = np.random.default_rng(7).permutation(N_TRAIN)[: steps * MINI_BATCH]
    X = splits.training.images[idx].astype(np.float64)  # (steps*m, 784)
    T = np.eye(10)[splits.training.labels[idx]]  # (steps*m, 10)
    rule = nndl.GradientDescent(ETA, LMBDA, N_TRAIN)

    def engine(dtype):
        net = nndl.Network([784, 100, 10], dtype=dtype, rng=0)
        ws = rule.workspace(net, MINI_BATCH)
        with np.errstate(over="ignore"):
            for lo in range(0, len(X), ws.rows):
                rows = min(ws.rows, len(X) - lo)
                ws.X[:rows], ws.T[:rows] = X[lo : lo + rows], T[lo : lo + rows]
                rule.step(net, ws, rows)
        return net.weights, net.biases

    ref_w, ref_b = engine("float64")
    start = nndl.Network([784, 100, 10], rng=0)
    got = {"nndl32": engine("float32")}
    book = Network2PerExample(start.weights, start.biases)
    for lo in range(0, len(X), MINI_BATCH):
        book.update_mini_batch(
            [(x.reshape(-1, 1), t.reshape(-1, 1)) for x, t in zip(X[lo : lo + MINI_BATCH], T[lo : lo + MINI_BATCH])],
            ETA,
            LMBDA,
            N_TRAIN,
        )
    got["network2"] = (book.weights, book.biases)
    for name, dtype in (("plain64", np.float64), ("plain32", np.float32)):
        plain = PlainVectorized(start.weights, start.biases, MINI_BATCH, dtype)
        with np.errstate(over="ignore"):
            for lo in range(0, len(X), MINI_BATCH):
                plain.a[0][...], plain.t[...] = X[lo : lo + MINI_BATCH], T[lo : lo + MINI_BATCH]
                plain.step(ETA, 1.0 - ETA * LMBDA / N_TRAIN)
        got[name] = (plain.weights, plain.biases)
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        for name, dtype in (("torch64", "float64"), ("torch32", "float32")):
            tnet = TorchNet(start.weights, start.biases, ETA, LMBDA, N_TRAIN, dtype)
            for lo in range(0, len(X), MINI_BATCH):
                tnet.step(
                    torch.as_tensor(X[lo : lo + MINI_BATCH]).to(tnet.dtype),
                    torch.as_tensor(T[lo : lo + MINI_BATCH]).to(tnet.dtype),
                )
            got[name] = tnet.parameters()
    diffs = {}
    for name, (ws_, bs_) in got.items():
        diffs[name] = max(
            float(np.abs(np.asarray(a, np.float64) - r).max() / np.abs(r).max())
            for a, r in zip(list(ws_) + list(bs_), list(ref_w) + list(ref_b))
        )
    print(
        f"same math: after {steps} identical mini-batches, largest relative difference from nndl float64: "
        + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items())
    )
    return diffs


RATIOS = [
    ("plain64", "nndl64"),
    ("plain32", "nndl32"),
    ("network2", "nndl64"),
    ("network2", "nndl32"),
    ("torch32", "nndl32"),
    ("torch64", "nndl64"),
    ("torch32", "nndl64"),
    ("nndl64", "nndl32"),
]


def epoch_table(args, threads) -> dict:
    import numpy as np

    from nndl.data import load_mnist

    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    t0 = time.perf_counter()
    splits = load_mnist()
    print(f"MNIST loaded in {time.perf_counter() - t0:.2f} s: {len(splits.training.images):,} training images")
    same_math = check_same_math(splits)
    variants = make_variants(names, splits, threads, args.baseline_examples)
    times = {k: [] for k in variants}
    keys = list(variants)
    load_before = load_avg()
    print(
        f"{args.repeats} rounds, variants interleaved (order rotates each round); "
        f"BLAS threads {threads}; load average {load_before}"
    )
    for r in range(args.repeats):
        order = keys[r % len(keys) :] + keys[: r % len(keys)]
        for k in order:
            times[k].append(variants[k][1](r))
        print(f"  round {r + 1}: " + ", ".join(f"{k} {times[k][-1]:.3f}" for k in keys), flush=True)
    load_after = load_avg()

    result = {
        "threads": threads,
        "repeats": args.repeats,
        "numpy": np.__version__,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "same_math_max_relative_difference": same_math,
        "variants": {},
    }
    print(f"\nseconds per epoch (50,000 images, mini-batch 10), {args.repeats} rounds:")
    print(f"  {'variant':58s} {'median':>7s} {'min':>7s} {'max':>7s}  val. acc. after")
    for k in keys:
        label, _, accuracy = variants[k]
        s = summary(times[k])
        acc = accuracy()
        s.update(label=label, validation_accuracy=acc)
        result["variants"][k] = s
        acc_text = f"{acc / 100:.2f} % ({args.repeats} epochs)" if acc is not None else "-"
        print(f"  {label:58s} {s['median']:7.3f} {s['min']:7.3f} {s['max']:7.3f}  {acc_text}")

    print("\nratios within each round (median [min - max] of the per-round ratios):")
    result["ratios"] = {}
    for slow, fast in RATIOS:
        if slow in times and fast in times:
            per_round = [a / b for a, b in zip(times[slow], times[fast])]
            s = summary(per_round)
            result["ratios"][f"{slow}/{fast}"] = s
            print(f"  {slow:>9s} / {fast:<7s} {s['median']:7.2f}x  [{s['min']:.2f} - {s['max']:.2f}]")
    spread = {k: v["max"] / v["min"] for k, v in result["variants"].items()}
    worst = max(spread, key=spread.get)
    print(
        f"\nnoise: load average {load_before} before, {load_after} after; the widest spread is "
        f"{worst}'s, max/min = {spread[worst]:.2f}"
    )
    result["peak_rss_mib"] = peak_rss_mib()
    print(f"peak memory of this run (ru_maxrss, all variants and data together): {result['peak_rss_mib']:.0f} MiB")
    return result


# --- the 30-epoch run of section 5.1 ------------------------------------------------------------


def full_run(args, threads) -> dict:
    import numpy as np

    import nndl
    from nndl.data import load_mnist

    config = nndl.TrainConfig(dtype=args.dtype)
    t_start = time.perf_counter()
    splits = load_mnist()
    t_loaded = time.perf_counter()
    print(f"section 5.1 run: {config.to_dict()}; BLAS threads {threads}; load average {load_avg()}")

    t_conv = time.perf_counter()  # what checking the data costs inside train (measured here apart)
    nndl.as_examples(splits.training, 784, 10, np.dtype(args.dtype).type, "training")
    conversion = time.perf_counter() - t_conv

    marks = []

    def on_epoch(r):
        marks.append(time.perf_counter())
        print(
            f"  epoch {r.epoch:2d}/{r.epochs}: {r.seconds:.3f} s training, "
            f"validation {r.evaluation_accuracy / r.n_evaluation:.2%}",
            flush=True,
        )

    t0 = time.perf_counter()
    net, history = nndl.train(config, splits.training, splits.validation, on_epoch=on_epoch)
    total = time.perf_counter() - t0
    test = net.accuracy(splits.test)
    epochs = history.epoch_seconds
    val = [a / history.n_evaluation for a in history.evaluation_accuracy]
    result = {
        "config": config.to_dict(),
        "threads": threads,
        "train_call_seconds": total,
        "epoch_seconds": summary(epochs),
        "epochs_total_seconds": sum(epochs),
        "other_seconds": total - sum(epochs),
        "conversion_seconds": conversion,
        "load_seconds": t_loaded - t_start,
        "validation_accuracy": val,
        "final_validation_accuracy": val[-1],
        "best_validation_accuracy": max(val),
        "test_accuracy": test / len(splits.test.labels),
        "peak_rss_mib": peak_rss_mib(),
    }
    print(f"\nnndl.train, 30 epochs with validation accuracy each epoch: {total:.2f} s in all")
    print(f"  training epochs: {sum(epochs):.2f} s (median {np.median(epochs):.3f} s, min {min(epochs):.3f} s)")
    print(
        f"  everything else: {total - sum(epochs):.2f} s (checking the training set "
        f"alone: {conversion:.2f} s; 30 validation passes)"
    )
    print(f"  (loading MNIST from the cache before it: {t_loaded - t_start:.2f} s)")
    print(
        f"validation accuracy: final {val[-1]:.2%}, best {max(val):.2%} (epoch {val.index(max(val)) + 1}); "
        f"test accuracy {test / len(splits.test.labels):.2%}"
    )
    print(f"peak memory (ru_maxrss): {result['peak_rss_mib']:.0f} MiB")
    return result


# --- the levers, one by one ------------------------------------------------------------------


def lever_table(args, threads) -> dict:
    """Each optimization switched on in turn, in one loop written like nndl.sgd's."""
    import numpy as np
    from references import PlainVectorized

    import nndl
    from nndl.data import load_mnist
    from nndl.engine.windowed import WindowWorkspace, descend_window

    splits = load_mnist()
    decay = 1.0 - ETA * LMBDA / N_TRAIN
    print(f"levers: {args.repeats} rounds interleaved; BLAS threads {threads}; load average {load_avg()}")
    steps = {}
    for dtype in ("float64", "float32"):
        net0 = nndl.Network([784, 100, 10], dtype=dtype, rng=0)
        ex = net0.examples(splits.training)
        X, T = np.ascontiguousarray(ex.X, dtype), ex.targets  # every row reads the same arrays

        plain = PlainVectorized(net0.weights, net0.biases, MINI_BATCH, net0.dtype)

        def run_plain(order, plain=plain, X=X, T=T):
            plain.epoch(X, T, order, ETA, decay)

        def engine_loop(rows, sparse, dtype=dtype, X=X, T=T):
            net = nndl.Network([784, 100, 10], dtype=dtype, rng=0)
            ws = WindowWorkspace(net.sizes, MINI_BATCH, net.dtype, decay, rows=rows)
            if not sparse:
                ws.sparse_limit = -1

            def run(order):
                with np.errstate(over="ignore", invalid="ignore"):
                    for lo in range(0, len(order), ws.rows):
                        idx = order[lo : lo + ws.rows]
                        np.take(X, idx, axis=0, out=ws.X[: len(idx)], mode="clip")
                        np.take(T, idx, axis=0, out=ws.T[: len(idx)], mode="clip")
                        descend_window(net, ws, len(idx), ETA)

            return run

        steps[f"plain vectorized (the first engine), {dtype}"] = run_plain
        steps[f"engine's step, one mini-batch at a time, {dtype}"] = engine_loop(MINI_BATCH, False)
        steps[f"+ windows of 10 mini-batches (100 rows), {dtype}"] = engine_loop(100, False)
        steps[f"+ nonzero input columns only (= nndl.sgd), {dtype}"] = engine_loop(100, True)

    times = {k: [] for k in steps}
    sub = 10_000  # each timing trains on 10,000 images (1,000 steps), scaled to 50,000
    keys = list(steps)
    for r in range(args.repeats):
        order = np.random.default_rng(r).permutation(N_TRAIN)[:sub]
        for k in keys[r % len(keys) :] + keys[: r % len(keys)]:
            t0 = time.perf_counter()
            steps[k](order)
            times[k].append((time.perf_counter() - t0) * N_TRAIN / sub)
        print(f"  round {r + 1} done", flush=True)
    print("\nseconds per epoch, median [min] (each step adds one lever to the line above):")
    result = {"threads": threads, "levers": {}}
    for k in keys:
        s = summary(times[k])
        result["levers"][k] = s
        print(f"  {k:68s} {s['median']:6.3f}  [{s['min']:.3f}]")
    return result


# --- threads -----------------------------------------------------------------------------


def compare_threads(args) -> dict:
    """The engine's epoch with 1 and with 2 BLAS threads, in child processes that alternate."""
    times = {1: {"nndl64": [], "nndl32": []}, 2: {"nndl64": [], "nndl32": []}}
    print(f"1 vs 2 BLAS threads: {args.repeats} rounds of child processes, 2 epochs each; load average {load_avg()}")
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for t in (1, 2) if r % 2 == 0 else (2, 1):
                out = os.path.join(tmp, f"{r}-{t}.json")
                subprocess.run(
                    [
                        sys.executable,
                        os.path.abspath(__file__),
                        "--threads",
                        str(t),
                        "--repeats",
                        "2",
                        "--variants",
                        "nndl64,nndl32",
                        "--json",
                        out,
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                with open(out) as f:
                    got = json.load(f)["variants"]
                for k in ("nndl64", "nndl32"):
                    times[t][k] += got[k]["runs"]
            print(f"  round {r + 1} done", flush=True)
    result = {}
    print("\nseconds per epoch, median [min]:")
    for k in ("nndl64", "nndl32"):
        one, two = summary(times[1][k]), summary(times[2][k])
        result[k] = {"1": one, "2": two}
        print(
            f"  {k}: 1 thread {one['median']:.3f} [{one['min']:.3f}]   2 threads {two['median']:.3f} [{two['min']:.3f}]"
        )
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    threads = set_threads(args.threads)
    if args.compare_threads:
        result = compare_threads(args)
    elif args.full:
        result = full_run(args, threads)
    elif args.levers:
        result = lever_table(args, threads)
    else:
        result = epoch_table(args, threads)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
