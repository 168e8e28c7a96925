"""The packages layer: the kernel (graphs, connectors, knowledge, runtime, governance, and
``assistant.services``, which composes them) never imports the application shell (channels,
web pages, HTTP API, command line, evaluation and benchmark tools)."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KERNEL = (
    "graphs",
    "connectors",
    "knowledge",
    "assistant/runtime",
    "assistant/db",
    "assistant/policy",
    "assistant/brain",
    "assistant/observability",
    "assistant/support",
    "assistant/schemas.py",
    "assistant/settings.py",
    "assistant/services.py",
)
SHELL = (
    "assistant.channels",
    "assistant.web",
    "assistant.api",
    "assistant.cli",
    "assistant.evaluation",
    "assistant.bench",
)
BRAINS = "assistant.brain.offline"


def imports(path: Path) -> set[str]:
    """Return every module ``path`` imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def kernel_files() -> list[Path]:
    """Return the kernel's Python files."""
    files: list[Path] = []
    for part in KERNEL:
        where = REPO / part
        files += [where] if where.is_file() else sorted(where.rglob("*.py"))
    return files


def within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in packages)


def test_the_kernel_never_imports_the_shell() -> None:
    offending = {
        f"{path.relative_to(REPO)} imports {module}"
        for path in kernel_files()
        for module in imports(path)
        if within(module, SHELL)
    }
    assert not offending, sorted(offending)


def test_graphs_know_the_brain_only_by_its_protocol() -> None:
    offending = {
        f"{path.relative_to(REPO)} imports {module}"
        for path in sorted((REPO / "graphs").rglob("*.py"))
        for module in imports(path)
        if within(module, (BRAINS,))
    }
    assert not offending, sorted(offending)


def test_the_check_sees_imports_inside_functions() -> None:
    source = REPO / "graphs" / "checkpoints.py"
    assert "langgraph.checkpoint.postgres.aio" in imports(source)
