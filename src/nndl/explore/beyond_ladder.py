"""The ladder past 98 % and the rest of chapter 3 as tables: Markdown for results.md, 80-column
text for the terminal, and the verdict line of each step. From the results dict alone
(``nndl.explore.beyond``), as ``nndl.explore.ladder`` is for Level 3.
"""

from __future__ import annotations

from nndl.explore import beyond


def markdown(results: dict) -> str:
    """results.md: the ladder past 98 % (mean and spread of the seeds), and what carried it."""
    s, o = results["sizes"], results["options"]
    rows = beyond.ladder_stats(results)
    n_seeds = len(rows[0]["seeds"]) if rows else 0
    lines = [
        "# Beyond Level 3: the ladder past 98 %" + (" (quick run: small data, few epochs)" if o["quick"] else ""),
        "",
        f"Data: {o['dataset']}, {s['training']:,} training, {s['validation']:,} validation, {s['test']:,} test images. "
        "Training and every choice look at the validation set only; each run's test accuracy is measured once, "
        f"at its end. Each row adds to the one above and is trained with {n_seeds} seeds ({o['dtype']}); "
        "accuracies are the mean, with the smallest and largest in brackets.",
        "",
        "| Step | Test accuracy | Validation accuracy | Epochs | Time a run |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['step']} | **{r['test_mean']:.2f}%** ({r['test_min']:.2f}-{r['test_max']:.2f}) | "
            f"{r['validation_mean']:.2f}% ({r['validation_min']:.2f}-{r['validation_max']:.2f}) | "
            f"{r['epochs_mean']:.0f} | {r['seconds_mean']:.0f} s |"
        )
    lines += ["", *verdicts(rows)]
    if "seconds" in results:
        lines += [
            "",
            f"Total time: {results['seconds']:.0f} s (nndl {results['versions']['nndl']}, "
            f"NumPy {results['versions']['numpy']}).",
        ]
    return "\n".join(lines) + "\n"


def text(results: dict, width: int = 80) -> str:
    """The ladder for the terminal, at most ``width`` columns: a line per row (mean test accuracy,
    its range over the seeds, the row), then the verdicts wrapped to the width."""
    import textwrap

    rows = beyond.ladder_stats(results)
    n = len(rows[0]["seeds"]) if rows else 0
    quick = " (quick run)" if results["options"].get("quick") else ""
    lines = [f"Beyond Level 3: the ladder past 98 %{quick}", f"test accuracy, mean of {n} seeds (smallest-largest)", ""]
    for r in rows:
        lines.append(f"{r['test_mean']:6.2f}% ({r['test_min']:.2f}-{r['test_max']:.2f})  {r['short']}"[:width])
    lines.append("")
    for sentence in verdicts(rows, "short"):
        lines += textwrap.wrap(sentence.replace("**", ""), width)
    if "seconds" in results:
        lines += ["", f"Total time: {results['seconds']:.0f} s."]
    return "\n".join(lines) + "\n"


def verdicts(rows: list[dict], label: str = "step") -> list[str]:
    """Plain sentences: which row first passes 98 % on average, and which rows do not pay
    (each row named by its ``label`` entry: 'step', or 'short' for the terminal)."""
    out = []
    past = next((r for r in rows if r["test_mean"] >= 98.0), None)
    if past is not None:
        out.append(
            f"What carries the book's network past 98 %: **{past[label].lstrip('+ ')}** "
            f"({past['test_mean']:.2f}% mean test accuracy)."
        )
    else:
        out.append("No row reaches 98 % mean test accuracy in this run.")
    for prev, row in zip(rows, rows[1:]):
        gain = row["test_mean"] - prev["test_mean"]
        if gain <= 0:
            out.append(f"Does not pay here: {row[label].lstrip('+ ')} ({gain:+.2f} points against the row above).")
    best = max(rows, key=lambda r: r["test_mean"]) if rows else None
    if best is not None:
        out.append(
            f"Best row: {best[label].lstrip('+ ')}, {best['test_mean']:.2f}% "
            f"({best['test_min']:.2f}-{best['test_max']:.2f})."
        )
    return out
