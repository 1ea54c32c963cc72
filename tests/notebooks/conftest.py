"""Running the notebooks of notebooks/ the way a reader does: a real Jupyter kernel, from this venv.

``execute(path, answers=None)`` runs every cell of the notebook, from its own folder, in an
IPython kernel started with this interpreter (a kernelspec of ours, so no other Python on the
machine is picked up), and returns the executed notebook; a cell that raises makes it raise
``nbclient.exceptions.CellExecutionError``. ``answers`` (one per exercise cell, tagged
"exercise", in order): after the notebook has run as handed out, each answer and then the
check cell that follows its exercise run again in the same kernel, as a reader who goes back
and answers does; those cells are appended to the returned notebook.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the test extra: pip install -e '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="the test extra: pip install -e '.[test]'")
pytest.importorskip("ipykernel", reason="the test extra: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "nndl-tests-venv"
# The last cell appended to each run: which Python the kernel ran.
WHICH_PYTHON = "import sys; print('kernel python:', sys.executable)"


def exercise_cells(nb) -> list:
    return [c for c in nb.cells if "exercise" in c.metadata.get("tags", [])]


@pytest.fixture(scope="session")
def kernel_path(tmp_path_factory):
    """A kernelspec that starts ipykernel with this interpreter, found first on JUPYTER_PATH."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "nndl tests (this venv)", "language": "python"}))
    return root


@pytest.fixture
def execute(kernel_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")

    def run(path: Path, answers: list[str] | None = None, timeout: int = 300):
        nb = nbformat.read(path, as_version=4)
        later = []                                   # (answer, its check cell's source), run after the notebook
        if answers is not None:
            cells = exercise_cells(nb)
            assert len(cells) == len(answers), f"{path.name}: {len(cells)} exercises, {len(answers)} answers"
            for cell, answer in zip(cells, answers):
                following = nb.cells[nb.cells.index(cell) + 1:]
                check = next(c for c in following if c.cell_type == "code")
                later += [answer, check.source]
        later.append(WHICH_PYTHON)
        client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name=KERNEL,
                                         resources={"metadata": {"path": str(path.parent)}})
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            for source in later:
                nb.cells.append(nbformat.v4.new_code_cell(source))
                client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
        last = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
        assert f"kernel python: {sys.executable}" in last, f"the kernel ran another Python: {last!r}"
        return nb

    return run


def outputs(nb, kind: str = "stream") -> list[str]:
    """Every text output (``stream``) or the MIME types of every displayed object (``display``)."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if kind == "stream" and o.output_type == "stream":
                out.append(o.text)
            elif kind == "display" and o.output_type in ("display_data", "execute_result"):
                out.append(" ".join(o.data))
    return out
