"""The import structure of the package: no cycle, and no module importing from a layer above its
own (the layers are listed in docs/layout.md).  Imports inside functions count too:
they are how cycles go unnoticed."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "discovery"

# Bottom to top; a module may import from its own layer and those below.
LAYERS = [
    ("errors", "version", "messages", "functions", "expression_cost", "expressions", "sequences"),
    ("catalogs", "constants", "checkpoints", "evolution", "forest"),
    ("pcf", "programs", "cmf"),
    ("identify", "cluster", "triage", "novelty", "store"),
    ("records",),
    ("families",),
    ("plots", "report"),
    ("campaign",),
    ("cli", "__main__"),
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, anywhere in the file (a from-import of a
    package counts as an import of the submodule where the name is one)."""
    def module(path: Path) -> str:
        return ".".join(("discovery", *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")

    def exists(name: str) -> bool:
        rel = Path(*name.split(".")[1:])
        return (root / rel).with_suffix(".py").exists() or (root / rel / "__init__.py").exists()

    graph = {}
    for path in root.rglob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.update(f"{node.module}.{a.name}" if exists(f"{node.module}.{a.name}") else node.module
                             for a in node.names)
        graph[module(path)] = found
    return {m: {i for i in deps if i in graph and i != m} for m, deps in graph.items()}


def _layer(module: str) -> int:
    """The layer of a module; a package's face (discovery/__init__.py) sits above everything."""
    parts = module.split(".")
    return LAYER[parts[1]] if len(parts) > 1 else len(LAYERS)


def _upward(graph) -> list[str]:
    return sorted(f"{m} -> {i}" for m, deps in graph.items() for i in deps if _layer(i) > _layer(m))


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan); a package's __init__
    re-exporting its own modules is not a cycle with them."""
    edges = {m: {i for i in deps if not i.startswith(m + ".")} for m, deps in graph.items()}
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
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
            component = [stack.pop()]
            while component[-1] != v:
                component.append(stack.pop())
            on.difference_update(component)
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return cycles


def test_every_module_has_a_layer():
    assert sorted(m for m in _graph() if "." in m and m.split(".")[1] not in LAYER) == []


def test_no_import_reaches_a_layer_above():
    assert _upward(_graph()) == []


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_the_checks_see_a_cycle_and_an_upward_import(tmp_path):
    # Two modules importing each other, one from inside a function and from the layer above.
    pkg = tmp_path / "discovery"
    (pkg / "pcf").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from discovery.pcf import kernels\n")
    (pkg / "pcf" / "__init__.py").write_text("from discovery.pcf.kernels import f\n")
    (pkg / "errors.py").write_text("def g():\n    from discovery.pcf import kernels\n")
    (pkg / "pcf" / "kernels.py").write_text("from discovery import errors\n")
    graph = _graph(pkg)
    assert graph["discovery.errors"] == {"discovery.pcf.kernels"}
    assert _upward(graph) == ["discovery.errors -> discovery.pcf.kernels"]
    assert _cycles(graph) == [["discovery.errors", "discovery.pcf.kernels"]]
