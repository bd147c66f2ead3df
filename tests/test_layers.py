"""The house's layers (docs/architecture.md): every import in harness/ goes down or across a layer, never up, and no
module imports itself back through others (an import circle). Imports are read from the sources, lazy ones inside
functions and those under ``TYPE_CHECKING`` included: a circle is a circle however late it closes."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "harness"

# From the ground up; a module may import its own layer and those below. The first part of the module's name under
# harness/ decides its layer (a package is one room).
LAYERS: list[set[str]] = [
    {"errors", "duration", "clock", "timeline", "registry", "events", "sdk_protocol", "resources"},
    {"oracles"},
    {"mock"},
    {"sdks", "browser", "report"},
    {"app"},
    {"scenario"},
    {"engine"},
    {"frontdoor", "serve"},
    {"versions"},
    {"fuzz"},
    {"scripted_run"},
    {"cli", "pytest_plugin", "pytest_fixtures", "pytest_attach"},
]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("harness"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)  # `from harness.x import y` may name a module
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("harness"))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules and m not in (name, "harness")}
            for name, path in modules.items()}


def _layer(module: str) -> int:
    room = module.split(".")[1] if "." in module else module
    for index, rooms in enumerate(LAYERS):
        if room in rooms:
            return index
    raise AssertionError(f"{module}: its room {room!r} is in no layer of tests/test_layers.py (and of "
                         "docs/architecture.md): place it")


def test_no_import_runs_up_a_layer():
    up = sorted(f"{a} -> {b}" for a, targets in _graph().items() for b in targets
                if "." in a and _layer(b) > _layer(a))
    assert not up, f"imports up a layer (move the code down, or the importer up): {up}"


def test_no_import_circle():
    graph = _graph()
    # A package's __init__ is imported with any of its modules; it is the package's face, not a room of its own.
    edges = {a: {b for b in bs if not (a.startswith(b + ".") and b != "harness")} for a, bs in graph.items()}
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not circles, f"import circles: {[' -> '.join(c) for c in circles]}"
