"""The report page: one self-contained ``report.html`` that shows a trained network at work.

``write_report(source, test=...)`` reads an exploration folder (``results.json``, the figures,
``models/<run>.json``) or one model file and writes ``report.html``: the accuracy ladder, each
run's configuration and curves, the figures with what to notice, a drawing pad that runs the
network in the browser (preprocessing as ``nndl predict`` does, forward pass as
``Network.forward_layers``, conv and pool layers included), what each hidden neuron looks for (a
conv net's first-layer filters and the drawn digit's feature maps), the test digits it gets wrong
and its confusion matrix, and saturation per epoch. Inline CSS and JavaScript, data as base64;
the page opens from ``file://`` and makes no network request.

The library never prints: the command line (``nndl report``, ``nndl explore``) says where the
page went.
"""

from __future__ import annotations

from pathlib import Path

from nndl.fileio import atomic_write_text, output_path

from .collect import Report, from_folder, from_model
from .page import html

__all__ = ["build_report", "write_report", "report_path", "report_inputs", "Report"]


def build_report(source, test=None, dataset: str | None = None) -> Report:
    """The ``Report`` of ``source``: an exploration folder or a model file. ``test``: the test
    split (``nndl.data.Split``) for the digits, mistakes and confusion matrix (None leaves them out)."""
    source = Path(source)
    return from_folder(source, test) if source.is_dir() else from_model(source, test, dataset)


def report_path(source) -> Path:
    """Where the page goes by default: FOLDER/report.html, or beside a model file as NAME.report.html."""
    source = Path(source)
    return source / "report.html" if source.is_dir() else source.with_name(source.stem + ".report.html")


def report_inputs(source) -> list[Path]:
    """The files a report of ``source`` reads (its page may replace none of them): the model
    file, or the folder's results.json, figures and models/*.json."""
    source = Path(source)
    if not source.is_dir():
        return [source]
    from nndl.explore.beyond_figures import FILES as BEYOND
    from nndl.explore.figures import FILES as LEVEL3

    try:
        models = sorted((source / "models").glob("*.json"))
    except OSError:
        models = []
    return [source / "results.json", *(source / f for f in (*LEVEL3, *BEYOND)), *models]


def write_report(source, out=None, test=None, dataset: str | None = None) -> Path:
    """Build the page of ``source`` and write it atomically to ``out`` (default ``report_path``).

    ``out`` may be no file the report reads (``report_inputs``): refused (``OutputError``)
    before any work, as is a folder, FIFO or device (``nndl.fileio.output_path``)."""
    out = Path(out) if out is not None else report_path(source)
    output_path(out, report_inputs(source))
    atomic_write_text(out, html(build_report(source, test, dataset)))
    return out
