"""The accuracy ladder of the Level 3 document's section 5.2, from a results dict: rows, Markdown
(results.md) and an 80-column text for the terminal.

Each step says in a line what it shows; where a step does not beat the one above, the line
says why, in the book's terms (``NOTES``), so a reader does not take a level number for a
failed technique. The document's expected accuracies are MNIST's: they are shown only for
MNIST runs.
"""

from __future__ import annotations

import textwrap

# run name: (short label, what it shows when it gains, why it may not beat the step above)
NOTES = {
    "baseline": ("Level 2: [784,30,10], quadratic, N(0,1), eta 3", "chapter 1's network: the start", ""),
    "cross-entropy": (
        "+ cross-entropy (eta 0.5)",
        "no learning slowdown (figure 1)",
        "its gain is speed (figure 2), not the final number",
    ),
    "regularized": ("+ L2, lambda 5", "less overfitting (figure 3)", "noise: L2 pays on longer runs"),
    "better-init": (
        "+ N(0, 1/n_in) init",
        "a better start (figure 4)",
        "faster epoch 1 (fig. 4); level at 30, as in the book",
    ),
    "full": ("+ 100 hidden neurons", "more neurons, more to learn with", "noise at this length"),
}


def rows(results: dict) -> list[dict]:
    """One dict per ladder step: step, configuration, expected, measured test/validation accuracy."""
    out = []
    for step in results["ladder"]:
        run = results["runs"].get(step["run"])
        if run is None:
            continue
        c = run["config"]
        out.append(
            {
                "run": step["run"],
                "step": step["step"],
                "expected": step["expected"],
                "config": f"{c['sizes']}, {c['cost']}, {c['init']} init, lambda {c['lmbda']:g}, eta {c['eta']:g}, "
                f"mini-batch {c['mini_batch_size']}, {c['epochs']} epochs, seed {c['seed']}",
                "test": 100 * run["final"]["test_accuracy"],
                "validation": 100 * run["final"]["validation_accuracy"],
            }
        )
    return out


def _mnist(results: dict) -> bool:
    """Whether the document's MNIST figures apply: not for another registered data set
    (Fashion-MNIST); an .npz file is taken as MNIST digits, as the committed sample is."""
    from nndl.data import DATASETS

    dataset = results["options"].get("dataset")
    return dataset == "mnist" or dataset not in DATASETS


def markdown(results: dict) -> str:
    """results.md: the ladder as a table, with what was run and how long it took."""
    s = results["sizes"]
    mnist = _mnist(results)
    lines = [
        "# Level 3: the accuracy ladder"
        + (" (quick run: small data, few epochs)" if results["options"]["quick"] else ""),
        "",
        f"Data: {results['options']['dataset']}, {s['training']:,} training, {s['validation']:,} validation, "
        f"{s['test']:,} test images. Every run is evaluated on the validation set during training; "
        "the test set is used once, at the end. Runs share the seed, so they start from the same draws and "
        "see the same mini-batch order."
        + ("" if mnist else " The Level 3 document's expected accuracies are MNIST's, so they are not shown."),
        "",
        (
            "| Step | Configuration | Level 3 document expects | Test accuracy | Validation accuracy | What it shows |"
            if mnist
            else "| Step | Configuration | Test accuracy | Validation accuracy | What it shows |"
        ),
        "|---|---|---|---|---|---|" if mnist else "|---|---|---|---|---|",
    ]
    for r, note in zip(rows(results), notes(results)):
        expected = f" {r['expected']} |" if mnist else ""
        lines.append(f"| {r['step']} | {r['config']} |{expected} {r['test']:.2f}% | {r['validation']:.2f}% | {note} |")
    demo = [results["runs"].get(k) for k in ("overfit-lambda-0", "overfit-lambda-0.1")]
    if all(demo):
        lines += [
            "",
            "Overfitting demo (first {:,} training images, {} epochs; watches the test set, as the book does):".format(
                demo[0]["n_train"], demo[0]["config"]["epochs"]
            ),
            "",
        ]
        for run in demo:
            lines.append(
                f"- lambda {run['config']['lmbda']:g}: training {100 * run['final']['training_accuracy']:.2f}%, "
                f"test {100 * run['final']['test_accuracy']:.2f}%"
            )
    if "seconds" in results:
        lines += [
            "",
            f"Total time: {results['seconds']:.0f} s "
            f"(nndl {results['versions']['nndl']}, NumPy {results['versions']['numpy']}).",
        ]
    return "\n".join(lines) + "\n"


def notes(results: dict) -> list[str]:
    """Per step: what it shows, or - when it does not beat the step above - why not."""
    out, prev = [], None
    for r in rows(results):
        _, gains, why = NOTES.get(r["run"], (r["step"], "", ""))
        if prev is not None and r["test"] <= prev and why:
            out.append(f"{why} ({r['test'] - prev:+.2f})")
        elif prev is not None:
            out.append(f"{gains} ({r['test'] - prev:+.2f})")
        else:
            out.append(gains)
        prev = r["test"]
    return out


def text(results: dict, width: int = 80) -> str:
    """The ladder for the terminal, at most ``width`` columns: one line a step, test accuracy
    first, MNIST's expected figure beside it, and what the step shows."""
    mnist = _mnist(results)
    quick = " (quick run)" if results["options"].get("quick") else ""
    lines = [
        f"Level 3: the accuracy ladder{quick}",
        "",
        "    test" + ("  expected" if mnist else "") + "   step, and what it shows",
    ]
    for r, note in zip(rows(results), notes(results)):
        label = NOTES.get(r["run"], (r["step"], "", ""))[0]
        expected = f" {r['expected']:<10}" if mnist else ""
        first = f"{r['test']:6.2f}%{expected} {label}"
        lines.append(first[:width])
        indent = " " * (8 + (11 if mnist else 0))
        lines += textwrap.wrap(note, width, initial_indent=indent, subsequent_indent=indent)
    demo = [results["runs"].get(k) for k in ("overfit-lambda-0", "overfit-lambda-0.1")]
    if all(demo):
        lines += [
            "",
            f"Overfitting ({demo[0]['n_train']:,} images, {demo[0]['config']['epochs']} epochs, test set "
            f"watched as in the book):"[:width],
        ]
        for run in demo:
            lines.append(
                f"  lambda {run['config']['lmbda']:<4g} training {100 * run['final']['training_accuracy']:6.2f}%"
                f"  test {100 * run['final']['test_accuracy']:6.2f}%"
            )
    if "seconds" in results:
        lines += ["", f"Total time: {results['seconds']:.0f} s."]
    return "\n".join(lines) + "\n"
