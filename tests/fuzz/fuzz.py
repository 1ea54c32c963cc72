"""``make fuzz``: every target of tests/fuzz/fuzz_targets.py for a fixed time, counting inputs.

    .venv/bin/python tests/fuzz/fuzz.py [--seconds-per-target S] [--batch N] [TARGET ...]

Runs each target in batches of ``--batch`` random inputs (a fresh random seed each batch)
until its time is up, then prints one line per target: inputs, seconds, failures. Exits 1
if any target raised anything but the project's own error types (hypothesis prints the
smallest failing input and how to reproduce it). Default: 100 s a target (11 targets, about 18 min).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # fuzz_targets, beside this file

import fuzz_targets  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds-per-target", type=float, default=100.0)
    p.add_argument("--batch", type=int, default=500, help="inputs per hypothesis run (default 500)")
    p.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help=f"which (default all): {', '.join(repr(t) for t in fuzz_targets.TARGETS)}",
    )
    args = p.parse_args(argv)
    unknown = [t for t in args.targets if t not in fuzz_targets.TARGETS]
    if unknown:
        p.error(f"unknown target(s) {unknown}; choose from {list(fuzz_targets.TARGETS)}")
    names = args.targets or list(fuzz_targets.TARGETS)
    failed = 0
    print(f"fuzzing {len(names)} targets, {args.seconds_per_target:g} s each", flush=True)
    for name in names:
        start, runs, errors = time.perf_counter(), 0, 0
        before = fuzz_targets.COUNTS.get(name, 0)
        while time.perf_counter() - start < args.seconds_per_target:
            try:
                fuzz_targets.run(name, max_examples=args.batch, derandomize=False)
            except Exception:  # noqa: BLE001 - a finding: report it and go on with the next target
                errors += 1
                traceback.print_exc()
                break
            runs += 1
        inputs = fuzz_targets.COUNTS.get(name, 0) - before
        seconds = time.perf_counter() - start
        print(
            f"{name:<14} {inputs:>9,} inputs in {seconds:6.1f} s ({inputs / seconds:,.0f}/s), "
            f"{'FAILED' if errors else 'no exception but nndl errors'}",
            flush=True,
        )
        failed += errors
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
