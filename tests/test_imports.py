"""The import graph of the project's packages has no cycle, counting the imports made inside
functions too (an import moved into a function hides a cycle from Python, not from a reader).

An import inside a function is fine when it is there to keep start-up fast (a heavy module
loaded only when a command needs it); it is marked so with ``# start fast`` on its line. In
every package (``engine``, ``solvers``, ``service``) each import of a project module inside a
function is so marked: one that loads nothing new (its module is loaded with the importer
anyway) belongs at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "solvers", "service")
#: The comment that names an import inside a function as one kept to start fast.
START_FAST = "# start fast"


def _modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    out = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _under_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    p = parents.get(node)
    while p is not None:
        if isinstance(p, ast.If) and "TYPE_CHECKING" in ast.unparse(p.test):
            return True
        p = parents.get(p)
    return False


def _in_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    p = parents.get(node)
    while p is not None:
        if isinstance(p, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return True
        p = parents.get(p)
    return False


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool,
              known: dict[str, Path]) -> list[str]:
    """The project modules an import statement runs (the longest known prefix of each name)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            pkg = module.split(".") if is_package else module.split(".")[:-1]
            pkg = pkg[:len(pkg) - (node.level - 1)]
            base = ".".join(pkg + ([node.module] if node.module else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
    out = []
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name:
            out.append(name)
    return out


def import_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES,
                 ) -> tuple[nx.DiGraph, list[tuple[str, str, int, bool]]]:
    """The module graph (an edge for every import run at module level or inside a function,
    imports under ``if TYPE_CHECKING`` left out, and an edge to each package whose
    ``__init__`` the import runs) and the function-local imports as (module, imported, line,
    marked ``# start fast``)."""
    known = _modules(root, packages)
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    local = []
    for module, path in known.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if _under_type_checking(node, parents):
                continue
            for target in _imported(node, module, path.name == "__init__.py", known):
                if target == module:
                    continue
                graph.add_edge(module, target)
                pkg = target.rpartition(".")[0]
                while pkg:      # importing a.b.c runs a/__init__ and a/b/__init__ too
                    if module != pkg and not module.startswith(pkg + "."):
                        graph.add_edge(module, pkg)
                    pkg = pkg.rpartition(".")[0]
                if _in_function(node, parents):
                    marked = any(START_FAST in lines[i - 1]
                                 for i in range(node.lineno, (node.end_lineno or node.lineno) + 1))
                    local.append((module, target, node.lineno, marked))
    return graph, local


def import_cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Each group of modules that import one another, directly or round a loop."""
    return sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)


def test_the_packages_import_without_cycles() -> None:
    graph, _ = import_graph()
    assert len(graph) > 50                        # the packages were found and read
    assert import_cycles(graph) == []


def test_imports_inside_functions_only_to_start_fast() -> None:
    _, local = import_graph()
    assert {module.split(".")[0] for module, *_ in local} == set(PACKAGES)   # all were read
    unmarked = [f"{module}:{line} imports {target}" for module, target, line, marked in local
                if not marked]
    assert unmarked == []


def test_layers_import_one_way() -> None:
    """engine imports neither solvers nor service; solvers does not import service."""
    graph, _ = import_graph()
    wrong = [(a, b) for a, b in graph.edges
             if (a.startswith("engine") and not b.startswith("engine"))
             or (a.startswith("solvers") and b.startswith("service"))]
    assert wrong == []


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_a_cycle_hidden_in_a_function_is_found(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.b import g\n\ndef f():\n    return g()\n",
        "pkg/b.py": "def g():\n    from pkg.a import f  # start fast\n    return f\n",
        "pkg/c.py": "from . import a\n",
    })
    graph, local = import_graph(root, ("pkg",))
    assert import_cycles(graph) == [["pkg.a", "pkg.b"]]
    assert local == [("pkg.b", "pkg.a", 2, True)]
    assert ("pkg.c", "pkg.a") in graph.edges     # a relative import resolved


def test_imports_for_type_checking_only_are_no_cycle(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.b import g\n",
        "pkg/b.py": ("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                     "    from pkg.a import x\n\ndef g():\n    pass\n"),
    })
    graph, local = import_graph(root, ("pkg",))
    assert import_cycles(graph) == [] and local == []


_PROBE = """
import json, os, sys
out = {}
for module in json.loads(sys.argv[1]):
    r, w = os.pipe()
    if os.fork() == 0:
        os.close(r)
        __import__(module)
        os.write(w, json.dumps(sorted(sys.modules)).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        out[module] = f.read()
    os.wait()
print(json.dumps({m: json.loads(v) for m, v in out.items()}))
"""


def test_an_import_marked_start_fast_loads_a_module_the_importer_does_not() -> None:
    """The mark is honest: after importing the module that holds a marked import, the module it
    names is not loaded yet (else the import defers nothing and belongs at the top)."""
    import json
    import subprocess
    import sys

    _, local = import_graph()
    marked = sorted({(module, target) for module, target, _, is_marked in local if is_marked})
    importers = sorted({module for module, _ in marked})
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(importers)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=True)
    loaded = json.loads(done.stdout)
    assert set(loaded) == set(importers) and len(marked) > 50
    eager = [f"{module} imports {target}" for module, target in marked
             if target in loaded[module]]
    assert eager == []
