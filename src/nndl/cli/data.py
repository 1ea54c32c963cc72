"""``nndl data fetch`` and ``nndl data info``: fill the data cache, and say what is in it."""

from __future__ import annotations

import json
import os
import sys

from nndl import data as nd
from nndl.errors import ConfigError

from .common import FileBars, UsageError, bars_wanted, fetched_line, say

ROOT_HELP = "data root (default: $NNDL_DATA_DIR, else ~/.cache/nndl or the platform's cache folder)"


def add_parser(subparsers) -> None:
    """Add ``data`` with its subcommands ``fetch`` and ``info``."""
    p = subparsers.add_parser(
        "data",
        help="fetch MNIST / Fashion-MNIST, or show what is cached",
        description="Manage the local copies of the data sets. Files are verified "
        "by SHA-256 before use and kept in <root>/<dataset>/.",
    )
    sub = p.add_subparsers(dest="data_command", metavar="{fetch,info}", required=True)
    f = sub.add_parser(
        "fetch",
        help="download a data set's four files (mirrors, then fallbacks)",
        description="Make sure the data set's four IDX files are in the cache and verified, "
        "fetching what is missing, and say in one line where they came from (the sources "
        "tried are listed only when every one failed).",
    )
    f.add_argument("dataset", nargs="?", default="mnist", help=f"one of {', '.join(nd.DATASETS)} (default mnist)")
    f.add_argument("--data-dir", metavar="DIR", help=ROOT_HELP)
    f.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    f.set_defaults(run=run_fetch)
    i = sub.add_parser(
        "info",
        help="where the cache is, what is in it, and whether it verifies",
        description="Show the data root and, for each data set, its files, their sizes "
        "and whether each matches its published SHA-256. Changes nothing.",
    )
    i.add_argument("dataset", nargs="?", help="one data set (default: all of them)")
    i.add_argument("--data-dir", metavar="DIR", help=ROOT_HELP)
    i.add_argument("--json", action="store_true", help="print one JSON object")
    i.add_argument("-q", "--quiet", action="store_true", help="accepted for symmetry: info draws no progress bars")
    i.set_defaults(run=run_info)


def _spec(name: str) -> nd.DatasetSpec:
    try:
        return nd.get_spec(name)
    except ConfigError as e:
        raise UsageError(f"argument dataset: {e}") from None


def run_fetch(args) -> int:
    """Fetch what is missing (a bar per file) and say in one line where the files came from; the
    sources tried are listed only when every one failed (in the error)."""
    spec = _spec(args.dataset)
    bars = FileBars(bars_wanted(args.quiet))
    try:
        report = nd.fetch(spec.name, data_dir=args.data_dir, progress=bars)
    finally:
        bars.close()
    for f in report.files:  # copies found damaged in the cache, deleted and fetched again
        for note in f.notes:
            if note not in f.tried:  # (a source that failed before another served the file is no news)
                say(f"nndl: note: {note}")
    print(fetched_line(spec.title, report.directory, report.sources))
    return 0


def _status(f: nd.FileInfo) -> str:
    if not f.present:
        return "missing"
    return "verified" if f.verified else f"FAILS VERIFICATION: {f.problem}"


def _file_json(f: nd.FileInfo) -> dict:
    return {
        "file": f.filename,
        "path": str(f.path),
        "present": f.present,
        "bytes": f.size,
        "verified": f.verified,
        "problem": f.problem,
    }


def run_info(args) -> int:
    """The data root, and each data set's files with size and checksum status."""
    specs = [_spec(args.dataset)] if args.dataset else list(nd.DATASETS.values())
    root = nd.default_root() if args.data_dir is None else os.path.expanduser(args.data_dir)
    origin = (
        "--data-dir"
        if args.data_dir is not None
        else "$NNDL_DATA_DIR"
        if os.environ.get("NNDL_DATA_DIR")
        else "default; set NNDL_DATA_DIR to move it"
    )
    infos = [nd.info(spec.name, data_dir=args.data_dir) for spec in specs]
    if args.json:
        json.dump(
            {
                "root": str(root),
                "datasets": [
                    {
                        "dataset": i.dataset,
                        "title": i.title,
                        "directory": str(i.directory),
                        "complete": i.complete,
                        "files": [_file_json(f) for f in i.files],
                        "array_cache": [_file_json(f) for f in i.array_cache],
                    }
                    for i in infos
                ],
            },
            sys.stdout,
            indent=2,
        )
        print()
        return 0
    print(f"data root: {root} ({origin})")
    for i in infos:
        n_ok = sum(bool(f.verified) for f in i.files)
        state = (
            "complete: all 4 files verified"
            if i.complete
            else f"incomplete: {n_ok} of {len(i.files)} files verified; run: nndl data fetch {i.dataset}"
        )
        if not any(f.present for f in i.files):
            state = f"not fetched yet; run: nndl data fetch {i.dataset}"
        print(f"\n{i.title} ({i.dataset}) in {i.directory}: {state}")
        rows = [f for f in i.files] + [f for f in i.array_cache if f.present]
        width = max(len(f.path.name) for f in rows)
        for f in rows:
            size = f"{f.size:>13,}" if f.size is not None else f"{'-':>13}"
            print(f"  {f.path.name:<{width}}  {size}  {_status(f)}")
    return 0
