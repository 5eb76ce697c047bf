"""The house rules of DESIGN.md that a parser can check: only backends/ knows device names, and backends/
imports nothing of the package above it."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "numbaconv"
BACKENDS = PACKAGE / "backends"
DEVICE_NAMES = {"cpu", "cuda", "cuda:0"}


def _modules(root):
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _device_comparisons(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) and o.value in DEVICE_NAMES for o in operands):
                yield node.lineno


def test_no_device_string_comparison_outside_backends():
    found = [f"{path.relative_to(PACKAGE)}:{line}" for path in _modules(PACKAGE) if BACKENDS not in path.parents
             for line in _device_comparisons(ast.parse(path.read_text()))]
    assert not found, f"device names compared outside backends/ (ask the registry instead): {found}"


def _imported_modules(path):
    """(line, absolute module name) of every import in ``path``, relative imports resolved."""
    package = ["numbaconv", *path.relative_to(PACKAGE).parts[:-1]]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            yield node.lineno, ".".join(base + ([node.module] if node.module else []))


def test_backends_import_nothing_above_them():
    found = [f"{path.relative_to(PACKAGE)}:{line} {name}" for path in _modules(BACKENDS)
             for line, name in _imported_modules(path)
             if name.split(".")[0] == "numbaconv" and not name.startswith("numbaconv.backends")]
    assert not found, f"backends/ imports from the package above it: {found}"
