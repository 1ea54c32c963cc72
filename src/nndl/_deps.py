"""Is this Python able to run nndl? The check that runs before anything imports NumPy.

nndl needs the libraries ``pyproject.toml`` lists; ``make run`` installs them into ``.venv``.
Someone who runs a script of this checkout with the system's Python (as the Level 3
document's section 7 says: ``python level3/1_improved_network.py`` from ``src/``) would
otherwise meet a traceback from the first import that fails. Here every missing library is
found at once and named in one sentence that says what to run instead. Standard library
only: this module must import where nothing else can.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

# import name -> the distribution pip installs it from; the same list as pyproject.toml's dependencies
REQUIRED = {
    "numpy": "numpy",
    "matplotlib": "matplotlib",
    "tqdm": "tqdm",
    "PIL": "pillow",
    "threadpoolctl": "threadpoolctl",
}
CHECKOUT = Path(__file__).resolve().parents[2]  # src/nndl/_deps.py -> the checkout (holds Makefile, .venv)


class MissingDependencies(ModuleNotFoundError):
    """nndl's libraries are not installed for this Python; the message says what to run.

    ``lacking``: the distributions missing; ``advice(script, make_target)`` the same sentence
    for a script of this checkout (which catches this error and prints that one line)."""

    def __init__(self, lacking: list[str]):
        super().__init__(advice(lacking), name=lacking[0])
        self.lacking = lacking

    def advice(self, script: str | None = None, make_target: str = "run") -> str:
        return advice(self.lacking, script, make_target)


def missing() -> list[str]:
    """The distributions of ``REQUIRED`` that this Python cannot import, in order."""
    return [dist for name, dist in REQUIRED.items() if importlib.util.find_spec(name) is None]


def advice(lacking: list[str], script: str | None = None, make_target: str = "run") -> str:
    """One sentence: what this Python lacks and what to run instead.

    ``script``: the path of the script the user ran, to repeat it with the checkout's ``.venv``
    Python (given relative to the current folder); ``make_target``: the Makefile target that
    does the same job (``run`` sets up ``.venv`` and runs the Level 3 exploration)."""
    python = sys.executable or "python"
    has_make = (CHECKOUT / "Makefile").is_file()
    venv = CHECKOUT / ".venv" / "bin" / "python"
    where = os.path.relpath(CHECKOUT) if has_make else None
    there = "" if where in (None, ".") else f"cd {where} && "
    steps = []
    if has_make:
        steps.append(f"`{there}make {make_target}` (it installs them into .venv)")
    if script and venv.is_file():
        steps.append(f"`{os.path.relpath(venv)} {os.path.relpath(script)}`")
    elif venv.is_file():
        steps.append(f"this checkout's Python, {os.path.relpath(venv)}")
    if not steps:
        steps.append("`pip install nndl` (or `pip install -e .` in a checkout) first")
    return f"nndl needs {', '.join(lacking)}, which this Python ({python}) does not have; run {' or '.join(steps)}"


def check() -> None:
    """Raise ``MissingDependencies`` (one line of advice) when a required library is missing."""
    lacking = missing()
    if lacking and sys.argv[:1] == ["-m"]:  # `python -m nndl` (argv[0] is '-m' while it is found): a
        sys.exit(f"python -m nndl: {advice(lacking)}")  # command, so one line and exit 1, not a traceback
    if lacking:
        raise MissingDependencies(lacking)


check()  # on import: nndl/__init__.py imports this module first, before NumPy
