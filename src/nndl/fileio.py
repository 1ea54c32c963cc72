"""Files that are safe: atomic writes, our own temporary files, checks before long work.

* Atomic writes: write to a temporary file beside the target, then rename. A reader (or a
  later run) sees either the old file or the complete new one, never a half-written file,
  even if the process is killed mid-write.
* Our temporary files are named ``.<target>.nndl-<host>-<pid>-<random><suffix>`` (suffix
  ending in ``.part``). A run killed with ``kill -9`` cannot delete its own, so the next
  write to the same folder does (:func:`remove_stale_temps`): a temporary file is stale when
  the process that made it on this machine is gone (or, made elsewhere or by an older
  nndl without that name, when it is a day old). Files of live runs are left alone.
* Errors name the file the user asked for, not our temporary name: a full disk while
  saving ``model.json`` reads ``model.json: not saved: No space left on device``.
* :func:`check_writable` answers before a long run whether its output can be written;
  :func:`write_new` writes a file under a name nobody has yet (never overwriting);
  :func:`new_folder` makes a fresh folder with a bounded number of tries.
* Every output goes through :func:`output_path`, the one rule of what an output may replace:
  a regular file or nothing. A symbolic link is written through, atomically, to the file it
  leads to (the link stays a link, as ``echo > link`` leaves it); a folder, a FIFO, a device
  or a socket is refused (``OutputError``), never replaced; and an output that is the same
  file as one of the command's inputs (same inode, whatever the path or link that names it)
  is refused before any work. :func:`check_output` adds the checks of :func:`check_writable`
  (for the command line, before a long run); :func:`output_folder` is the same rule for a
  folder that outputs go into (made only when its parent exists, and the caller says so).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import OutputError

STALE_AGE_S = 24 * 3600.0  # a temporary file we cannot trace to a process is stale after a day
MAX_NAME_TRIES = 1000  # model-2.json ... model-1000.json, folder_2 ... folder_1000


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:20] or "host"


def temp_prefix(name: str) -> str:
    """The start of the name of our temporary files for target ``name`` in this process."""
    return f".{name}.nndl-{_host()}-{os.getpid()}-"


_OURS = re.compile(r"^\.(?P<name>.+)\.nndl-(?P<host>[A-Za-z0-9]*)-(?P<pid>\d+)-[^/]*\.part$")
_LEGACY = re.compile(r"^\..+\.part$")  # mkstemp's names, before nndl put its pid in them


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's), or cannot tell: keep the file
    return True


def is_stale(path: Path, now: float | None = None) -> bool:
    """Whether ``path`` is a temporary file of ours that no live process is writing."""
    m = _OURS.match(path.name)
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except OSError:
        return False
    if m is None:
        return _LEGACY.match(path.name) is not None and age > 3600.0  # old nndl: an hour, as it did
    if m["host"] == _host():
        return not _alive(int(m["pid"])) or (int(m["pid"]) != os.getpid() and age > STALE_AGE_S)
    return age > STALE_AGE_S


def remove_stale_temps(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Delete our stale temporary files in ``folder`` (for target ``name``, or all); return them."""
    folder = Path(folder)
    removed = []
    pattern = f".{glob_escape(name)}.*.part" if name is not None else ".*.part"
    try:
        candidates = list(folder.glob(pattern))
    except OSError:
        return removed
    for part in candidates:
        if part.is_file() and not part.is_symlink() and is_stale(part):
            with contextlib.suppress(OSError):
                part.unlink()
                removed.append(part)
    return removed


def temp_dir_prefix(prefix: str) -> str:
    """``prefix`` + ``<host>-<pid>-``: the start of a temporary folder of ours (``tempfile``'s prefix)."""
    return f"{prefix}{_host()}-{os.getpid()}-"


def remove_stale_temp_dirs(parent: str | os.PathLike, prefix: str) -> list[Path]:
    """Delete folders ``<parent>/<prefix><host>-<pid>-*`` whose process is gone (see ``is_stale``)."""
    removed = []
    pattern = re.compile(re.escape(prefix) + r"(?P<host>[A-Za-z0-9]*)-(?P<pid>\d+)-[^/]*$")
    try:
        entries = list(Path(parent).glob(glob_escape(prefix) + "*"))
    except OSError:
        return removed
    now = time.time()
    for d in entries:
        m = pattern.match(d.name)
        try:
            if not d.is_dir() or d.is_symlink() or d.lstat().st_uid != os.getuid():
                continue
            age = now - d.lstat().st_mtime
        except OSError:
            continue
        stale = (
            (not _alive(int(m["pid"])) or (int(m["pid"]) != os.getpid() and age > STALE_AGE_S))
            if m and m["host"] == _host()
            else age > STALE_AGE_S
        )
        if stale:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def new_temp(folder: str | os.PathLike, name: str, suffix: str = ".part") -> Path:
    """Create an empty temporary file of ours in ``folder`` for target ``name``; return its path."""
    if not suffix.endswith(".part"):
        suffix += ".part"
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(name), suffix=suffix, dir=folder)
    os.close(fd)
    return Path(tmp_name)


def _named(error: OSError, target: Path, what: str = "not saved") -> OSError:
    """``error`` again, naming ``target`` (the user's file) instead of our temporary name."""
    reason = error.strerror or str(error)
    new = (
        type(error)
        if type(error)
        in (OSError, PermissionError, FileNotFoundError, IsADirectoryError, NotADirectoryError, FileExistsError)
        else OSError
    )
    return new(error.errno, f"{what}: {reason}", str(target))


_KINDS = (
    (stat.S_ISREG, "a file"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def output_path(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """The file that writing the output ``path`` will replace; raise ``OutputError`` if that destroys something.

    ``path`` itself, or - when it is a symbolic link - the file the link
    leads to, so the rename of an atomic write lands there and the link stays. Refused: a path
    that is (or leads to) anything but a regular file or nothing - a folder, a FIFO, a device
    such as /dev/full, a socket -, a loop of links, and the same file as any of ``inputs``
    (compared by device and inode, so another name, a link or a hard link of an input is caught).
    The error's ``filename`` is ``path`` as given.
    """
    given = Path(path)
    try:
        st = os.stat(given)
    except FileNotFoundError:
        st = None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise OutputError(errno.ELOOP, "is a loop of symbolic links; give the path of a file", str(given)) from None
        st = None  # a parent that is a file, no permission: the write (or check_writable) says why
    if st is not None and not stat.S_ISREG(st.st_mode):
        through = f" (through the symbolic link, {os.path.realpath(given)})" if os.path.islink(given) else ""
        hint = (
            f"give the path of a file inside it, such as {given / 'out'}"
            if stat.S_ISDIR(st.st_mode)
            else "only a regular file (or a new name) can be written"
        )
        raise OutputError(
            errno.EISDIR if stat.S_ISDIR(st.st_mode) else errno.EINVAL,
            f"is {_kind(st.st_mode)}{through}, not a file; nndl never replaces one; {hint}",
            str(given),
        )
    if st is not None:
        for source in inputs:
            try:
                other = os.stat(source)
            except (OSError, ValueError):
                continue
            if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                same = "" if os.fspath(source) == os.fspath(given) else f" ({os.fspath(source)})"
                raise OutputError(
                    errno.EEXIST,
                    f"is also an input of this command{same}; writing it "
                    f"would destroy what is being read; give another path",
                    str(given),
                )
    return Path(os.path.realpath(given)) if os.path.islink(given) else given


def check_output(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """``output_path`` and ``check_writable`` at once: for the command line, before any work.

    Returns the file a later atomic write of ``path`` replaces. Raises ``OutputError`` (what
    writing would destroy) or another ``OSError`` (what cannot be written), each naming ``path``.
    """
    check_writable(path)
    return output_path(path, inputs)


def output_folder(path: str | os.PathLike, make: bool = True) -> tuple[Path, bool]:
    """(the folder, whether it was made now) for outputs that go into folder ``path``.

    An existing folder (or a link to one) is used; anything else that exists is refused
    (``OutputError``). A missing folder is made only when its parent is a folder already:
    a mistyped path never grows a chain of folders somewhere; the caller says it made one.
    ``make=False`` checks the same rule before any work and makes nothing (the second value
    then says whether the folder would be made).
    """
    folder = Path(path)
    if folder.is_dir():
        return folder, False
    if os.path.lexists(folder):
        try:
            kind = _kind(os.stat(folder).st_mode)
        except OSError:
            kind = "a symbolic link to nothing"
        raise OutputError(errno.ENOTDIR, f"exists and is not a folder (it is {kind})", str(folder))
    parent = folder.parent
    if not parent.is_dir():
        raise OutputError(
            errno.ENOENT,
            f"neither it nor its parent {parent} exists; nndl makes at most "
            f"the last folder of the path: make {parent} first",
            str(folder),
        )
    if not make:
        return folder, True
    try:
        folder.mkdir()
    except FileExistsError:
        return output_folder(folder)[0], False
    except OSError as e:
        raise _named(e, folder, "cannot be made") from e
    return folder, True


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it onto ``path``.

    The caller writes the whole file to the yielded path. If the block raises (or the
    process dies), the target is untouched and the temporary file is removed (by the next
    write to that folder, after a kill). An ``OSError`` names ``path``. ``path`` must be
    (or lead to, through symbolic links) a regular file or nothing (``output_path``): a link
    is written through to its file, and a folder, FIFO or device is refused, never replaced.
    """
    given = Path(path)
    target = output_path(given)
    try:
        if target == given:
            target.parent.mkdir(parents=True, exist_ok=True)
        elif not target.parent.is_dir():  # a link to a file in a folder that is gone: make nothing there
            raise NotADirectoryError(
                errno.ENOENT, f"is a symbolic link to {os.readlink(given)!r}, whose folder does not exist", str(given)
            )
        remove_stale_temps(target.parent, target.name)
        tmp = new_temp(target.parent, target.name, suffix)
    except OutputError:
        raise
    except OSError as e:
        raise _named(e, given) from e
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, target)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _named(e, given) from e
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (flushed and fsynced before the rename)."""
    with atomic_path(path) as tmp:
        _write_synced(tmp, data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def numbered(path: str | os.PathLike, k: int) -> Path:
    """``model.json`` for k = 1, else ``model-k.json``."""
    p = Path(path)
    return p if k == 1 else p.with_name(f"{p.stem}-{k}{p.suffix}")


def write_new(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` under ``path``, or ``path-2``, ``path-3``... whichever nobody has yet.

    Never overwrites: the complete file is linked to the first free name (``os.link``
    fails if the name exists, even when another process takes it at the same moment).
    Returns the path written.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(target.parent, target.name)
        tmp = new_temp(target.parent, target.name)
    except OSError as e:
        raise _named(e, target) from e
    try:
        _write_synced(tmp, data)
        os.chmod(tmp, 0o666 & ~_umask())
        for k in range(1, MAX_NAME_TRIES + 1):
            candidate = numbered(target, k)
            try:
                os.link(tmp, candidate)
            except FileExistsError:
                continue
            except OSError:  # a file system without hard links: check, then rename
                if os.path.lexists(candidate):
                    continue
                os.replace(tmp, candidate)
            return candidate
        raise FileExistsError(errno.EEXIST, f"it and the {MAX_NAME_TRIES - 1} numbered names after it are all taken")
    except OSError as e:
        raise _named(e, target) from e
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def check_writable(path: str | os.PathLike) -> None:
    """Raise ``OSError`` naming ``path`` now if a file cannot be written there later.

    For the output of a long run (``nndl train --save``): it must not be a folder, its
    nearest existing parent must be a folder, and a file can be created in it (tried with
    a temporary file of ours, removed at once).
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(
            errno.EISDIR, f"is a folder; give the path of a file, such as {target / 'model.json'}", str(target)
        )
    real = output_path(target)
    if real != target and not real.parent.is_dir():
        raise NotADirectoryError(
            errno.ENOENT, f"is a symbolic link to {os.readlink(target)!r}, whose folder does not exist", str(target)
        )
    target = real if real != target else target
    parent = target.parent
    while not parent.exists():
        if os.path.lexists(parent):  # a dangling symbolic link
            raise NotADirectoryError(
                errno.ENOTDIR, f"is a symbolic link to {os.readlink(parent)!r}, which does not exist", str(parent)
            )
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is not a folder, so nothing can be saved inside it", str(parent))
    try:
        new_temp(parent, target.name if parent == target.parent else "write-check").unlink()
    except OSError as e:
        raise OSError(e.errno, f"cannot be written: {e.strerror or e} (in {parent})", str(target)) from e


def new_folder(base: str | os.PathLike) -> Path:
    """Make a new empty folder ``base``, or ``base_2``, ``base_3``...; return it.

    Raises ``NotADirectoryError`` naming the culprit when a parent exists but is not a
    folder (a file, or a symbolic link to nothing), instead of trying names forever.
    """
    base = Path(base)
    _make_parents(base.parent)
    for k in range(1, MAX_NAME_TRIES + 1):
        folder = base if k == 1 else base.with_name(f"{base.name}_{k}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
        except OSError as e:
            raise _named(e, folder, "cannot be made") from e
    raise FileExistsError(
        errno.EEXIST, f"{base} and {MAX_NAME_TRIES - 1} numbered names after it are all taken", str(base)
    )


def _make_parents(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return
    except FileExistsError:
        pass
    except OSError as e:
        raise _named(e, folder, "cannot be made") from e
    for p in [*reversed(folder.parents), folder]:  # the first part that is not a folder
        if os.path.lexists(p) and not p.is_dir():
            if p.is_symlink():
                what = "which does not exist" if not p.exists() else "which is not a folder"
                raise NotADirectoryError(errno.ENOTDIR, f"is a symbolic link to {os.readlink(p)!r}, {what}", str(p))
            raise NotADirectoryError(errno.ENOTDIR, "exists but is not a folder", str(p))
    raise NotADirectoryError(errno.ENOTDIR, "cannot be made", str(folder))
