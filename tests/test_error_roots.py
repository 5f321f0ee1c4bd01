"""Each package has one error root, and every error name means one class.

A caller that catches a package's root must see every error the package raises, and a
name read in a traceback or an ``except`` clause must not depend on which module it came
from. Modules are found on disk, not via ``pkgutil``, because namespace sub-packages
(without ``__init__.py``) are invisible to ``pkgutil.walk_packages``.
"""

from __future__ import annotations

import importlib
import inspect
from collections import defaultdict
from pathlib import Path

import pytest

from coordinator.errors import CoordinatorError
from gcdt_demo.processes import DemoError
from governance.errors import GovernanceError
from kernel.errors import KernelError
from open_models.errors import OpenModelsError
from trust_node.errors import NodeError

ROOT = Path(__file__).resolve().parents[1]
ROOTS: dict[str, type[BaseException]] = {
    "kernel": KernelError,
    "open_models": OpenModelsError,
    "governance": GovernanceError,
    "trust_node": NodeError,
    "coordinator": CoordinatorError,
    "gcdt_demo": DemoError,
}


def _modules(package: str) -> list[str]:
    names = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if path.name.endswith(("_pb2.py", "_pb2_grpc.py")) or "migrations" in parts:
            continue  # Alembic scripts run only inside Alembic and define no errors
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _errors(package: str) -> list[type[BaseException]]:
    found = []
    for name in _modules(package):
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                found.append(value)
    return found


@pytest.mark.parametrize("package", sorted(ROOTS))
def test_every_error_of_a_package_derives_from_its_root(package: str) -> None:
    root = ROOTS[package]
    errors = _errors(package)
    assert root in errors, f"{root.__qualname__} is not defined in {package}"
    strays = [f"{cls.__module__}.{cls.__qualname__}" for cls in errors if not issubclass(cls, root)]
    assert strays == [], f"not under {root.__qualname__}: {strays}"
    tops = [cls for cls in errors if not any(issubclass(b, root) for b in cls.__bases__)]
    assert tops == [root], f"{package} has more than one root: {tops}"


def test_no_error_name_is_defined_twice() -> None:
    where: defaultdict[str, list[str]] = defaultdict(list)
    for package in ROOTS:
        for cls in _errors(package):
            where[cls.__qualname__].append(cls.__module__)
    twice = {name: modules for name, modules in where.items() if len(modules) > 1}
    assert twice == {}, f"error names defined more than once: {twice}"
