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

try:
    from nndl.cli.explore.beyond import main
except ModuleNotFoundError:  # run from a checkout without `pip install -e .`: use the src/ beside this file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from nndl.cli.explore.beyond import main

if __name__ == "__main__":
    sys.exit(main(prog="python level3/2_beyond_level3.py"))
