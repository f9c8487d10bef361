"""The package's import graph: no cycles, typing imports included, and layers kept apart.

Read from the source with :mod:`ast`, so an import inside ``if TYPE_CHECKING:`` or a
function counts as much as one at the top: a cycle there still ties two layers together.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "aioubiwebhooks"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> Iterator[str]:
    """Every package module ``path`` imports, wherever the import statement stands."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                # "from . import bulk" imports a module; "from . import __version__"
                # takes a name from the package, which imports the package.
                submodule = f"{target}.{alias.name}"
                yield submodule if submodule in modules else target


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {t for t in _imports(path, set(modules)) if t in modules and t != name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None.

    A package's ``__init__`` imports its modules to re-export them, so a module that
    imports its own package (``from . import __version__``) closes a cycle too."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]


@pytest.mark.parametrize(
    "module", ["aioubiwebhooks.bulk", "aioubiwebhooks._polling", "aioubiwebhooks.migrate"]
)
def test_layers_above_the_session_do_not_import_it(module: str) -> None:
    graph = import_graph()
    assert "aioubiwebhooks.session" not in graph[module]


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for target in graph[stack.pop()] - seen:
            seen.add(target)
            stack.append(target)
    return seen


def test_no_migration_module_reaches_the_session() -> None:
    graph = import_graph()
    modules = [name for name in graph if name.startswith("aioubiwebhooks.migrate")]
    assert len(modules) > 5
    for name in modules:
        assert "aioubiwebhooks.session" not in reachable(graph, name), name


# The layers as docs/architecture.md draws them: its table and its picture are read
# here and compared with the imports, so the page cannot drift from the code.
ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"


def documented_layers() -> tuple[dict[str, list[str]], set[tuple[str, str]]]:
    """The table's layers (name -> module patterns) and its "may import" pairs."""
    layers: dict[str, list[str]] = {}
    allowed: set[tuple[str, str]] = set()
    rows = ARCHITECTURE.read_text(encoding="utf-8").split("| layer | modules | may import |")[1]
    for line in rows.splitlines()[2:]:
        if not line.startswith("|"):
            break
        name, modules, may_import = (cell.strip() for cell in line.strip("|").split("|"))
        layers[name] = [m.strip().strip("`") for m in modules.split(",")]
        allowed |= {
            (name, target.strip())
            for target in may_import.split(",")
            if target.strip()
            in {"data", "core", "workflows", "io", "session", "emulator", "surface"}
        }
    return layers, allowed


def pictured_arrows() -> set[tuple[str, str]]:
    picture = ARCHITECTURE.read_text(encoding="utf-8").split("```mermaid")[1].split("```")[0]
    arrows = set()
    for line in picture.splitlines():
        if "-->" in line:
            source, target = (side.strip() for side in line.split("-->"))
            arrows.add((source, target))
    return arrows


def layer_of(module: str, layers: dict[str, list[str]]) -> list[str]:
    relative = module.removeprefix("aioubiwebhooks.") if module != "aioubiwebhooks" else module
    return [
        name
        for name, patterns in layers.items()
        if any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns)
    ]


def test_every_module_stands_in_exactly_one_documented_layer() -> None:
    layers, _ = documented_layers()
    assert len(layers) == 7
    misplaced = {m: found for m in import_graph() if len(found := layer_of(m, layers)) != 1}
    assert misplaced == {}, "modules in no layer or in several of docs/architecture.md"


def layer_imports() -> set[tuple[str, str]]:
    layers, _ = documented_layers()
    pairs = set()
    for module, targets in import_graph().items():
        (source,) = layer_of(module, layers)
        for target in targets:
            (target_layer,) = layer_of(target, layers)
            if target_layer != source:
                pairs.add((source, target_layer))
    return pairs


def test_imports_cross_layers_only_as_the_table_allows() -> None:
    _, allowed = documented_layers()
    assert layer_imports() - allowed == set(), "imports the table of layers does not allow"
    assert allowed - layer_imports() == set(), "the table allows imports no module makes"


def test_the_picture_draws_the_table() -> None:
    _, allowed = documented_layers()
    assert pictured_arrows() == allowed


def test_a_forbidden_import_is_named() -> None:
    """The check above fails on an upward import: shown here on a made-up module."""
    layers, allowed = documented_layers()
    graph = {"aioubiwebhooks.models": {"aioubiwebhooks.session"}}
    found = {
        (layer_of(m, layers)[0], layer_of(t, layers)[0]) for m, ts in graph.items() for t in ts
    }
    assert found == {("data", "session")}
    assert found - allowed == {("data", "session")}
