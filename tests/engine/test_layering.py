"""Layers that hold, read from the source with ``ast`` (no module is imported here).

* the command line (``nndl.cli``) sits on top: nothing below it imports it;
* no module imports another's private names, nor reads one off an imported module;
* the engine (``nndl.engine``) stands on the leaves only: errors, checks, the registry, the
  config, the examples, augmentation and the BLAS policy;
* the explorations' library code (``nndl.explore``) and their command lines
  (``nndl.cli.explore``) live apart, one module of each kind per exploration;
* there is no circle of imports (function-level imports included);
* no function of the engine is longer than 60 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
ENGINE_MAY_IMPORT = {
    "nndl.errors",
    "nndl.checks",
    "nndl.registry",
    "nndl.config",
    "nndl.examples",
    "nndl.augment",
    "nndl.blas",
}
CLI_SIDE = ("nndl.cli", "nndl.__main__")  # the command line and its `python -m nndl` entry


def modules() -> dict[str, tuple[Path, bool]]:
    """'nndl.engine.network' -> (its file, whether it is a package's __init__)."""
    out = {}
    for f in sorted((SRC / "nndl").rglob("*.py")):
        parts = list(f.relative_to(SRC).with_suffix("").parts)
        package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if package else parts)] = (f, package)
    return out


MODULES = modules()


def owner(name: str) -> str:
    """The nndl module that defines ``name`` (a module, or a name inside one)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def bindings(module: str) -> list[tuple[str, str, str | None, int]]:
    """(local name, imported nndl module, name taken from it or None, line) for every import of
    ``module``'s file, relative imports resolved."""
    path, package = MODULES[module]
    here = module.split(".") if package else module.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.asname or a.name.split(".")[0], a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = (
                ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
                if node.level
                else node.module
            )
            for a in node.names:
                sub = f"{base}.{a.name}"
                local = a.asname or a.name
                out.append((local, sub, None, node.lineno) if sub in MODULES else (local, base, a.name, node.lineno))
    return [(local, owner(m), n, line) for local, m, n, line in out if m == "nndl" or m.startswith("nndl.")]


def imports(module: str) -> list[tuple[str, str | None, int]]:
    """(imported module, name taken from it or None, line) for every import of ``module``'s file."""
    return [(m, n, line) for _, m, n, line in bindings(module)]


def private_attributes(module: str) -> list[tuple[str, str, int]]:
    """(module, private name, line) for every ``alias._name`` read off an imported nndl module."""
    aliases = {local: m for local, m, n, _ in bindings(module) if n is None and "." in m}
    out = []
    for node in ast.walk(ast.parse(MODULES[module][0].read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            if node.attr.startswith("_") and not node.attr.startswith("__"):
                out.append((aliases[node.value.id], node.attr, node.lineno))
    return out


def graph() -> dict[str, set[str]]:
    return {m: {t for t, _, _ in imports(m) if t != m} for m in MODULES}


def test_nothing_below_the_command_line_imports_it():
    bad = [
        (m, t, line)
        for m in MODULES
        if not m.startswith(CLI_SIDE)
        for t, _, line in imports(m)
        if t.startswith("nndl.cli")
    ]
    assert bad == []


def test_no_module_takes_another_modules_private_names():
    taken = [
        (m, f"{t}.{n}", line)
        for m in MODULES
        for t, n, line in imports(m)
        if n and n.startswith("_") and not n.startswith("__") and t != m
    ]
    read = [(m, f"{t}.{n}", line) for m in MODULES for t, n, line in private_attributes(m) if t != m]
    assert taken == [] and read == []


def test_the_engine_stands_on_the_leaves_only():
    bad = [
        (m, t)
        for m in MODULES
        if m.startswith("nndl.engine")
        for t in graph()[m]
        if not t.startswith("nndl.engine") and t not in ENGINE_MAY_IMPORT
    ]
    assert bad == []


def test_explorations_library_and_command_lines_live_apart_one_of_each_per_exploration():
    library = [m for m in MODULES if m.startswith("nndl.explore")]
    assert all(not t.startswith("nndl.cli") for m in library for t in graph()[m])
    for m in library:  # the library never prints nor parses flags
        source = MODULES[m][0].read_text()
        assert "tqdm" not in source and "argparse" not in source and "print(" not in source, m
    glue = {m.rsplit(".", 1)[1] for m in MODULES if m.startswith("nndl.cli.explore.")} - {"command"}
    assert glue == {"level3", "beyond", "level4"}
    for name in glue:  # each command line runs its library's exploration
        assert any(t.startswith("nndl.explore") for t in graph()[f"nndl.cli.explore.{name}"]), name


def test_there_is_no_circle_of_imports():
    edges, index, low, stack, on, circles = graph(), {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert circles == []


def test_no_function_of_the_engine_is_longer_than_60_lines():
    long = []
    for m, (path, _) in MODULES.items():
        if m.startswith("nndl.engine"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if node.end_lineno - node.lineno + 1 > 60:
                        long.append((m, node.name, node.end_lineno - node.lineno + 1))
    assert long == []


def test_the_rules_see_what_they_should():
    """The reader finds the imports the rules are about (else every rule would pass vacuously)."""
    assert "nndl.engine.windowed" in graph()["nndl.engine.rules"]
    assert "nndl.cli.common" in graph()["nndl.cli.explore.command"]
    assert ("nndl.config", "flag_of") in {(t, n) for t, n, _ in imports("nndl.cli.common")}
    assert ("imageprep", "nndl.imageprep", None) in {b[:3] for b in bindings("nndl.report.page")}
    assert len(MODULES) > 60
