"""The core and the editor import in layers: no module-level import cycle.

Each module's imports as Python runs them when the module is first imported (top-level
statements, class bodies, ``if``/``try`` blocks; not function bodies, which run later), resolved
to the modules of this tree. A cycle there means some module runs half-initialised, or had to
dodge with an import inside a function; the layers are drawn in docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("skyseg_core", "effects_gui")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _top_level(tree: ast.Module):
    """The import statements that run when the module is imported."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        else:
            todo.extend(ast.iter_child_nodes(node))


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    found = set()
    for node in _top_level(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            subs = [f"{module}.{alias.name}" for alias in node.names]
            # `from . import _color` imports the submodule; a name defined in the module
            # (`from .params import schema`) imports the module itself
            targets = [s if s in known else module for s in subs]
        for target in targets:
            while target and target not in known:  # a name in a module: the module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
            # importing ``pkg.sub`` runs ``pkg/__init__.py`` first, unless the importer is in ``pkg``
            parent = target.rpartition(".")[0]
            while parent and not name.startswith(parent + "."):
                if parent in known and parent != name:
                    found.add(parent)
                parent = parent.rpartition(".")[0]
    return found


def import_graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read():
    graph = import_graph()
    assert "skyseg_core.effects.registry" in graph["skyseg_core.effects.steps.tint"]
    assert "skyseg_core.blend_modes" in graph["skyseg_core.ora"]
    assert "effects_gui.commands" in graph["effects_gui.model"]
    # the io package in layers: metadata reads through bounds and raw, decode through metadata
    assert {"skyseg_core.io.bounds", "skyseg_core.io.raw"} <= graph["skyseg_core.io.metadata"]
    assert "skyseg_core.io.metadata" in graph["skyseg_core.io.decode"]
    assert "skyseg_core.io.exif" in graph["skyseg_core.io.raw"]
    # a module outside a package that imports one of its modules runs the package's __init__
    assert "skyseg_core.io" in graph["skyseg_core.raw"]


def test_no_import_cycles():
    found = [sorted(c) for c in cycles(import_graph())]
    assert not found, f"import cycles: {found}"


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


IO_MODULES = ("skyseg_core/io", "skyseg_core/metadata.py", "skyseg_core/raw.py")


def _late_own_imports(path: Path) -> list[str]:
    """skyseg's own modules imported inside a function of ``path`` (``line: statement``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        for inner in ast.walk(node):
            own = (isinstance(inner, ast.ImportFrom) and inner.level > 0) or (
                isinstance(inner, (ast.Import, ast.ImportFrom))
                and any(
                    name.startswith(PACKAGES)
                    for name in (
                        [a.name for a in inner.names]
                        if isinstance(inner, ast.Import)
                        else [inner.module or ""]
                    )
                )
            )
            if own:
                found.append(f"{path.relative_to(ROOT)}:{inner.lineno}: {ast.unparse(inner)}")
    return found


def test_the_io_package_imports_its_own_modules_at_the_top():
    """No import of skyseg's own modules inside a function in the io package (once io.py,
    metadata.py and raw.py reached into each other that way, dodging an import cycle), so the
    cycle test above sees every edge; only optional dependencies (Pillow, OpenCV, rawpy) are
    imported late."""
    paths = [p for name in IO_MODULES for p in sorted((ROOT / name).glob("*.py")) or [ROOT / name]]
    assert len(paths) > 10 and ROOT / "skyseg_core/io/decode.py" in paths
    late = [line for path in paths for line in _late_own_imports(path)]
    assert not late, "imports inside functions:\n" + "\n".join(late)


def test_the_old_io_metadata_cycle_would_be_found():
    """The edge metadata -> decode (what read_metadata's late import of io's helpers was), put
    back at module level, makes a cycle the test above reports."""
    graph = import_graph()
    graph["skyseg_core.io.metadata"].add("skyseg_core.io.decode")
    assert {"skyseg_core.io.metadata", "skyseg_core.io.decode"} in cycles(graph)


def test_each_io_module_imports_first():
    """Each io module, imported first in a fresh interpreter, imports (the order of a package's
    ``__init__`` and its modules is where a cycle the graph cannot see would break)."""
    import subprocess
    import sys

    names = [n for n in import_graph() if n.startswith("skyseg_core.io.")] + [
        "skyseg_core.metadata",
        "skyseg_core.raw",
    ]
    assert len(names) >= 12
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-c", f"import {name}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in names
    }
    failed = {name: run.communicate(timeout=120)[0] for name, run in runs.items()}
    assert not {name: out for name, out in failed.items() if runs[name].returncode}
