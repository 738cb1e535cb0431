"""The import rules of DESIGN.md, and the purity of the modules that must do no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> packages it must never import
FORBIDDEN = {
    "handlers": {"proxy", "shadow"},
    "shadow": {"proxy", "handlers"},
    # the gateway loads the native app by name (native.app), so any ASGI app can take its place
    "proxy": {"handlers"},
}

# modules that must stay pure: no I/O, no clock, no randomness
PURE = [
    "proxy/model.py",
    "proxy/matcher.py",
    "proxy/paths.py",
    "proxy/headers.py",
    "shadow/compare.py",
    "shadow/fieldpath.py",
    "shadow/report.py",
    "shadow/classify.py",
    "shadow/noise.py",
    "shadow/records.py",
    "proxy/units.py",
    "shadow/gate.py",
    "proxy/htmlparts.py",
    "proxy/pages.py",
]
IMPURE_MODULES = {
    "os",
    "io",
    "time",
    "socket",
    "asyncio",
    "subprocess",
    "random",
    "aiohttp",
    "httpx",
    "sqlalchemy",
    "pathlib",
    "shutil",
    "requests",
    "urllib.request",
    "threading",
}
IMPURE_CALLS = {"open", "print", "input"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def package_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_the_import_rules(package: str) -> None:
    files = package_files(package)
    assert files, f"{package}/ has no modules"
    offences = []
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in FORBIDDEN[package]:
                offences.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offences == []


@pytest.mark.parametrize("relpath", PURE)
def test_pure_module_does_no_io(relpath: str) -> None:
    path = ROOT / relpath
    assert path.exists(), f"{relpath} is missing"
    impure = {
        m
        for m in imported_modules(path)
        if m in IMPURE_MODULES or m.split(".")[0] in IMPURE_MODULES
    }
    assert impure == set(), f"{relpath} imports {sorted(impure)}"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in IMPURE_CALLS
    }
    assert calls == set(), f"{relpath} calls {sorted(calls)}"
    clock = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in {"now", "utcnow", "today", "monotonic"}
    ]
    assert clock == [], f"{relpath} reads the clock: {clock}"
