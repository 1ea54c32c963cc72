"""The Level 3 document's own command, `python level3/1_improved_network.py` from src/, with a
Python that has none of nndl's libraries: one line saying what to run, never a traceback.

A Python without site-packages (`-E -S`: no PYTHON* variables, no site) stands in for the system's Python
of a fresh machine; it needs nothing installed and nothing from the network.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nndl import _deps

SRC = Path(__file__).resolve().parents[2] / "src"
BARE = [sys.executable, "-E", "-S"]


def run(args, cwd=SRC):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "script, target", [("1_improved_network.py", "make run"), ("2_beyond_level3.py", "make beyond")]
)
def test_a_script_run_without_the_libraries_says_in_one_line_what_to_run(script, target):
    got = run(BARE + [f"level3/{script}", "--quick"])
    assert got.returncode == 1 and got.stdout == ""
    lines = got.stderr.splitlines()
    assert len(lines) == 1, got.stderr  # one line, no traceback
    line = lines[0]
    assert line.startswith(f"python level3/{script}: nndl needs numpy, matplotlib")
    assert f"`cd .. && {target}`" in line  # from src/, the Makefile is one up
    if (SRC.parent / ".venv" / "bin" / "python").is_file():
        assert f"`../.venv/bin/python level3/{script}`" in line


def test_the_script_names_paths_from_where_it_was_run():
    got = run(BARE + ["src/level3/1_improved_network.py"], cwd=SRC.parent)
    (line,) = got.stderr.splitlines()
    assert "`make run`" in line and "cd " not in line
    if (SRC.parent / ".venv" / "bin" / "python").is_file():
        assert "`.venv/bin/python src/level3/1_improved_network.py`" in line


@pytest.mark.parametrize("module", ["network2", "mnist_loader"])
def test_the_books_modules_without_the_libraries_say_what_to_run(module):
    got = run(BARE + ["-c", f"import {module}"])
    assert got.returncode == 1
    last = got.stderr.splitlines()[-1]
    assert last.startswith("nndl._deps.MissingDependencies: nndl needs numpy") and "make run" in last


def test_python_dash_m_nndl_without_the_libraries_is_one_line_too():
    got = run(BARE + ["-m", "nndl", "--help"])
    assert got.returncode == 1 and got.stdout == ""
    (line,) = got.stderr.splitlines()
    assert line.startswith("python -m nndl: nndl needs numpy") and "`cd .. && make run`" in line


def test_with_the_libraries_the_script_finds_the_package_beside_it():
    got = run([sys.executable, "level3/1_improved_network.py", "--help"])
    assert got.returncode == 0 and "usage: python level3/1_improved_network.py" in got.stdout


def test_the_list_of_libraries_is_pyprojects():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((SRC.parent / "pyproject.toml").read_text())["project"]
    names = [d.split(">")[0].split("=")[0].split("[")[0].strip() for d in project["dependencies"]]
    assert sorted(names) == sorted(_deps.REQUIRED.values())
