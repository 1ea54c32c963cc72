"""The ``nndl`` console script: quiet about a Ctrl-C while the libraries are still loading.

The script's module must be importable without NumPy and matplotlib: a Ctrl-C in the first
moments, while they load, would otherwise end in a traceback from deep inside an import.
Here that Ctrl-C prints ``nndl: interrupted`` and exits with 130, as ``nndl.cli.main``
does once it runs (and SIGTERM, before then, ends the process with 143 as usual).
"""

import sys


def entry() -> None:
    try:
        from nndl.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("\nnndl: interrupted\n")
        sys.exit(130)
    sys.exit(main())
