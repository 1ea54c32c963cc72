"""``nndl explore beyond``: the rest of chapter 3, seven figures, and the ladder past 98 %.

The command line of ``nndl.explore.beyond`` (``nndl.explore.command`` does the work shared
with ``nndl explore level3``): ``src/level3/2_beyond_level3.py`` and ``nndl explore beyond``
both call ``main``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nndl.explore import beyond, beyond_figures, command
from nndl.fileio import atomic_write_text


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
        lines.append(f"| {r['step']} | **{r['test_mean']:.2f}%** ({r['test_min']:.2f}-{r['test_max']:.2f}) | "
                     f"{r['validation_mean']:.2f}% ({r['validation_min']:.2f}-{r['validation_max']:.2f}) | "
                     f"{r['epochs_mean']:.0f} | {r['seconds_mean']:.0f} s |")
    lines += ["", *verdicts(rows)]
    if "seconds" in results:
        lines += ["", f"Total time: {results['seconds']:.0f} s (nndl {results['versions']['nndl']}, "
                      f"NumPy {results['versions']['numpy']})."]
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
        out.append(f"What carries the book's network past 98 %: **{past[label].lstrip('+ ')}** "
                   f"({past['test_mean']:.2f}% mean test accuracy).")
    else:
        out.append("No row reaches 98 % mean test accuracy in this run.")
    for prev, row in zip(rows, rows[1:]):
        gain = row["test_mean"] - prev["test_mean"]
        if gain <= 0:
            out.append(f"Does not pay here: {row[label].lstrip('+ ')} ({gain:+.2f} points against the row above).")
    best = max(rows, key=lambda r: r["test_mean"]) if rows else None
    if best is not None:
        out.append(f"Best row: {best[label].lstrip('+ ')}, {best['test_mean']:.2f}% "
                   f"({best['test_min']:.2f}-{best['test_max']:.2f}).")
    return out


def write_outputs(results: dict, folder: Path) -> list[Path]:
    """results.md and the seven figures (results.json is written as the runs finish)."""
    atomic_write_text(folder / "results.md", markdown(results))
    return beyond_figures.draw_all(results, folder)


BEYOND = command.Exploration(
    name="beyond", title="beyond-Level-3",
    description="Beyond Level 3: the rest of chapter 3 of 'Neural Networks and Deep Learning' - softmax with the "
                "log-likelihood cost, dropout against L2, momentum, tanh and ReLU neurons, the book's learning-"
                "rate schedule and artificially expanded data - each measured on MNIST, and the ladder past "
                "98 % (three seeds a row). Saves seven figures, results.json, results.md, the trained models "
                "and report.html to PICTURES/beyond/YYYYMMDD_HHMMSS/. The full run takes about 14 minutes on "
                "two cores.",
    quick_help="small subsets and few epochs: a smoke test in under a minute (figures say 'quick')",
    seed_help="first seed, an integer >= 0 (the ladder uses it and the next two; default 0)",
    make_options=beyond.Options.make, run=beyond.run_beyond, write_outputs=write_outputs, text=text,
    markdown=markdown,
    finished=lambda results: results.get("exploration") == "beyond" and bool(results.get("complete")),
)


def parser(prog: str = "nndl explore beyond"):
    return command.parser(BEYOND, prog)


def main(argv: list[str] | None = None, prog: str = "nndl explore beyond") -> int:
    return command.main(BEYOND, argv, prog)


if __name__ == "__main__":
    sys.exit(main())
