"""Every fuzz target of tests/fuzz/fuzz_targets.py, with a small fixed budget (``make fuzz`` runs them longer).

The budget (``NNDL_FUZZ_EXAMPLES``, default 60 inputs per target, derandomized so that CI
sees the same inputs every run) keeps ``make test`` fast; the promise is the same as in
the long run: no exception but the project's own error types.
"""

from __future__ import annotations

import os

import fuzz_targets
import pytest

EXAMPLES = int(os.environ.get("NNDL_FUZZ_EXAMPLES", "60"))


@pytest.mark.parametrize("name", list(fuzz_targets.TARGETS))
def test_fuzz_target_raises_only_nndl_errors(name):
    before = fuzz_targets.COUNTS.get(name, 0)
    fuzz_targets.run(name, max_examples=EXAMPLES, derandomize=True)
    assert fuzz_targets.COUNTS[name] - before >= min(EXAMPLES, 20)  # it really ran inputs
