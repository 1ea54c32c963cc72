"""Level 3: improved neural network techniques - cross-entropy, L2 regularization, better init.

Run from the src/ directory, as the Level 3 document (Level 3: Improved Neural Network Techniques) says:

    python level3/1_improved_network.py            # full exploration (a few minutes)
    python level3/1_improved_network.py --quick    # a smoke test

Sections: 1 cross-entropy cost, 2 L2 regularization, 3 weight initialization, 4 full
training (~98%). Figures go to pictures/level3/YYYYMMDD_HHMMSS/. This is the same as
``nndl explore level3``; ``--help`` lists the options.
"""

import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent  # the src/ beside this script: its own nndl, installed or not
if (SRC / "nndl").is_dir() and str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))
PROG = "python level3/1_improved_network.py"

try:
    from nndl.cli.explore.level3 import main
except ModuleNotFoundError as e:  # this Python lacks NumPy or another library nndl needs
    if not hasattr(e, "lacking"):
        raise
    sys.exit(f"{PROG}: {e.advice(__file__, 'run')}")

if __name__ == "__main__":
    sys.exit(main(prog=PROG))
