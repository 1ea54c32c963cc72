"""Progress from inside a trial, to whoever listens in the process that started it.

A trial calls :func:`emit` with a small dict of plain values (``{"trial": key, "kind":
"epoch", ...}``); it does not know where it runs. The runner that owns the process
installs the sink with :func:`set_sink`: in the main process (the inline runner) the
sink calls the listener directly, in a local pool worker it puts the event on a queue the
main process drains, on a Dask worker it logs a Dask event the client subscribes to. With
no sink installed, :func:`emit` does nothing.
"""

from __future__ import annotations

from collections.abc import Callable

_sink: Callable[[dict], None] | None = None


def set_sink(sink: Callable[[dict], None] | None) -> Callable[[dict], None] | None:
    """Install ``sink`` for this process; return the one it replaces."""
    global _sink
    old, _sink = _sink, sink
    return old


def emit(event: dict) -> None:
    """Hand ``event`` (a dict of str, int, float, None) to this process's sink, if any.

    Progress is a courtesy: a sink that fails (a closed queue while a sweep shuts down)
    never breaks the trial that reported.
    """
    sink = _sink
    if sink is None:
        return
    try:
        sink(event)
    except (OSError, ValueError, EOFError):
        pass
