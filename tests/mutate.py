"""``make mutate``: mutation testing of nndl's core with mutmut, one module at a time.

For each module below, ``mutmut run "<module>.*"`` changes the code in small ways (one
mutant at a time: ``<`` for ``<=``, ``+`` for ``-``, a constant changed, an argument dropped) and
runs, for each mutant, only the tests of the selection in pyproject's ``[tool.mutmut]`` that
call the function it changed. A mutant is *killed* when a test fails. Then this script prints
each module's score (killed / all mutants), the run's wall time, and every mutant that
survived with its diff; a survivor whose changed line is quoted in docs/testing.md is marked
"explained" there (an equivalent mutant, a speed-only change). Exit status 1 when a module
scores below 90 % or a survivor is not explained.

    .venv/bin/python tests/mutate.py [--jobs N] [--report | --survivors] [MODULE ...]

``--report`` prints the results of the last run without running anything; ``--survivors``
tests again only the mutants that survived it (after adding tests). Not a test file (pytest
collects test_*.py only).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = [
    "nndl.engine.costs",
    "nndl.engine.regularizers",
    "nndl.engine.rules",
    "nndl.serialization",
    "nndl.data.verify",
    "nndl.data.store",
    "nndl.data.cache",
    "nndl.engine.network",
    "nndl.engine.layers",
    "nndl.engine.windowed",
    "nndl.engine.training",
    "nndl.engine.runstate",
    "nndl.engine.schedules",
    "nndl.engine.dropout",
    "nndl.augment",
    "nndl.engine.activations",
    "nndl.checks",
    "nndl.engine.conv",
    "nndl.engine.pool",
    "nndl.engine.describe",
]
TARGET = 90.0
DOC = ROOT / "docs" / "testing.md"
STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    None: "not checked",
}


def module_of(mutant: str) -> str:
    return re.split(r"\.x[_ǁ]", mutant, maxsplit=1)[0]


def load_results() -> dict[str, int | None]:
    results = {}
    for meta in (ROOT / "mutants").rglob("*.py.meta"):
        results.update(json.loads(meta.read_text())["exit_code_by_key"])
    return results


def diff_of(mutant: str) -> list[str]:
    """The changed lines of a mutant, '-' original and '+' mutated (mutmut's own diff)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # mutmut 3.8's; reads ./mutants

    path = Path("src", *module_of(mutant).split(".")).with_suffix(".py")
    lines = get_diff_for_mutant(mutant, path=path).splitlines()
    return [ln for ln in lines if ln[:1] in "-+" and not ln.startswith(("---", "+++"))]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def explained_in_doc(diff: list[str], doc: str) -> bool:
    """True when every line the mutant adds (or, for a deletion, removes) is quoted in ``doc``."""
    changed = [squash(ln[1:]) for ln in diff if ln.startswith("+")] or [
        squash(ln[1:]) for ln in diff if ln.startswith("-")
    ]
    quoted = set(squash(q) for q in re.findall(r"`([^`\n]+)`", doc))
    return bool(changed) and all(c in quoted for c in changed)


def run(modules: list[str], jobs: int, survivors: bool = False) -> dict[str, float]:
    """Run mutmut on each module (or, with ``survivors``, again on the last run's survivors)."""
    logs = ROOT / "mutants" / "logs"
    last = load_results() if survivors else {}
    seconds = {}
    for module in modules:
        names = [f"{module}.*"]
        if survivors:
            names = sorted(
                k
                for k, v in last.items()
                if module_of(k) == module and STATUS.get(v) != "killed" and STATUS.get(v) != "timeout"
            )
            if not names:
                continue
        logs.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with open(logs / f"{module}.log", "w") as log:
            code = subprocess.call(
                [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", str(jobs), *names],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        seconds[module] = time.perf_counter() - start
        print(
            f"{module}: mutmut ran in {seconds[module]:.0f} s (exit {code}; log: mutants/logs/{module}.log)", flush=True
        )
    return seconds


def report(modules: list[str], seconds: dict[str, float] | None = None) -> int:
    results = load_results()
    doc = DOC.read_text() if DOC.is_file() else ""
    status = 0
    rows, survivors = [], []
    totals = Counter()
    for module in modules:
        mine = {k: STATUS.get(v, "suspicious") for k, v in results.items() if module_of(k) == module}
        counts = Counter(mine.values())
        checked = len(mine) - counts["not checked"] - counts["skipped"]
        killed = counts["killed"] + counts["timeout"]
        score = 100.0 * killed / checked if checked else 0.0
        totals.update(counts)
        totals["checked"] += checked
        rows.append(
            (
                module,
                len(mine),
                killed,
                counts["survived"],
                counts["no tests"],
                counts["timeout"],
                counts["not checked"],
                score,
            )
        )
        if not checked or counts["not checked"] or score < TARGET:
            status = 1
        survivors += sorted(k for k, s in mine.items() if s in ("survived", "no tests", "suspicious"))
    print(
        f"\n{'module':<20} {'mutants':>7} {'killed':>6} {'survived':>8} {'no tests':>8} {'timeout':>7} "
        f"{'unchecked':>9} {'score':>7}"
    )
    for module, n, killed, surv, none, tout, unchecked, score in rows:
        print(f"{module:<20} {n:>7} {killed:>6} {surv:>8} {none:>8} {tout:>7} {unchecked:>9} {score:>6.1f}%")
    overall = 100.0 * (totals["killed"] + totals["timeout"]) / totals["checked"] if totals["checked"] else 0.0
    print(
        f"{'all':<20} {sum(r[1] for r in rows):>7} {totals['killed'] + totals['timeout']:>6} "
        f"{totals['survived']:>8} {totals['no tests']:>8} {totals['timeout']:>7} {totals['not checked']:>9} "
        f"{overall:>6.1f}%  (target {TARGET:.0f} % per module)"
    )
    if seconds:
        print(f"wall time: {sum(seconds.values()):.0f} s")
    unexplained = 0
    print(f"\n{len(survivors)} surviving mutants (docs/testing.md explains those marked 'explained'):")
    for mutant in survivors:
        diff = diff_of(mutant)
        ok = explained_in_doc(diff, doc)
        unexplained += not ok
        print(f"\n  {mutant}: {STATUS.get(results[mutant], 'suspicious')}{', explained' if ok else ', NOT EXPLAINED'}")
        for line in diff:
            print(f"    {line}")
    if unexplained:
        print(
            f"\n{unexplained} survivors are not explained in docs/testing.md: kill them with a test, or say why "
            f"they are harmless there (quote the changed lines in backticks)"
        )
        status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tests/mutate.py", description=__doc__.split("\n\n")[0])
    p.add_argument("modules", nargs="*", default=MODULES, help=f"modules (default: {' '.join(MODULES)})")
    p.add_argument("--jobs", type=int, default=1, help="mutants tested at once (default 1)")
    p.add_argument("--report", action="store_true", help="only print the last run's results")
    p.add_argument(
        "--survivors",
        action="store_true",
        help="test again only the mutants that survived the last run (after adding tests)",
    )
    args = p.parse_args(argv)
    os.chdir(ROOT)  # mutmut reads pyproject.toml and mutants/ from here
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        p.error(f"unknown module(s) {unknown}; choose from {MODULES}")
    seconds = None if args.report else run(args.modules, args.jobs, args.survivors)
    return report(args.modules, seconds)


if __name__ == "__main__":
    sys.exit(main())
