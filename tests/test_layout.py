"""The package's architecture, checked from its own source: three rooms (the engine, rag.eval, rag.web), one door
each, no cycle, small modules, and a public API that does not drift."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import rag

PACKAGE = Path(rag.__file__).resolve().parent
WINGS = ("rag.eval", "rag.web")
MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """Every import in the file, at any depth (function-level and TYPE_CHECKING ones included):
    (module, names imported from it)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def graph() -> dict[str, set[str]]:
    """module -> the rag modules it imports (`from rag import x` counts x when x is a module)."""
    mods = modules()
    edges: dict[str, set[str]] = {}
    for name, path in mods.items():
        targets = set()
        for module, names in imports_of(path):
            if not module.startswith("rag"):
                continue
            subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in mods]
            targets |= set(subs) if subs else {module}
        edges[name] = {t for t in targets if t in mods and t != name}
    return edges


def test_the_engine_never_imports_a_wing() -> None:
    for name, path in modules().items():
        if name.startswith(WINGS):
            continue
        wrong = [m for m, _ in imports_of(path) if m.startswith(WINGS)]
        assert not wrong, f"{name} (engine) imports {wrong}"


def test_wings_import_only_public_names_of_the_engine() -> None:
    for name, path in modules().items():
        if not name.startswith(WINGS):
            continue
        for module, names in imports_of(path):
            if module.startswith("rag") and not module.startswith(WINGS):
                private = [n for n in names if n.startswith("_")] + [p for p in module.split(".") if p.startswith("_")]
                assert not private, f"{name} imports private {private} from {module}"


def test_no_import_cycle() -> None:
    edges = graph()
    # rag/__init__ re-exports the engine; every submodule import passes through it, so it is not a room of its own
    edges = {m: {t for t in ts if t != "rag"} for m, ts in edges.items() if m != "rag"}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_no_module_over_300_lines() -> None:
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_every_module_says_what_it_holds() -> None:
    missing = [name for name, path in modules().items() if not ast.get_docstring(ast.parse(path.read_text()))]
    assert not missing, f"modules without a docstring: {missing}"


def test_public_api_is_pinned() -> None:
    assert sorted(rag.__all__) == sorted([
        "Answer", "Citation", "ConfigError", "Document", "DocumentError", "DocumentInfo", "EmptyQuestionError",
        "Index", "IndexError_", "IngestReport", "LLMError", "LoadFailure", "Passage", "RagError", "Settings", "ask",
        "default_index", "open_index", "stream",
    ])
    for name in rag.__all__:
        assert getattr(rag, name) is not None


def test_light_imports() -> None:
    """`import rag` loads no torch, gradio or litellm; `import rag.prompts` loads no chromadb."""
    code = (
        "import sys, rag; heavy = [m for m in ('torch', 'gradio', 'litellm', 'sentence_transformers') "
        "if m in sys.modules]; import rag.prompts; heavy += [m for m in ('chromadb',) if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_wings_commands_are_registered() -> None:
    """`rag eval`, `rag serve`, `rag mcp` and `rag feedback` come from the wings through entry points."""
    out = subprocess.run([sys.executable, "-m", "rag.cli", "--help"], capture_output=True, text=True)
    for command in ("ingest", "search", "ask", "eval", "serve", "mcp", "feedback"):
        assert command in out.stdout
