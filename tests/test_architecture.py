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

# the rooms of proxy/ (see proxy/__init__.py) -> the rooms and top-level modules each must never
# import; the leaves (logs, clock, errors, paths) import no room at all
ROOM_FORBIDDEN = {
    "table": {"sides", "modes", "operator", "cli", "app", "dispatch", "settings"},
    "sides": {"modes", "operator", "cli", "app", "dispatch", "settings"},
    "modes": {"operator", "cli", "app", "dispatch"},
    "operator": {"cli", "app", "dispatch"},
    "cli": set(),
    # the client-facing server: built on uvicorn and the leaves, nothing of the gateway's rooms
    "edge": {"table", "sides", "modes", "operator", "cli", "app", "dispatch", "settings"},
}
LEAVES = ["logs", "clock", "errors", "paths"]
ROOMS = {"table", "sides", "modes", "operator", "cli", "edge"}

# modules that must stay pure: no I/O, no clock, no randomness
PURE = [
    "proxy/edge/scan.py",
    "proxy/edge/host.py",
    "proxy/edge/fields.py",
    "proxy/table/model.py",
    "proxy/table/matcher.py",
    "proxy/table/units.py",
    "proxy/table/fill.py",
    "proxy/table/routekeys.py",
    "proxy/table/patterns.py",
    "proxy/table/literals.py",
    "proxy/table/alternation.py",
    "proxy/table/targets.py",
    "proxy/table/legacy.py",
    "proxy/paths.py",
    "proxy/sides/headers.py",
    "proxy/sides/mime.py",
    "proxy/sides/conditions.py",
    "proxy/sides/fastcgi/records.py",
    "proxy/sides/fastcgi/response.py",
    "proxy/sides/fastcgi/params.py",
    "proxy/sides/fastcgi/resolve.py",
    "proxy/sides/fastcgi/cgi.py",
    "proxy/table/nginx/model.py",
    "proxy/table/nginx/build.py",
    "proxy/table/nginx/syntax.py",
    "proxy/table/nginx/uri.py",
    "proxy/table/nginx/pcre.py",
    "proxy/table/nginx/locations.py",
    "proxy/table/nginx/servers.py",
    "proxy/table/nginx/errors.py",
    "proxy/table/nginx/plan.py",
    "proxy/table/nginx/actions.py",
    "proxy/table/nginx/upstreams.py",
    "proxy/table/nginx/legacy.py",
    "proxy/table/nginx/report.py",
    "proxy/table/nginx/emit.py",
    "proxy/table/nginx/importer.py",
    "proxy/table/nginx/check.py",
    "proxy/table/nginx/phpfpm.py",
    "proxy/table/nginx/names.py",
    "proxy/operator/htmlparts.py",
    "proxy/operator/pages.py",
    "proxy/modes/cohort.py",
    "proxy/modes/guard.py",
    "proxy/operator/stages.py",
    "proxy/operator/stagehtml.py",
    "proxy/table/controls.py",
    "proxy/operator/runpages.py",
    "shadow/compare.py",
    "shadow/fieldpath.py",
    "shadow/report.py",
    "shadow/classify.py",
    "shadow/noise.py",
    "shadow/records.py",
    "shadow/gate.py",
    "shadow/samples.py",
    "shadow/recording.py",
    "shadow/runs.py",
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


def proxy_parts(module: str) -> str | None:
    """The room or top-level module of proxy/ a dotted name points into (None: not proxy/)."""
    parts = module.split(".")
    if parts[0] != "proxy" or len(parts) < 2:
        return None
    return parts[1]


def room_imports(files: list[Path]) -> set[str]:
    return {part for path in files for m in imported_modules(path) if (part := proxy_parts(m))}


@pytest.mark.parametrize("room", sorted(ROOM_FORBIDDEN))
def test_room_respects_the_import_rules(room: str) -> None:
    files = package_files(f"proxy/{room}")
    assert files, f"proxy/{room}/ has no modules"
    offences = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in imported_modules(path)
        if proxy_parts(module) in ROOM_FORBIDDEN[room]
    ]
    assert offences == []


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaf_modules_import_no_room(leaf: str) -> None:
    used = room_imports([ROOT / "proxy" / f"{leaf}.py"])
    assert used <= set(LEAVES) - {leaf}, f"proxy/{leaf}.py imports {sorted(used)}"


def test_nothing_imports_the_cli_but_its_own_room() -> None:
    outside = [p for p in package_files("proxy") if "cli" not in p.relative_to(ROOT).parts]
    for tree in ("handlers", "shadow", "bench"):
        outside += package_files(tree)
    offences = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in outside
        for module in imported_modules(path)
        if proxy_parts(module) == "cli"
    ]
    assert offences == []


def test_every_room_says_what_it_is_for() -> None:
    for room in sorted(ROOMS):
        init = ROOT / "proxy" / room / "__init__.py"
        assert init.exists(), f"proxy/{room}/ is not a package"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 20, f"proxy/{room}/__init__.py needs a docstring"


def test_the_rules_see_a_forbidden_import(tmp_path: Path) -> None:
    """The checks can fail: a module importing upwards is reported."""
    offender = tmp_path / "bad.py"
    offender.write_text("from proxy.operator.admin import PREFIX\nimport proxy.cli.main\n")
    assert {proxy_parts(m) for m in imported_modules(offender)} == {"operator", "cli"}


def module_graph(package: str) -> dict[str, set[str]]:
    """Each module of `package` → the modules of `package` it imports (type-only imports too).

    `from pkg import mod` counts as importing `pkg.mod`, and `import pkg.mod` as importing
    `pkg.mod`, not the packages above it (Python imports those, but no cycle runs through them).
    """

    def dotted(path: Path) -> str:
        return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")

    names = {dotted(p) for p in package_files(package)}

    def owner(module: str) -> set[str]:
        owners = [m for m in names if module == m or module.startswith(m + ".")]
        return {max(owners, key=len)} if owners else set()

    graph: dict[str, set[str]] = {}
    for path in package_files(package):
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    targets |= owner(alias.name)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets |= {full} if full in names else owner(node.module)
        graph[dotted(path)] = targets - {dotted(path)}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


@pytest.mark.parametrize("package", ["handlers", "shadow", "proxy"])
def test_package_has_no_import_cycle(package: str) -> None:
    assert find_cycle(module_graph(package)) == []


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
