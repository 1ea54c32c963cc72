"""The notebooks of notebooks/ as handed out: committed without outputs, a QUICK switch at the top,
and each runs from top to bottom in QUICK mode in a real kernel, drawing its figures."""

from __future__ import annotations

import re

import pytest
from conftest import NOTEBOOKS, exercise_cells, nbclient, nbformat, outputs

HANDED_OUT = ("level3.ipynb", "beyond.ipynb")
ALL = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def test_the_handouts_are_there():
    assert set(HANDED_OUT) <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_committed_without_outputs_or_execution_counts(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: cell {i} has outputs; clear them before committing"
            assert cell.execution_count is None, f"{name}: cell {i} has an execution count; clear outputs"


@pytest.mark.parametrize("name", ALL)
def test_first_code_cell_has_the_quick_switch_on_and_installs_nndl_only_when_missing(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code").source
    assert re.search(r"^QUICK = True\b", first, re.M), f"{name}: the first code cell must set QUICK = True"
    assert 'find_spec("nndl") is None' in first and "pip" in first


@pytest.mark.parametrize("name", ALL)
def test_runs_end_to_end_in_quick_mode(execute, name):
    nb = execute(NOTEBOOKS / name)
    source = nbformat.read(NOTEBOOKS / name, as_version=4)
    figures = sum(c.source.count("display(fig_") for c in source.cells if c.cell_type == "code")
    assert figures >= 5
    assert sum("image/png" in d for d in outputs(nb, "display")) == figures   # every figure drawn inline
    text = "".join(outputs(nb))
    assert text.count("Not answered yet:") == len(exercise_cells(source)) >= 2   # handed out unanswered
    assert "Traceback" not in text


def test_a_notebook_with_an_error_fails(execute, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("QUICK = True"),
                                         nbformat.v4.new_code_cell("1 / 0")])
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="ZeroDivisionError"):
        execute(path)
