"""nndl.fileio: our temporary files by name, stale ones removed, checks before long work, never
overwriting, bounded folder names."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time

import pytest

from nndl import fileio


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def ours(folder, name, pid, host=None):
    host = fileio._host() if host is None else host
    p = folder / f".{name}.nndl-{host}-{pid}-abc123.part"
    p.write_text("half")
    return p


def test_temp_names_carry_host_and_pid(tmp_path):
    t = fileio.new_temp(tmp_path, "m.json")
    assert t.name.startswith(f".m.json.nndl-{fileio._host()}-{os.getpid()}-") and t.name.endswith(".part")
    assert not fileio.is_stale(t)  # our own, live


def test_stale_temps_of_dead_processes_go_at_the_next_write(tmp_path):
    dead = ours(tmp_path, "m.json", dead_pid())
    live_proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = ours(tmp_path, "m.json", live_proc.pid)
        other_target = ours(tmp_path, "other.json", dead_pid())
        elsewhere = ours(tmp_path, "m.json", 12345, host="otherhost")
        fileio.atomic_write_text(tmp_path / "m.json", "{}")
        assert not dead.exists()
        assert live.exists() and other_target.exists() and elsewhere.exists()
        os.utime(elsewhere, (1, 1))  # a day old, from another machine: stale
        fileio.atomic_write_text(tmp_path / "m.json", "{}")
        assert not elsewhere.exists() and live.exists()
    finally:
        live_proc.kill()
        live_proc.wait()


def test_a_failed_write_names_the_target_and_leaves_nothing(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as e:
        fileio.atomic_write_bytes(tmp_path / "m.json", b"x" * 1000)
    assert e.value.filename == str(tmp_path / "m.json") and "not saved: No space left on device" in e.value.strerror
    assert list(tmp_path.iterdir()) == []


def test_check_writable(tmp_path):
    fileio.check_writable(tmp_path / "m.json")
    fileio.check_writable(tmp_path / "new" / "deeper" / "m.json")  # parents are made when saving
    assert not (tmp_path / "new").exists() and list(tmp_path.iterdir()) == []  # the check left nothing
    with pytest.raises(IsADirectoryError, match="is a folder"):
        fileio.check_writable(tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError) as e:
        fileio.check_writable(tmp_path / "f" / "m.json")
    assert e.value.filename == str(tmp_path / "f")
    (tmp_path / "link").symlink_to(tmp_path / "nothing")
    with pytest.raises(NotADirectoryError, match="symbolic link"):
        fileio.check_writable(tmp_path / "link" / "m.json")


def test_write_new_never_overwrites(tmp_path):
    first = fileio.write_new(tmp_path / "run.json", b"1")
    second = fileio.write_new(tmp_path / "run.json", b"2")
    third = fileio.write_new(tmp_path / "run.json", b"3")
    assert [p.name for p in (first, second, third)] == ["run.json", "run-2.json", "run-3.json"]
    assert [p.read_bytes() for p in (first, second, third)] == [b"1", b"2", b"3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-2.json", "run-3.json", "run.json"]


def test_new_folder_numbers_and_stops(tmp_path, monkeypatch):
    base = tmp_path / "a" / "b" / "20250101_000000"
    assert fileio.new_folder(base) == base
    assert fileio.new_folder(base).name == "20250101_000000_2"
    monkeypatch.setattr(fileio, "MAX_NAME_TRIES", 3)
    assert fileio.new_folder(base).name == "20250101_000000_3"
    with pytest.raises(FileExistsError, match="are all taken"):
        fileio.new_folder(base)


@pytest.mark.parametrize("kind", ["dangling link", "link to a file", "file"])
def test_new_folder_under_something_that_is_not_a_folder(tmp_path, kind):
    culprit = tmp_path / "pictures" / "level3"
    culprit.parent.mkdir()
    if kind == "dangling link":
        culprit.symlink_to(tmp_path / "gone")
    elif kind == "link to a file":
        (tmp_path / "file").write_text("x")
        culprit.symlink_to(tmp_path / "file")
    else:
        culprit.write_text("x")
    start = time.perf_counter()
    with pytest.raises(NotADirectoryError) as e:
        fileio.new_folder(culprit / "20250101_000000")
    assert e.value.filename == str(culprit) and time.perf_counter() - start < 5


def test_stale_npm_folders_are_removed(tmp_path):
    dead = tmp_path / f"nndl-npm-{fileio._host()}-{dead_pid()}-xyz"
    live = tmp_path / f"nndl-npm-{fileio._host()}-{os.getpid()}-xyz"
    for d in (dead, live):
        (d / "files").mkdir(parents=True)
    assert fileio.remove_stale_temp_dirs(tmp_path, "nndl-npm-") == [dead]
    assert not dead.exists() and live.exists()
