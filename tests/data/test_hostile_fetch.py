"""Downloads and the data folder: https only, bounded bytes and time, one clear line when the
cache cannot be written. All servers are on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hostile_helpers import needs_mount, nndl_argv, on_small_disk

from nndl.cli import main
from nndl.data import FILENAMES, DirectorySource, MirrorSource, fetch, load_mnist, registry
from nndl.data.sources import _HttpsOnlyRedirects, url_problem
from nndl.errors import ConfigError, DataError, FetchError

pytestmark = pytest.mark.usefixtures("offline_data")


class Server:
    """Loopback HTTP server; ``behaviour(handler, path)`` answers each GET."""

    def __init__(self, behaviour):
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                behaviour(self, self.path)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # a handler still trickling does not hold up the teardown
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def make(behaviour):
        servers.append(Server(behaviour))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


@pytest.fixture
def sized(tiny_mnist):
    """The tiny data set with its files' sizes registered, as MNIST's are."""
    return dataclasses.replace(tiny_mnist.spec, sizes={n: len(b) for n, b in tiny_mnist.raw.items()})


def test_plain_http_mirrors_are_refused():
    for url in ("http://yann.lecun.com/exdb/mnist/", "ftp://example.org/", "file:///etc/", "example.org/mnist"):
        with pytest.raises(ConfigError, match=r"mirror .*(plain http is not allowed|only https)"):
            MirrorSource(url)
    assert url_problem("https://ossci-datasets.s3.amazonaws.com/mnist/") is None
    assert url_problem("http://127.0.0.1:8000/") is None and url_problem("http://localhost/") is None


def test_an_http_mirror_in_the_environment_names_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("NNDL_MNIST_MIRRORS", "http://yann.lecun.com/exdb/mnist/")
    assert main(["data", "fetch", "mnist"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith(
            "nndl: error: $NNDL_MNIST_MIRRORS: mirror 'http://yann.lecun.com/exdb/mnist/': plain http is not allowed"
        )
        and len(err.splitlines()) == 1
    )


def test_a_redirect_to_plain_http_is_refused(serve, tiny_mnist, tmp_path):
    def redirect(handler, path):
        handler.send_response(302)
        handler.send_header("Location", "http://evil.example/" + path.rsplit("/", 1)[-1])
        handler.end_headers()

    s = serve(redirect)
    with pytest.raises(FetchError, match=r"refused the redirect from .* to 'http://evil.example/.*': plain http"):
        fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[MirrorSource(s.url)])
    assert len(s.requests) == 1  # the other three files skip the mirror at once


def test_the_redirect_handler_refuses_https_to_http():
    req = urllib.request.Request("https://mirror.example/mnist/t10k-labels-idx1-ubyte.gz")
    with pytest.raises(OSError, match="refused the redirect from https://mirror.example/.* to 'http://"):
        _HttpsOnlyRedirects().redirect_request(req, None, 301, "Moved", {}, "http://mirror.example/x.gz")
    ok = _HttpsOnlyRedirects().redirect_request(req, None, 301, "Moved", {}, "https://other.example/x.gz")
    assert ok.full_url == "https://other.example/x.gz"


def test_an_endless_body_is_cut_at_the_known_size(serve, sized, tmp_path):
    def endless(handler, path):
        handler.send_response(200)
        handler.end_headers()
        try:
            for _ in range(10_000):  # 640 MB if nobody stops reading
                handler.wfile.write(b"\0" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass

    s = serve(endless)
    with pytest.raises(FetchError, match=r"more than [\d,]+ bytes arrived, more than the published file can be"):
        fetch(sized, data_dir=tmp_path, sources=[MirrorSource(s.url)])
    assert not any(p.name.endswith(".part") for p in (tmp_path / "tiny").iterdir())


def test_a_content_length_beyond_the_known_size_is_not_downloaded(serve, sized, tmp_path):
    def huge(handler, path):
        handler.send_response(200)
        handler.send_header("Content-Length", str(10**12))
        handler.end_headers()

    s = serve(huge)
    with pytest.raises(FetchError, match=r"announces 1,000,000,000,000 bytes, more than the [\d,]+ the published"):
        fetch(sized, data_dir=tmp_path, sources=[MirrorSource(s.url)])


def test_a_hanging_mirror_is_skipped_after_its_timeout(serve, tiny_mnist, tiny_source_dir, tmp_path):
    release = threading.Event()

    def hang(handler, path):
        release.wait(30)

    s = serve(hang)
    assert MirrorSource("https://example.org/").timeout <= 5  # "a few seconds, not 30"
    start = time.perf_counter()
    try:
        report = fetch(
            tiny_mnist.spec,
            data_dir=tmp_path,
            sources=[MirrorSource(s.url, timeout=0.5), DirectorySource(tiny_source_dir)],
        )
    finally:
        release.set()
    assert time.perf_counter() - start < 10
    assert set(report.sources.values()) == {str(tiny_source_dir)}
    assert "no answer within 0.5 s" in report.files[0].notes[0]
    assert "skipped after an earlier failure" in report.files[1].notes[0]
    assert len(s.requests) == 1


def test_a_trickling_mirror_is_skipped_as_too_slow(serve, tiny_mnist, tiny_source_dir, tmp_path):
    def trickle(handler, path):
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        try:
            for _ in range(100):
                handler.wfile.write(b"\0" * 10)
                handler.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass

    s = serve(trickle)
    report = fetch(
        tiny_mnist.spec,
        data_dir=tmp_path,
        sources=[MirrorSource(s.url, timeout=2, min_rate=10_000, grace_s=0.3), DirectorySource(tiny_source_dir)],
    )
    assert report.files[0].notes[0].startswith(f"{s.url}: too slow (")


# --- one line first, and the read-only cache ---------------------------------------------------------


def test_fetch_failure_says_everything_in_its_first_line(monkeypatch, tiny_mnist, capsys, tmp_path):
    spec = dataclasses.replace(tiny_mnist.spec, system_dir=str(tmp_path / "absent"), system_package="dataset-tiny")
    monkeypatch.setitem(registry.DATASETS, "tiny", spec)
    assert main(["data", "fetch", "tiny"]) == 1
    first, *rest = capsys.readouterr().err.splitlines()
    folder = os.path.join(os.environ["NNDL_DATA_DIR"], "tiny")
    assert first == (
        f"nndl: error: cannot get Tiny-MNIST file {FILENAMES[0]}: every source failed (1 tried, "
        f"listed below); to install Tiny-MNIST by hand, put its four files (raw or .gz) in {folder}/ "
        f"or set NNDL_DATA_DIR to a folder whose tiny/ holds them"
    )
    tried = rest[1 : rest.index("the four files:")]  # one source, wrapped when long
    assert rest[0] == "tried:" and tried[0].startswith("  - ")
    assert "apt-get install dataset-tiny" in " ".join(line.strip() for line in tried)
    assert len(rest) == 1 + len(tried) + 5


def test_a_data_folder_that_cannot_be_made_is_named(monkeypatch, tiny_mnist, tiny_source_dir, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(
        DataError,
        match=rf"cannot store Tiny-MNIST file {FILENAMES[0]}: the data folder "
        rf"{blocker}/tiny cannot be written \(.*\); set NNDL_DATA_DIR",
    ) as e:
        load_mnist(tiny_mnist.spec, data_dir=blocker, sources=[DirectorySource(tiny_source_dir)])
    assert not isinstance(e.value, FetchError) and "tried" not in str(e.value)


@needs_mount
def test_a_read_only_cache_folder_says_so(tmp_path, tiny_mnist):
    """A real read-only file system: one line naming the folder, no list of failed sources."""
    root = tmp_path / "ro"
    root.mkdir()
    env = {**os.environ, "NNDL_DATA_DIR": str(root), "NNDL_MNIST_MIRRORS": "", "PATH": "/usr/bin:/bin"}
    proc = on_small_disk(root, nndl_argv("data", "fetch", "mnist"), read_only=True, env=env)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == (
        f"nndl: error: cannot store MNIST file {FILENAMES[0]}: the data folder {root}/mnist "
        f"cannot be written (Read-only file system); set NNDL_DATA_DIR (or --data-dir) to a "
        f"folder you can write, or put the four MNIST files there with write access\n"
    )


@needs_mount
def test_files_already_in_a_read_only_cache_are_used(tmp_path, tiny_mnist):
    root = tmp_path / "ro"
    root.mkdir()
    src = tiny_mnist.write(tmp_path / "src")
    code = (
        "import dataclasses, hashlib, sys; from nndl.data import load_mnist, DatasetSpec\n"
        f"spec = DatasetSpec(name='tiny', title='Tiny', sha256={tiny_mnist.spec.sha256!r}, validation_size=20)\n"
        f"s = load_mnist(spec, data_dir={str(root)!r}, sources=[]); print(len(s.training), s.notes)"
    )
    proc = on_small_disk(
        root,
        [os.sys.executable, "-c", code],
        read_only=True,
        size="4m",
        prepare=f"mkdir {root}/tiny && cp {src}/* {root}/tiny/",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "100 ()"


def test_temp_files_of_a_killed_fetch_are_removed_by_the_next_one(tiny_mnist, tiny_source_dir, tmp_path):
    """A fetch killed with SIGKILL mid-download leaves its .part file; the next fetch removes it."""
    import signal
    import subprocess
    import sys

    folder = tmp_path / "tiny"
    folder.mkdir()
    code = (
        "import os, signal; from nndl.fileio import new_temp; "
        f"p = new_temp({str(folder)!r}, 'train-images-idx3-ubyte'); open(p, 'wb').write(b'half'); "
        "print(p, flush=True); os.kill(os.getpid(), signal.SIGKILL)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    left = folder / os.path.basename(proc.stdout.strip())
    assert left.exists()
    fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[DirectorySource(tiny_source_dir)])
    assert not left.exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(f + ".gz" for f in FILENAMES)
