"""The seams between the packages, read from the source: the client never imports the server,
the ICAO library never imports DocVal product knowledge, and no modules import each other
in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("emrtd", "docval_server", "docval_client")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules that ``name`` imports (module level or inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def test_client_imports_nothing_from_the_server() -> None:
    """docval_client depends on emrtd only."""
    graph = _graph()
    offenders = {
        (a, b)
        for a, deps in graph.items()
        if a.startswith("docval_client")
        for b in deps
        if b.startswith("docval_server")
    }
    assert not offenders


def test_icao_modules_import_nothing_docval() -> None:
    """emrtd's ICAO modules (and the virtual chip) import neither emrtd.docval nor the apps;
    only the pytest plugin, the integration-test glue, may reach the server's in-memory pump."""
    graph = _graph()
    icao = [m for m in graph if m.startswith("emrtd") and not m.startswith("emrtd.docval")]
    allowed = {"emrtd.sim.pytest_plugin"}
    offenders = {
        (a, b)
        for a in icao
        if a not in allowed
        for b in graph[a]
        if b.startswith(("emrtd.docval", "docval_server", "docval_client"))
    }
    assert not offenders


def test_no_import_cycles() -> None:
    """No two modules import each other, directly or through others (a package's
    ``__init__`` importing its own submodules does not count)."""
    graph = _graph()

    def edges(a: str) -> set[str]:
        return {b for b in graph[a] if not a.startswith(b + ".")}

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert cycles == []


def test_public_api_is_declared() -> None:
    """Every module emrtd declares public imports, and every top-level module is either
    declared or internal (underscore)."""
    import importlib

    import emrtd

    for name in emrtd.__all__:
        importlib.import_module(f"emrtd.{name}")
    top = {p.stem for p in (ROOT / "emrtd").glob("*.py")} | {
        p.name for p in (ROOT / "emrtd").iterdir() if p.is_dir()
    }
    internal = {
        "__init__",
        "__pycache__",
        "countries",
        "curves",
        "derparts",
        "dhgroups",
        "ecmath",
        "signatures",
        "signeddata",
        "pubkey",
        "sizes",
        "ldif",
    }
    assert top - internal - set(emrtd.__all__) == set()
