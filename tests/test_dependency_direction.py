"""Imports point one way: kernel ← models ← city ← parcels, leases, users ← operations ← kpis ←
milestones, portfolio ← imports; `geo` on the kernel only (so any registry layer may use it);
`app` and `cli` on anything.

Read from the source with `ast` (nothing is imported), so a violation is found even in a module
no test imports, and an import inside a function counts as much as one at the top: it is the same
dependency, only later. Imports under `if TYPE_CHECKING:` are left out: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The registry's flat modules: the shared kernel, which any layer may use.
KERNEL = "kernel"
# Order matters: a layer may import from the layers before it, never after; layers on one line
# (one tuple) are peers and may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    (KERNEL,),
    ("registry.models",),
    ("registry.city",),
    ("registry.parcels", "registry.leases", "registry.users"),
    ("registry.operations", "registry.features"),
    ("registry.kpis",),
    ("registry.milestones", "registry.portfolio", "registry.open_data"),
    ("registry.imports", "registry.exports"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
FIRST_PARTY = ("registry", "geo", "app", "cli", "sample_parcels", "bench", "migrations", "tests")
# The GASB 87 engine is pure: dates and decimals in, schedules out, no database.
PURE_PACKAGES = {"registry.leases.accounting": ("registry.leases.accounting",)}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules(*packages: str) -> Iterator[tuple[str, Path]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield _module_name(path), path


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every module `module` imports at run time, with its line; `from p import name` yields
    `p.name` when that is a module of ours, else `p`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                parent = ".".join([*base, *([node.module] if node.module else [])])
            else:
                parent = node.module or ""
            for alias in node.names:
                candidate = f"{parent}.{alias.name}"
                yield (candidate if _exists(candidate) else parent), node.lineno


def _exists(module: str) -> bool:
    path = ROOT / module.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _layer(module: str) -> str | None:
    """The layer a registry module belongs to (its domain package, or the kernel)."""
    parts = module.split(".")
    if parts[0] != "registry" or len(parts) < 2:
        return None
    domain = ".".join(parts[:2])
    if domain in RANK:
        return domain
    return KERNEL if _exists(domain) and not (ROOT / "registry" / parts[1]).is_dir() else None


def _ours(module: str) -> bool:
    return module.split(".")[0] in FIRST_PARTY


def test_every_registry_module_belongs_to_a_layer() -> None:
    strays = [
        name for name, _ in _modules("registry") if name != "registry" and _layer(name) is None
    ]
    assert strays == [], f"modules outside every layer (add a layer or move them): {strays}"


def test_registry_imports_only_earlier_layers_and_never_the_front_ends() -> None:
    wrong = []
    for module, path in _modules("registry"):
        own = _layer(module)
        for imported, line in _imports(module, path):
            if not _ours(imported):
                continue
            target = _layer(imported)
            where = f"{path.relative_to(ROOT)}:{line} imports {imported}"
            if imported.split(".")[0] == "geo":
                continue  # geo rests on the kernel alone, so any layer may use it
            if target is None:
                wrong.append(f"{where} (registry may import only registry and geo)")
            elif (own != KERNEL and target == own) or (own == KERNEL and target == KERNEL):
                continue
            elif RANK[target] >= RANK[own or KERNEL]:
                wrong.append(f"{where} ({target} is not below {own})")
    assert wrong == []


def test_geo_depends_on_the_kernel_only() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for module, path in _modules("geo")
        for imported, line in _imports(module, path)
        if _ours(imported) and not imported.startswith("geo") and _layer(imported) != KERNEL
    ]
    assert wrong == []


def test_sample_loaders_may_use_the_registry_but_not_the_other_way_round() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for module, path in _modules("registry", "geo")
        for imported, line in _imports(module, path)
        if imported.split(".")[0] in ("sample_parcels", "app", "cli", "bench")
    ]
    assert wrong == []


def test_migrations_do_not_import_live_code_other_than_their_environment() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for module, path in _modules("migrations/versions")
        for imported, line in _imports(module, path)
        if _ours(imported)
    ]
    assert wrong == []


@pytest.mark.parametrize("package", sorted(PURE_PACKAGES))
def test_the_lease_accounting_engine_is_pure(package: str) -> None:
    allowed = PURE_PACKAGES[package]
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for module, path in _modules(package.replace(".", "/"))
        for imported, line in _imports(module, path)
        if (
            _ours(imported)
            and not imported.startswith(allowed)
            and imported not in ("registry.fiscal_years", "registry.fields")
        )
        or imported.split(".")[0] in ("sqlalchemy", "flask", "geoalchemy2", "psycopg")
    ]
    assert wrong == []


def _graph(*packages: str) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in _modules(*packages):
        graph[module] = {
            imported
            for imported, _ in _imports(module, path)
            if _ours(imported) and imported != module and not module.startswith(imported + ".")
        }
    return graph


def test_no_module_imports_itself_through_others() -> None:
    graph = _graph("registry", "geo")
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in graph:
                continue
            if state.get(successor) == 1:
                cycles.append([*stack[stack.index(successor) :], successor])
            elif successor not in state:
                visit(successor)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []
