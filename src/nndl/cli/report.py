"""``nndl report RUN_OR_MODEL``: one self-contained report.html that shows a trained network at work.

RUN_OR_MODEL is an exploration folder (``pictures/level3/YYYYMMDD_HHMMSS``, written by
``nndl explore level3``) or a model file (``nndl train --save``). The page goes to
FOLDER/report.html, or beside the model file as NAME.report.html, unless ``-o`` says where.
The test digits come from the data set the exploration or the model file names (or
``--dataset``), fetched and cached like every nndl command's data.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nndl.data import DATASETS
from nndl.data.provenance import check_recorded, recorded_of
from nndl.errors import ModelFileError, OutputError
from nndl.fileio import check_output
from nndl.report import report_inputs, report_path, write_report
from nndl.report.collect import check_for_page, read_model
from nndl.report.resultsfile import read_results

from .common import DATASET_HELP, UsageError, bars_wanted, describe, load_data


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help="write report.html: draw a digit and watch a trained network read it, offline",
        description="Write one self-contained HTML page (it opens from disk, with no network access) that "
        "shows a trained network at work: a drawing pad whose digit the network reads in the "
        "browser, the 28x28 input it sees, its hidden activations and ten outputs, what each "
        "hidden neuron looks for (for a conv net: the first layer's filters and the digit's feature "
        "maps), the test digits it gets wrong with the confusion matrix, "
        "saturation per epoch, and - for an exploration folder - the accuracy ladder, each "
        "run's configuration and curves, and the figures.",
    )
    p.add_argument(
        "source", metavar="RUN_OR_MODEL", help="an exploration folder (pictures/level3/YYYYMMDD_HHMMSS) or a model file"
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE.html",
        help="where to write the page (default: FOLDER/report.html, or NAME.report.html beside the model file)",
    )
    p.add_argument(
        "--dataset",
        default=None,
        metavar="NAME|PATH.npz",
        help=DATASET_HELP + " (default: the data set the exploration or model file names, else mnist)",
    )
    p.add_argument(
        "--data-dir", metavar="DIR", help="data root for mnist/fashion (default: $NNDL_DATA_DIR or ~/.cache/nndl)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars while fetching data")
    p.set_defaults(run=run)


def dataset_of(source: Path) -> tuple[str | None, str | None]:
    """(the data set an exploration folder's results.json or a model file records, its SHA-256), each
    None when not recorded; the file is read and checked whole here, before any data is loaded."""
    if source.is_dir():
        return recorded_of(read_results(source).get("options"), source / "results.json", "results file")
    net, d, _, _ = read_model(source)
    check_for_page(net, source, None)
    return recorded_of(d, source, "model file", ModelFileError)


def run(args) -> int:
    source = Path(args.source)
    if not source.exists():
        raise UsageError(
            f"argument RUN_OR_MODEL: {source} does not exist; give an exploration folder "
            f"(pictures/level3/YYYYMMDD_HHMMSS) or a model file"
        )
    if source.is_dir() and not (source / "results.json").is_file():
        raise UsageError(
            f"argument RUN_OR_MODEL: {source} has no results.json; give a folder made by "
            f"nndl explore level3, or a model file"
        )
    out = Path(args.output) if args.output else report_path(source)
    if out.exists() and out.is_dir():
        raise UsageError(f"argument --output: {out} is a folder; give the path of the .html file to write")
    recorded, sha256 = dataset_of(source)  # the source checked whole before any work
    if not args.dataset and recorded:  # the very file it was made with, or an error: never another one
        check_recorded(recorded, sha256, source / "results.json" if source.is_dir() else source)
    dataset = args.dataset or recorded or "mnist"
    try:  # before any work: the page may replace no file it reads, nor a device, FIFO or folder
        check_output(out, [*report_inputs(source), *([dataset] if dataset not in DATASETS else [])])
    except OutputError as e:
        raise UsageError(f"argument --output: {describe(e)}") from None
    splits = load_data(dataset, args.data_dir, bars=bars_wanted(args.quiet))
    path = write_report(source, out, test=splits.test, dataset=dataset)
    size = path.stat().st_size
    print(f"wrote {path} ({size / 2**20:.1f} MiB): open it in a browser; it works offline", file=sys.stderr)
    print(path)
    return 0
