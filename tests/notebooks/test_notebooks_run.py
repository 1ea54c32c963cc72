"""The notebooks of notebooks/ as handed out: committed without outputs, a QUICK switch at the top,
and each runs from top to bottom in QUICK mode in a real kernel, drawing its figures; then a
reader's right answers make every check cell say "Right:"."""

from __future__ import annotations

import re

import pytest
from conftest import NOTEBOOKS, exercise_cells, nbclient, nbformat, outputs

HANDED_OUT = ("level3.ipynb", "beyond.ipynb", "level4.ipynb")
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


# A reader's answers, derived as the book derives them (not read off the checks).
ANSWERS = {
    "level3.ipynb": [
        "def my_delta(z, a, y):\n    return a - y",
        "my_lmbda = 1.0",
        # Var(z) = sum_i x_i^2 Var(w) + Var(b), averaged over the images
        "s = float(np.mean(np.sum(training.images[:1000].astype(np.float64) ** 2, axis=1)))\n"
        "my_prediction = {'large': (s + 1) ** 0.5, 'default': (s / 784 + 1) ** 0.5}",
    ],
    "beyond.ipynb": [
        "def my_softmax_delta(z, a, y):\n    return a - y",
        "def my_speedup(mu):\n    return 1 / (1 - mu)",
    ],
    "level4.ipynb": [
        # a map: one 5x5 filter and a bias; a dense neuron: 784 weights and a bias, 20 x 24 x 24 of them
        "my_counts = {'conv': (5 * 5 + 1) * 20, 'dense': (784 + 1) * 20 * 24 * 24}",
        # the largest of each non-overlapping 2x2 window of X
        "my_pooled = X.reshape(2, 2, 2, 2).max(axis=(1, 3))",
        # a 5x5 filter fits 28 - 5 + 1 = 24 times a side; pooling halves; the second filters see 20 maps
        "my_shapes = [(24, 24, 20), (12, 12, 20), (8, 8, 40), (4, 4, 40), (100,), (10,)]\n"
        "my_params = (5*5*1 + 1)*20 + (5*5*20 + 1)*40 + (4*4*40 + 1)*100 + (100 + 1)*10",
    ],
}


def test_every_notebook_has_its_answers_here():
    assert set(ANSWERS) == set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_runs_end_to_end_in_quick_mode_then_right_answers_pass_every_check(execute, name):
    source = nbformat.read(NOTEBOOKS / name, as_version=4)
    n = len(exercise_cells(source))
    nb = execute(NOTEBOOKS / name, ANSWERS[name])
    handed_out, answered = nb.cells[:len(source.cells)], nb.cells[len(source.cells):]
    figures = sum(c.source.count("display(fig_") for c in source.cells if c.cell_type == "code")
    assert figures >= 5
    shown = outputs(nbformat.v4.new_notebook(cells=handed_out), "display")
    assert sum("image/png" in d for d in shown) == figures                     # every figure drawn inline
    text = "".join(outputs(nbformat.v4.new_notebook(cells=handed_out)))
    assert text.count("Not answered yet:") == n >= 2                            # handed out unanswered
    assert "Traceback" not in text
    checked = "".join(outputs(nbformat.v4.new_notebook(cells=answered)))
    assert checked.count("Right:") == n == len(ANSWERS[name]), checked


def test_a_notebook_with_an_error_fails(execute, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("QUICK = True"),
                                         nbformat.v4.new_code_cell("1 / 0")])
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="ZeroDivisionError"):
        execute(path)
