"""nndl's fastest configuration past 98 % against scikit-learn's MLPClassifier(), side by side.

    .venv/bin/pip install scikit-learn          # a benchmark-only dependency (pip install -e '.[bench]')
    .venv/bin/python benchmarks/bench_sklearn.py [--repeats 3]

Both train on the book's split of MNIST (the first 50,000 training images; the other 10,000
are nndl's validation set, which sklearn does not use) and are scored once on the 10,000 test
images. ``MLPClassifier()`` keeps every default (one hidden layer of 100 ReLUs, Adam,
mini-batches of 200, up to 200 epochs, stopping when the training loss stalls for 10 epochs),
and BLAS keeps its default thread count for it, as a user gets it; nndl runs as its command
line does (one BLAS thread). The two alternate, round after round, so each round compares
runs that saw the same machine; the table gives each side's median and the ratio per round.

nndl's configuration (``FASTEST``) is the book's [784, 100, 10] sigmoid network with
cross-entropy and L2, trained on the four one-pixel shifts of every image (the book's
expanded data) with the book's learning-rate schedule - chosen on validation accuracy alone
as the quickest of the chapter's techniques to pass 98 %.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

FASTEST = dict(dtype="float32", expand="shifts", epochs=5, schedule="halve", schedule_patience=1, schedule_divisor=8)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3, help="rounds, each training both once (default 3)")
    p.add_argument("--seed", type=int, default=0, help="nndl's seed in round 1 (then +1 per round)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return p.parse_args(argv)


def run_sklearn(training, test, seed):
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X = training.images.reshape(len(training.labels), -1).astype(np.float64) / 1.0
    clf = MLPClassifier(random_state=seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, training.labels)
    seconds = time.perf_counter() - start
    acc = float(clf.score(test.images.reshape(len(test.labels), -1), test.labels))
    return {"seconds": seconds, "test_accuracy": acc, "epochs": int(clf.n_iter_)}


def run_nndl(training, validation, test, seed):
    import nndl
    from nndl.blas import blas_threads

    config = nndl.TrainConfig(seed=seed, **FASTEST)
    start = time.perf_counter()
    with blas_threads():
        net, history = nndl.train(config, training, validation)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "test_accuracy": net.accuracy(test) / len(test.labels),
        "epochs": history.epochs,
        "validation_accuracy": history.evaluation_accuracy[-1] / len(validation.labels),
    }


def main(argv=None) -> int:
    import numpy as np
    import sklearn

    import nndl
    from nndl.data import load_mnist

    args = parse_args(sys.argv[1:] if argv is None else argv)
    training, validation, test = load_mnist()  # float32 images in [0, 1], the book's split
    rounds = []
    for r in range(args.repeats):
        a = run_nndl(training, validation, test, args.seed + r)
        b = run_sklearn(training, test, args.seed + r)
        rounds.append({"nndl": a, "sklearn": b, "time_ratio": b["seconds"] / a["seconds"]})
        print(
            f"round {r + 1}: nndl {a['test_accuracy']:.2%} in {a['seconds']:.1f} s ({a['epochs']} epochs of "
            f"250,000 rows); sklearn {b['test_accuracy']:.2%} in {b['seconds']:.1f} s ({b['epochs']} epochs)",
            flush=True,
        )

    def med(side, key):
        return float(np.median([r[side][key] for r in rounds]))

    result = {
        "nndl_config": FASTEST,
        "sklearn": sklearn.__version__,
        "nndl": nndl.__version__,
        "numpy": np.__version__,
        "rounds": rounds,
        "median": {side: {k: med(side, k) for k in ("seconds", "test_accuracy")} for side in ("nndl", "sklearn")},
        "median_time_ratio": float(np.median([r["time_ratio"] for r in rounds])),
    }
    m = result["median"]
    print(
        f"\nmedian of {args.repeats} rounds: nndl {m['nndl']['test_accuracy']:.2%} test in {m['nndl']['seconds']:.1f} s; "
        f"scikit-learn {sklearn.__version__} MLPClassifier() {m['sklearn']['test_accuracy']:.2%} in "
        f"{m['sklearn']['seconds']:.1f} s"
    )
    print(
        f"nndl is {result['median_time_ratio']:.2f}x faster (median of the per-round ratios) and "
        f"{100 * (m['nndl']['test_accuracy'] - m['sklearn']['test_accuracy']):+.2f} points on test accuracy"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
