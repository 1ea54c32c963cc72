"""Helpers of the hardening tests: a real full or read-only disk, in a private mount namespace.

``on_small_disk`` runs a command with a fresh tmpfs mounted at a folder, only for that
command (``unshare --mount``: nothing outside sees it, nothing is left behind). The disk is
either tiny (``size``: writes past it fail with ENOSPC, as on a full disk) or read-only
(EROFS). Tests that need it are skipped where ``unshare`` cannot do that (not root).
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys

import pytest


@functools.lru_cache(maxsize=1)
def can_mount() -> bool:
    if os.name != "posix" or shutil.which("unshare") is None:
        return False
    try:
        proc = subprocess.run(
            ["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /mnt"], capture_output=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


needs_mount = pytest.mark.skipif(
    not can_mount(), reason="needs `unshare --mount` (root) for a real full or read-only disk"
)


def on_small_disk(
    folder, argv, *, size: str = "64k", read_only: bool = False, prepare: str = "", env=None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run ``argv`` with a new tmpfs of ``size`` at ``folder``; ``prepare`` (shell) runs first."""
    folder = shlex.quote(str(folder))
    steps = [f"mount -t tmpfs -o size={size} tmpfs {folder}"]
    if prepare:
        steps.append(prepare)
    if read_only:
        steps.append(f"mount -o remount,ro {folder}")
    steps.append("exec " + " ".join(shlex.quote(a) for a in argv))
    return subprocess.run(
        ["unshare", "--mount", "sh", "-c", " && ".join(steps)], capture_output=True, text=True, timeout=timeout, env=env
    )


def nndl_argv(*args) -> list[str]:
    return [sys.executable, "-m", "nndl", *args]
