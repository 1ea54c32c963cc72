"""The notebooks' exercises with a reader's right answers: every check cell says "Right:"."""

from __future__ import annotations

import pytest
from conftest import NOTEBOOKS, exercise_cells, nbformat, outputs

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
}


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_right_answers_pass_every_check(execute, name):
    path = NOTEBOOKS / name
    assert len(exercise_cells(nbformat.read(path, as_version=4))) == len(ANSWERS[name])
    nb = execute(path, ANSWERS[name])
    text = "".join(outputs(nb))
    assert text.count("Right:") == len(ANSWERS[name]), text
    assert "Not answered yet" not in text
