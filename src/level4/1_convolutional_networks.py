"""Level 4: convolutional networks - chapter 6 of "Neural Networks and Deep Learning".

Run from the src/ directory, as the end of the Level 3 document says:

    python level4/1_convolutional_networks.py --quick    # a smoke test on a small data set
    python level4/1_convolutional_networks.py            # the book's whole ladder: hours; stopped, the
                                                         # same command continues it

The same as ``nndl explore level4``; ``--help`` lists the options. The book's own chapter 6
code runs as written too: ``import network3`` (see network3.py beside this folder).
"""

import sys
from pathlib import Path

try:
    from nndl.cli.explore.level4 import main
except ModuleNotFoundError:  # run from a checkout without `pip install -e .`: use the src/ beside this file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from nndl.cli.explore.level4 import main

if __name__ == "__main__":
    sys.exit(main(prog="python level4/1_convolutional_networks.py"))
