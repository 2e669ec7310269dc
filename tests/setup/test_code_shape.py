"""The shape of the product code: small modules, short functions, no import loops (issue 15).

Product code is `custom_components/anpr/**.py` and `inference_addon/anpr_inference/**.py`.

- A module has at most `MAX_MODULE_LINES` lines and a function (or method) at most
  `MAX_FUNCTION_LINES`, counted from its `def` line to its last line, docstring included.
- An exception is marked where it is, with its reason: `# shape: <reason>` as a comment on the
  function's `def` line, or for a whole module as a comment line above its docstring.
- No import loop inside either package. The graph counts every import made at a module's top
  level, including those under `if TYPE_CHECKING:`. Those do not run, so they cannot break an
  import; they are counted anyway because a loop through type hints is still two modules that
  each need the other to be understood, which is what makes one unchangeable without the other
  (the stricter reading of "no import loop"). Imports inside functions are not counted: they
  are the deliberate way to defer one.

`KNOWN_*` below list what broke these rules on `main` when the check came in; each is being
split in issue 15 and is to be removed from its list once that lands. Entries that no longer
break a rule fail the test too, so the lists only shrink.

Runs without Home Assistant: it only parses the files.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
import re

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "custom_components.anpr": REPO / "custom_components" / "anpr",
    "anpr_inference": REPO / "inference_addon" / "anpr_inference",
}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MARKER = re.compile(r"#\s*shape:\s*(?P<reason>\S.*)$")

KNOWN_MODULES: dict[str, str] = {}
"""Modules allowed over `MAX_MODULE_LINES` (none: issue 15 split them all)."""
KNOWN_FUNCTIONS: dict[str, str] = {}
"""Functions allowed over `MAX_FUNCTION_LINES` (`path:qualname`; none since issue 15)."""
KNOWN_LOOPS: dict[frozenset[str], str] = {}
"""Import loops on `main` when this check came in, by the modules in them."""


@dataclass(frozen=True, slots=True)
class Module:
    """One product module: where it is, its dotted name and its parsed source."""

    path: Path
    name: str
    source: str
    tree: ast.Module

    @property
    def relative(self) -> str:
        """Return the path from the repository root, as the lists above write it."""
        return self.path.relative_to(REPO).as_posix()

    @property
    def is_package(self) -> bool:
        """Return whether this is a package's `__init__.py`."""
        return self.path.name == "__init__.py"


def load_modules() -> list[Module]:
    """Parse every product module."""
    modules = []
    for package, root in PACKAGES.items():
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            source = path.read_text(encoding="utf-8")
            name = ".".join((package, *parts))
            modules.append(Module(path, name, source, ast.parse(source, str(path))))
    return modules


def module_marker(module: Module) -> str | None:
    """Return the reason of a `# shape:` comment line above the module's first statement."""
    first = module.tree.body[0].lineno if module.tree.body else len(module.source)
    for line in module.source.splitlines()[: first - 1]:
        if (match := MARKER.match(line.strip())) is not None:
            return match["reason"]
    return None


def function_marker(module: Module, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """Return the reason of a `# shape:` comment on the function's `def` line."""
    line = module.source.splitlines()[node.lineno - 1]
    match = MARKER.search(line)
    return match["reason"] if match is not None else None


def functions(module: Module) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Return every function and method of a module with its qualified name."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((f"{prefix}{child.name}", child))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(module.tree, "")
    return found


def top_level_imports(module: Module) -> list[ast.Import | ast.ImportFrom]:
    """Return the imports a module makes outside its functions (`if` and `try` included)."""
    imports: list[ast.Import | ast.ImportFrom] = []

    def visit(statements: list[ast.stmt]) -> None:
        for statement in statements:
            if isinstance(statement, ast.Import | ast.ImportFrom):
                imports.append(statement)
            elif isinstance(statement, ast.If):
                visit(statement.body)
                visit(statement.orelse)
            elif isinstance(statement, ast.Try):
                visit(statement.body)
                visit(statement.orelse)
                visit(statement.finalbody)
                for handler in statement.handlers:
                    visit(handler.body)

    visit(module.tree.body)
    return imports


def imported_modules(module: Module, known: set[str]) -> set[str]:
    """Return the modules of the same product that `module` imports at its top level."""
    targets: set[str] = set()
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for statement in top_level_imports(module):
        if isinstance(statement, ast.Import):
            targets.update(alias.name for alias in statement.names)
            continue
        if statement.level:
            base = package.rsplit(".", statement.level - 1)[0] if statement.level > 1 else package
            source = f"{base}.{statement.module}" if statement.module else base
        else:
            source = statement.module or ""
        targets.add(source)
        # `from . import watcher` imports a module, not a name of the package.
        targets.update(f"{source}.{alias.name}" for alias in statement.names)
    return {target for target in targets if target in known and target != module.name}


def import_loops(modules: list[Module]) -> list[frozenset[str]]:
    """Return the import loops (strongly connected groups of two or more modules)."""
    known = {module.name for module in modules}
    graph = {module.name: imported_modules(module, known) for module in modules}
    # A package's `__init__` runs before its submodules; a submodule importing its own
    # package's `__init__` is how Python imports it, not a loop of the code's making.
    for name, targets in graph.items():
        targets.difference_update(other for other in list(targets) if name.startswith(other + "."))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[frozenset[str]] = []

    def strongconnect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                strongconnect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                loops.append(frozenset(group))

    for node in sorted(graph):
        if node not in index:
            strongconnect(node)
    return loops


MODULES = load_modules()


def test_modules_are_short() -> None:
    too_long = {
        module.relative: len(module.source.splitlines())
        for module in MODULES
        if len(module.source.splitlines()) > MAX_MODULE_LINES and module_marker(module) is None
    }
    new = {path: lines for path, lines in too_long.items() if path not in KNOWN_MODULES}
    assert not new, f"modules over {MAX_MODULE_LINES} lines (split by concern): {new}"
    stale = sorted(set(KNOWN_MODULES) - set(too_long))
    assert not stale, f"no longer over the limit, remove from KNOWN_MODULES: {stale}"


def test_functions_are_short() -> None:
    too_long = {
        f"{module.relative}:{qualname}": (node.end_lineno or node.lineno) - node.lineno + 1
        for module in MODULES
        for qualname, node in functions(module)
        if (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES
        and function_marker(module, node) is None
    }
    new = {name: lines for name, lines in too_long.items() if name not in KNOWN_FUNCTIONS}
    assert not new, f"functions over {MAX_FUNCTION_LINES} lines: {new}"
    stale = sorted(set(KNOWN_FUNCTIONS) - set(too_long))
    assert not stale, f"no longer over the limit, remove from KNOWN_FUNCTIONS: {stale}"


def test_no_import_loops() -> None:
    loops = set(import_loops(MODULES))
    new = [sorted(loop) for loop in loops if loop not in KNOWN_LOOPS]
    assert not new, f"import loops: {new}"
    stale = [sorted(loop) for loop in set(KNOWN_LOOPS) - loops]
    assert not stale, f"loops gone, remove from KNOWN_LOOPS: {stale}"


def test_markers_give_a_reason() -> None:
    """A bare `# shape:` is no reason; the check itself finds loops in a made-up package."""
    assert MARKER.search("def f():  # shape: one table, read top to bottom")
    assert not MARKER.search("def f():  # shape:")
    a = Module(REPO / "a.py", "pkg.a", "from . import b\n", ast.parse("from . import b\n"))
    b = Module(REPO / "b.py", "pkg.b", "from .a import x\n", ast.parse("from .a import x\n"))
    c = Module(REPO / "c.py", "pkg.c", "import pkg.a\n", ast.parse("import pkg.a\n"))
    assert import_loops([a, b, c]) == [frozenset({"pkg.a", "pkg.b"})]
