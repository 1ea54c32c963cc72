"""``nndl evaluate`` and ``nndl predict``: a saved model on a data set, or on image files.

Confidence: sigmoid output neurons (the quadratic and cross-entropy costs) are each in
(0, 1) on their own, so they are not probabilities and need not sum to 1. ``predict``
divides them by their sum, which ranks the classes exactly as the network does and reads
like a share of the total activation; it is not a calibrated probability. A softmax output
layer (the log-likelihood cost) already gives probabilities; the division changes nothing.

``predict --show`` draws the 28x28 input the network receives (after ``nndl.imageprep``
found, cropped, scaled and centred the digit) in the terminal; ``--save-input DIR`` writes
it as a 28x28 PNG, white ink on black as MNIST stores its digits.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from nndl.data import DATASETS
from nndl.data.provenance import check_recorded, recorded_of
from nndl.errors import ModelFileError, NndlError, OutputError
from nndl.fileio import atomic_path, output_folder, output_path
from nndl.imageprep import FIELD, load_digit
from nndl.limits import MAX_CLASSES
from nndl.serialization import from_dict, read_json

from .common import DATASET_HELP, UsageError, bars_wanted, check_fits, class_names, count, describe, load_data, percent

SPLITS = ("test", "validation", "training")


def add_parsers(subparsers) -> None:
    """Add ``evaluate`` and ``predict``."""
    p = subparsers.add_parser(
        "evaluate",
        help="accuracy, per-class accuracy and confusion matrix of a saved model",
        description="Evaluate a saved model on a data set's test split (or --split): overall accuracy, "
        "accuracy per class, and the confusion matrix (rows: true class, columns: "
        "predicted class).",
    )
    p.add_argument("model", metavar="MODEL", help="a model file written by nndl train --save (or network2.py)")
    p.add_argument(
        "--dataset",
        default=None,
        metavar="NAME|PATH.npz",
        help=DATASET_HELP + " (default: the data set the model file says it was trained on, else mnist)",
    )
    p.add_argument("--split", choices=SPLITS, default="test", help="which split to evaluate on (default test)")
    p.add_argument(
        "--data-dir", metavar="DIR", help="data root for mnist/fashion (default: $NNDL_DATA_DIR or ~/.cache/nndl)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars while fetching data")
    p.set_defaults(run=run_evaluate)

    p = subparsers.add_parser(
        "predict",
        help="classify images of handwritten digits with a saved model",
        description="Read each image (PNG, JPEG, ... of one digit, any size, dark-on-light or "
        "light-on-dark), prepare it as MNIST digits were prepared, and print the "
        "network's answer. Confidence is the output neurons' activations divided by "
        "their sum: the sigmoid outputs are not probabilities (each is in (0, 1) on its "
        "own), so this is a normalised score, not a calibrated probability.",
        epilog="An image that cannot be read is reported on stderr; the others are still "
        "classified, and the exit status is then 1.",
    )
    p.add_argument("model", metavar="MODEL", help="a model file written by nndl train --save (or network2.py)")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files, one digit each")
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of {image, digit, scores}: scores are the 10 outputs divided by "
        "their sum (a softmax output layer's probabilities; for sigmoid outputs a normalised "
        "score, not a probability); "
        "with --show, each also has 'input': the 784 values the network saw",
    )
    p.add_argument(
        "--show",
        action="store_true",
        help="draw the 28x28 input the network sees, as text, under each answer (a speck or "
        "a desk edge that changed the answer shows here)",
    )
    p.add_argument(
        "--save-input",
        metavar="DIR",
        help="write each image's 28x28 network input to DIR/NAME-input.png (white ink on "
        "black, as MNIST stores digits)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="accepted for symmetry: predict draws no progress bars")
    p.set_defaults(run=run_predict)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """(k, k) counts: row = true class, column = predicted class."""
    return np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)  # (k, k)


def load_model(path) -> tuple:
    """(network, the data set its file names or None, that file's recorded SHA-256 or None): one read."""
    d = read_json(path)
    return (from_dict(d, str(path)), *recorded_of(d, path, "model file", ModelFileError))


def run_evaluate(args) -> int:
    """Accuracy, per-class accuracy and the confusion matrix of a model on one split."""
    net, trained_on, sha256 = load_model(args.model)
    if net.sizes[-1] > MAX_CLASSES:  # before any data is read: a 10,000 x 10,000 confusion matrix is no answer
        raise ModelFileError(
            f"{args.model}: its output layer has {net.sizes[-1]:,} neurons, but a data set here has "
            f"at most {MAX_CLASSES} classes (MNIST's digits 0-9): not a network for these images"
        )
    if not args.dataset and trained_on:  # the very file it was trained on, or an error: never another one
        check_recorded(trained_on, sha256, args.model)
    dataset = args.dataset or trained_on or "mnist"
    data = load_data(dataset, args.data_dir, bars=bars_wanted(args.quiet or args.json))
    split = getattr(data, args.split)
    check_fits(net, split.images, dataset, args.model)
    k = net.sizes[-1]
    if split.labels.max() >= k:
        raise UsageError(f"{args.model} has {k} outputs, but the {args.split} labels go up to {split.labels.max()}")
    predicted = net.predict(split.images.astype(net.dtype, copy=False))  # (n,)
    cm = confusion_matrix(split.labels, predicted, k)  # (k, k)
    names = list(class_names(data.dataset)) + [str(i) for i in range(10, k)]
    n, correct = len(split), int(np.trace(cm))
    per_class = [
        {
            "class": c,
            "name": names[c],
            "n": int(cm[c].sum()),
            "correct": int(cm[c, c]),
            "accuracy": float(cm[c, c] / cm[c].sum()) if cm[c].sum() else None,
        }
        for c in range(k)
    ]
    if args.json:
        json.dump(
            {
                "model": args.model,
                "dataset": data.dataset,
                "split": args.split,
                "n": n,
                "correct": correct,
                "accuracy": correct / n,
                "per_class": per_class,
                "confusion_matrix": cm.tolist(),
            },
            sys.stdout,
            indent=2,
        )
        print()
        return 0
    title = DATASETS[data.dataset].title if data.dataset in DATASETS else data.dataset
    print(f"{args.model} on the {args.split} split of {title} ({n:,} images)")
    print(f"accuracy: {count(correct, n)}\n")
    wn = max(len(p["name"]) for p in per_class)
    wc = max(len(f"{n:,}"), 5)
    print(f"{'class':<{wn + 4}} {'n':>{wc}} {'correct':>{wc + 2}} {'accuracy':>9}")
    for p in per_class:
        label = f"{p['class']:>2}  {p['name']}" if p["name"] != str(p["class"]) else f"{p['class']:>2}"
        print(f"{label:<{wn + 4}} {p['n']:>{wc},} {p['correct']:>{wc + 2},} {percent(p['correct'], p['n']):>9}")
    print("\nconfusion matrix (rows: true class, columns: predicted class)")
    w = max(len(str(cm.max())), 2) + 1
    print(f"{'true':>5}" + "".join(f"{c:>{w}}" for c in range(k)))
    for c in range(k):
        print(f"{c:>5}" + "".join(f"{v:>{w}}" for v in cm[c]))
    return 0


RUNNER_UP = 0.5  # the second answer is named when its confidence is at least half the first's: a near tie


def answer_text(share: np.ndarray, names: list | None = None) -> str:
    """'digit 2 (confidence 36.0%)', and ', then 4 (33.0%)' when the runner-up comes close.

    ``share``: (n_out,) each output's share of their sum; ``names``: class names, if any."""
    order = np.argsort(-share, kind="stable")  # (n_out,)
    first = int(order[0])
    named = bool(names) and first < len(names)
    text = f"{names[first]} (class {first})" if named else f"digit {first}"
    text += f" (confidence {100 * share[first]:.1f}%)"
    if len(order) > 1 and share[order[1]] >= RUNNER_UP * share[first]:
        second = int(order[1])
        text += (
            f", then {names[second]} (class {second}, {100 * share[second]:.1f}%)"
            if named and second < len(names)
            else f", then {second} ({100 * share[second]:.1f}%)"
        )
    return text


RAMP = " .:-=+*#%@"  # terminal art: blank paper to full ink, ten levels


def terminal_art(x: np.ndarray) -> str:
    """The 28x28 input x (784,) in [0, 1] as 28 lines of text in a frame, two characters a pixel
    (a terminal cell is about twice as tall as it is wide, so the digit keeps its shape)."""
    field = np.asarray(x, dtype=np.float64).reshape(FIELD, FIELD)  # (28, 28)
    levels = np.clip(np.rint(field * (len(RAMP) - 1)), 0, len(RAMP) - 1).astype(int)
    edge = "+" + "-" * (2 * FIELD) + "+"
    rows = ["|" + "".join(RAMP[v] * 2 for v in row) + "|" for row in levels]
    return "\n".join([edge, *rows, edge])


def input_paths(folder: Path, images: list[str]) -> list[Path]:
    """Where each image's 28x28 input goes: folder/<image's stem>-input.png, a name already
    taken in this run getting -2, -3, ... (planned before any image is read)."""
    taken, out = set(), []
    for image in images:
        stem = Path(image).stem or "image"
        path, k = folder / f"{stem}-input.png", 1
        while path in taken:
            k += 1
            path = folder / f"{stem}-input-{k}.png"
        taken.add(path)
        out.append(path)
    return out


def save_input(x: np.ndarray, path: Path) -> Path:
    """Write the 28x28 input x (784,) to ``path`` as a PNG (atomically)."""
    pixels = np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8).reshape(FIELD, FIELD)  # (28, 28)
    with atomic_path(path) as tmp:
        Image.fromarray(pixels, mode="L").save(tmp, format="PNG")
    return path


def _input_outputs(args) -> list[Path]:
    """--save-input's files, checked before any image is read: the folder exists or is made (only
    its last part, and said), and no file written there is the model or one of the images."""
    if not args.save_input:
        return []
    try:
        folder, made = output_folder(args.save_input)
        paths = input_paths(folder, args.images)
        for path in paths:
            output_path(path, [args.model, *args.images])
    except OutputError as e:
        raise UsageError(f"argument --save-input: {describe(e)}") from None
    if made:
        print(f"nndl: made the folder {folder} for --save-input", file=sys.stderr)
    return paths


def run_predict(args) -> int:
    """Classify each image; a bad image is reported on stderr and makes the exit status 1."""
    net, trained_on, _ = load_model(args.model)
    names = class_names(trained_on) if trained_on in DATASETS and trained_on != "mnist" else None
    if net.sizes[0] != 784:
        raise UsageError(
            f"{args.model} takes {net.sizes[0]} inputs; predict needs a model of 28x28 images (sizes starting with 784)"
        )
    outputs = _input_outputs(args)
    results, failed = [], 0
    for i, image in enumerate(args.images):
        try:
            x = load_digit(image)  # (784,)
        except (NndlError, OSError) as e:
            print(f"nndl: error: {e}", file=sys.stderr)
            failed += 1
            continue
        out = net.feedforward(x).astype(np.float64)  # (n_out,)
        total = out.sum()
        share = out / total if total > 0 else np.full_like(out, 1.0 / len(out))  # (n_out,)
        digit = int(out.argmax())
        record = {"image": image, "digit": digit, "scores": [float(p) for p in share]}
        if args.show and args.json:
            record["input"] = [round(float(v), 4) for v in x]
        results.append(record)
        if not args.json:
            print(f"{image}: {answer_text(share, names)}", flush=True)
            if args.show:
                print(
                    f"the 28x28 input the network saw (ink box scaled to 20x20, centred by centre of mass):\n"
                    f"{terminal_art(x)}",
                    flush=True,
                )
        if outputs:
            print(f"input of {image} saved to {save_input(x, outputs[i])}", file=sys.stderr)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    return 1 if failed else 0
