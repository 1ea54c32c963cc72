"""Beyond Level 3: the rest of chapter 3 - softmax, dropout, momentum, other neurons, the eta schedule,
expanded data - and the ladder past 98 %.

Run from the src/ directory, like the first script:

    python level3/2_beyond_level3.py            # the full exploration (about 14 minutes on two cores)
    python level3/2_beyond_level3.py --quick    # a smoke test (under a minute)

Figures go to pictures/beyond/YYYYMMDD_HHMMSS/. This is the same as ``nndl explore beyond``;
``--help`` lists the options.
"""

import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent  # the src/ beside this script: its own nndl, installed or not
if (SRC / "nndl").is_dir() and str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))
PROG = "python level3/2_beyond_level3.py"

try:
    from nndl.cli.explore.beyond import main
except ModuleNotFoundError as e:  # this Python lacks NumPy or another library nndl needs
    if not hasattr(e, "lacking"):
        raise
    sys.exit(f"{PROG}: {e.advice(__file__, 'beyond')}")

if __name__ == "__main__":
    sys.exit(main(prog=PROG))
