"""A CPU kernel module and its CUDA twin expose the same functions with the same argument lists.

Read with ``ast`` (no module is imported, so no GPU or numba.cuda is needed). A module's public names are its
``__all__`` when it has one, else its module-level functions, numpy functions it re-exports
(``from numpy import ...``) and lowercase module-level assignments, none with a leading underscore. Classes
are not part of the contract (each backend has its own array type; both name it ``ndarray``). Argument lists
(names, order, defaults) are compared wherever both sides define the name as a function, following
``from .module import name`` to the sibling that defines it.
"""
import ast
from pathlib import Path

BACKENDS = Path(__file__).resolve().parents[1] / "numbaconv" / "backends"

# Modules that exist on one side only: a twin module is expected for every other one.
CPU_ONLY = {"threads", "winograd", "conv_winograd", "conv_epilogue", "relu_pool", "window_max", "im2col", "patches",
            "pixel_patches",
            "augment", "pointwise", "allocator", "vector_exp", "summation", "split_ufunc", "strided_copy",
            "broadcast_binary", "extreme", "pad_planes"}
CUDA_ONLY = {"gemm", "launch", "elementwise", "reduce", "runtime",
             "array", "creation", "ufuncs", "reductions", "shapes", "indexing", "joining"}


def _modules(side):
    return {path.stem for path in (BACKENDS / side).glob("*.py") if path.stem != "__init__"}


def _tree(side, module):
    return ast.parse((BACKENDS / side / f"{module}.py").read_text())


def _all(tree):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return None


def _public_names(tree):
    listed = _all(tree)
    if listed is not None:
        return set(listed)
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom) and node.module == "numpy" and node.level == 0:
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name) and t.id.islower())
    return {name for name in names if not name.startswith("_")}


def _definition(side, module, name, depth=0):
    """The ast node that binds ``name`` in ``module`` (following sibling re-exports), or None."""
    tree = _tree(side, module)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return node
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module and depth < 5:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return _definition(side, node.module, alias.name, depth + 1)
    return None


def _signature(function):
    """(kind, name, default source) for every parameter of an ast function, in order."""
    args = function.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + [ast.unparse(d) for d in args.defaults]
    params = [("positional", a.arg, d) for a, d in zip(positional, defaults)]
    if args.vararg:
        params.append(("*", args.vararg.arg, None))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        params.append(("keyword", a.arg, None if d is None else ast.unparse(d)))
    if args.kwarg:
        params.append(("**", args.kwarg.arg, None))
    return params


def _contract(side, module):
    """{public name: signature, or None where it is not a function defined in the backend}; classes left out."""
    contract = {}
    for name in _public_names(_tree(side, module)):
        node = _definition(side, module, name)
        if isinstance(node, ast.ClassDef):
            continue
        contract[name] = _signature(node) if isinstance(node, ast.FunctionDef) else None
    return contract


def twins():
    return sorted((_modules("cpu") - CPU_ONLY) & (_modules("cuda") - CUDA_ONLY))


def test_every_module_has_a_twin_or_is_listed_as_one_sided():
    cpu, cuda = _modules("cpu"), _modules("cuda")
    assert cpu - CPU_ONLY == cuda - CUDA_ONLY, (
        f"cpu-only modules not listed in CPU_ONLY: {sorted(cpu - CPU_ONLY - cuda)}; "
        f"cuda-only modules not listed in CUDA_ONLY: {sorted(cuda - CUDA_ONLY - cpu)}")
    assert CPU_ONLY <= cpu - cuda, f"CPU_ONLY lists missing or twinned modules: {sorted(CPU_ONLY - (cpu - cuda))}"
    assert CUDA_ONLY <= cuda - cpu, f"CUDA_ONLY lists missing or twinned modules: {sorted(CUDA_ONLY - (cuda - cpu))}"


def test_twins_share_public_names_and_argument_lists():
    assert "conv" in twins() and "array_api" in twins()
    problems = []
    for module in twins():
        cpu, cuda = _contract("cpu", module), _contract("cuda", module)
        for name in sorted(cpu.keys() - cuda.keys()):
            problems.append(f"{module}.{name}: on cpu only")
        for name in sorted(cuda.keys() - cpu.keys()):
            problems.append(f"{module}.{name}: on cuda only")
        for name in sorted(cpu.keys() & cuda.keys()):
            if cpu[name] is not None and cuda[name] is not None and cpu[name] != cuda[name]:
                problems.append(f"{module}.{name}: cpu {cpu[name]} != cuda {cuda[name]}")
    assert not problems, "\n".join(problems)
