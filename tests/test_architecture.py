"""The architecture rules of ARCHITECTURE.md, checked on the source text (nothing is imported).

- the import graph of `corpus`, `pipelines` and `model` has no cycle (imports inside functions and
  relative imports count: a cycle hidden in a function is still a cycle);
- the layers point one way: `corpus` imports nothing from `pipelines`, `model` or `tests`, and
  `model` nothing from `pipelines` or `tests`;
- every path ARCHITECTURE.md names exists, and every name its stage table lists is defined in the
  module (or folder) of its row, so the document cannot silently rot.

Everything here is `ast` over the files: no heavy import, a few tens of milliseconds.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("corpus", "pipelines", "model")
DOC = ROOT / "ARCHITECTURE.md"

# What each package may not import (by top-level name).
FORBIDDEN = {
    "corpus": ("pipelines", "model", "tests"),
    "model": ("pipelines", "tests"),
}

# Paths the document names on purpose before they exist: the seam they would plug into is described.
PLANNED = {"corpus/executor/ray.py"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted
    target: str  # the imported module (or name), dotted and absolute
    path: str  # the importing file, relative to the repo
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_files() -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
            if ".venv" not in p.parts}


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports_of(module: str, path: Path, root: Path = ROOT) -> list[Import]:
    """Every import statement in the file, at any depth (functions, classes, `if` blocks).

    `from X import Y` is an import of the module `X.Y` when that is a module, else of `X`;
    literal `importlib.import_module("X")` calls count too.
    """
    rel = str(path.relative_to(root))
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, a.name, rel, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = (_resolve_relative(module, is_package, node.level, node.module) if node.level
                    else node.module or "")
            # Both the base and each `base.name` are recorded; `resolve` keeps the most specific
            # one that is a module of ours.
            found += [Import(module, f"{base}.{a.name}" if a.name != "*" else base, rel, node.lineno)
                      for a in node.names]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__")))):
            found.append(Import(module, node.args[0].value, rel, node.lineno))
    return found


def resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that importing `target` loads: its longest dotted prefix that is one."""
    parts = target.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in modules:
            return name
    return None


def import_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], Import]]:
    """Edges between our modules, and for each edge the first import statement that makes it."""
    modules = package_files()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    where: dict[tuple[str, str], Import] = {}
    for module, path in modules.items():
        for imp in imports_of(module, path):
            target = resolve(imp.target, modules)
            if target is None:
                continue
            graph[module].add(target)
            where.setdefault((module, target), imp)
    return graph, where


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def cycle_in(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One concrete cycle through the component's first module (a breadth-first shortest one)."""
    members = set(component)
    start = component[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if child not in parents:
                    parents[child] = node
                    nxt.append(child)
        frontier = nxt
    return [start, start]


def describe_cycle(cycle: list[str], where: dict[tuple[str, str], Import]) -> str:
    steps = [f"    {a} -> {b}   ({where[a, b].where()}: imports {where[a, b].target})"
             for a, b in zip(cycle, cycle[1:])]
    return "\n".join(steps)


def test_every_package_has_modules():
    modules = package_files()
    for pkg in PACKAGES:
        assert pkg in modules, f"{pkg}/__init__.py is missing"
    assert len(modules) > 20


def test_import_graph_sees_function_level_and_relative_imports(tmp_path):
    # The parser itself, on a made-up module: relative imports, and imports inside a function.
    path = tmp_path / "corpus" / "sub" / "mod.py"
    path.parent.mkdir(parents=True)
    path.write_text("from . import sibling\nfrom ..steps import Step\n"
                    "def f():\n    from corpus.text import words\n    import pipelines.cli\n"
                    "    importlib.import_module('model.gpt')\n")
    found = [(i.target, i.line) for i in imports_of("corpus.sub.mod", path, root=tmp_path)]
    assert found == [("corpus.sub.sibling", 1), ("corpus.steps.Step", 2), ("corpus.text.words", 4),
                     ("pipelines.cli", 5), ("model.gpt", 6)]
    modules = {"corpus.steps": path, "corpus.sub": path}
    assert resolve("corpus.steps.Step", modules) == "corpus.steps"
    assert resolve("corpus.sub.sibling", modules) == "corpus.sub"
    assert _resolve_relative("corpus.sub", True, 1, "sibling") == "corpus.sub.sibling"
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    cycles = [c for c in strongly_connected(graph) if len(c) > 1]
    assert cycles == [["a", "b", "c"]] and cycle_in(cycles[0], graph) == ["a", "b", "c", "a"]


def test_no_import_cycles():
    graph, where = import_graph()
    cycles = [cycle_in(c, graph) for c in strongly_connected(graph)
              if len(c) > 1 or c[0] in graph[c[0]]]
    message = "\n".join(f"import cycle {' -> '.join(c)}:\n{describe_cycle(c, where)}" for c in cycles)
    assert not cycles, message


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_point_one_way(package):
    modules = package_files()
    violations = [
        imp for module, path in modules.items() if module.split(".")[0] == package
        for imp in imports_of(module, path) if imp.target.split(".")[0] in FORBIDDEN[package]
    ]
    assert not violations, f"{package} must not import {', '.join(FORBIDDEN[package])}:\n" + "\n".join(
        f"    {v.where()}: {v.source} imports {v.target}" for v in violations)


# --- ARCHITECTURE.md ---------------------------------------------------------------------------

PATH_RE = re.compile(r"\b(?:corpus|pipelines|model|tests)/[A-Za-z0-9_./-]*")
BACKTICKED = re.compile(r"`([^`\n]+)`")
MERMAID = re.compile(r"```mermaid\n(.*?)```", re.S)


def doc_text() -> str:
    assert DOC.exists(), "ARCHITECTURE.md is missing"
    return DOC.read_text(encoding="utf-8")


def named_paths(text: str) -> set[str]:
    """Paths in backticks, and every path in the Mermaid diagrams (whose labels have no backticks)."""
    spans = [m.group(1) for m in BACKTICKED.finditer(text)] + MERMAID.findall(text)
    return {p.rstrip(".") for span in spans for p in PATH_RE.findall(span)}


def test_doc_names_paths_that_exist():
    text = doc_text()
    paths = named_paths(text)
    assert len(paths) > 20, "the stage map should name the modules that implement each stage"
    missing = sorted(p for p in paths - PLANNED if not (ROOT / p).exists())
    assert not missing, f"ARCHITECTURE.md names paths that do not exist: {missing}"


def test_doc_diagram_covers_both_pipelines_and_the_trainer():
    diagrams = MERMAID.findall(doc_text())
    assert diagrams and diagrams[0].lstrip().startswith("flowchart"), "a Mermaid flowchart comes first"
    drawn = {p for d in diagrams for p in PATH_RE.findall(d)}
    for needed in ("pipelines/build_webtext.py", "pipelines/clean_commoncrawl.py", "model/train.py"):
        assert needed in drawn, f"the diagram does not show {needed}"


def defined_names(path: Path) -> set[str]:
    """Top-level names of a module: functions, classes, assignments and imported names."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:\(\))?")


def test_doc_stage_table_names_exist():
    """In every table row that names modules, the names in its last cell are defined there.

    A row's modules are the backticked `x/y.py` paths of its cells (a `x/y/` folder stands for every
    module under it); its last cell lists backticked names: `Step`, `run_steps()`, `Filter.filter`
    (checked by the part before the dot).
    """
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in doc_text().splitlines() if line.startswith("|")]
    checked, problems = 0, []
    for cells in rows:
        paths = [ROOT / p for c in cells[:-1] for s in BACKTICKED.findall(c) for p in PATH_RE.findall(s)
                 if p not in PLANNED]
        files = [f for p in paths for f in ([p] if p.suffix == ".py" else sorted(p.rglob("*.py")))
                 if f.exists()]
        if not files:
            continue
        defined = set().union(*(defined_names(f) for f in files))
        for span in BACKTICKED.findall(cells[-1]):
            if not NAME.fullmatch(span):
                problems.append(f"{span!r} in the names column is not a name")
                continue
            checked += 1
            name = span.removesuffix("()").split(".")[0]
            if name not in defined:
                problems.append(f"{name!r} is not defined in {[str(f.relative_to(ROOT)) for f in files]}")
    assert checked > 20, "the stage table should list each stage's main names"
    assert not problems, "ARCHITECTURE.md's tables name what the code does not define:\n" + "\n".join(problems)
