"""The accuracy ladder of the Level 3 guide's section 5.2, from a results dict, as rows and Markdown."""

from __future__ import annotations


def rows(results: dict) -> list[dict]:
    """One dict per ladder step: step, configuration, expected, measured test/validation accuracy."""
    out = []
    for step in results["ladder"]:
        run = results["runs"].get(step["run"])
        if run is None:
            continue
        c = run["config"]
        out.append({
            "step": step["step"], "expected": step["expected"],
            "config": f"{c['sizes']}, {c['cost']}, {c['init']} init, lambda {c['lmbda']:g}, eta {c['eta']:g}, "
                      f"mini-batch {c['mini_batch_size']}, {c['epochs']} epochs, seed {c['seed']}",
            "test": 100 * run["final"]["test_accuracy"],
            "validation": 100 * run["final"]["validation_accuracy"],
        })
    return out


def markdown(results: dict) -> str:
    """results.md: the ladder as a table, with what was run and how long it took."""
    s = results["sizes"]
    lines = [
        "# Level 3: the accuracy ladder" + (" (quick run: small data, few epochs)" if results["options"]["quick"] else ""),
        "",
        f"Data: {results['options']['dataset']}, {s['training']:,} training, {s['validation']:,} validation, "
        f"{s['test']:,} test images. Every run is evaluated on the validation set during training; "
        "the test set is used once, at the end. Runs share the seed, so they start from the same draws and "
        "see the same mini-batch order.",
        "",
        "| Step | Configuration | Level 3 guide expects | Test accuracy | Validation accuracy |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r['step']} | {r['config']} | {r['expected']} | {r['test']:.2f}% | {r['validation']:.2f}% |"
              for r in rows(results)]
    demo = [results["runs"].get(k) for k in ("overfit-lambda-0", "overfit-lambda-0.1")]
    if all(demo):
        lines += ["", "Overfitting demo (first {:,} training images, {} epochs; watches the test set, as the book does):"
                  .format(demo[0]["n_train"], demo[0]["config"]["epochs"]), ""]
        for run in demo:
            lines.append(f"- lambda {run['config']['lmbda']:g}: training {100 * run['final']['training_accuracy']:.2f}%, "
                         f"test {100 * run['final']['test_accuracy']:.2f}%")
    if "seconds" in results:
        lines += ["", f"Total time: {results['seconds']:.0f} s "
                      f"(nndl {results['versions']['nndl']}, NumPy {results['versions']['numpy']})."]
    return "\n".join(lines) + "\n"
