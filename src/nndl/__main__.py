"""``python -m nndl``: the same as the ``nndl`` command."""

from nndl.cli import entry

if __name__ == "__main__":
    entry()
