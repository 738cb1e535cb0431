"""The FastCGI layer's pure modules do no I/O and read no clock (DESIGN.md: pure modules)."""

from __future__ import annotations

import ast

import pytest

from tests.test_architecture import IMPURE_CALLS, IMPURE_MODULES, ROOT, imported_modules

PURE = [
    "proxy/sides/fastcgi/records.py",
    "proxy/sides/fastcgi/response.py",
    "proxy/sides/fastcgi/params.py",
    "proxy/sides/fastcgi/resolve.py",
]


@pytest.mark.parametrize("relpath", PURE)
def test_the_fastcgi_codec_params_and_resolver_do_no_io(relpath: str) -> None:
    path = ROOT / relpath
    impure = {m for m in imported_modules(path) if m.split(".")[0] in IMPURE_MODULES}
    assert impure == set(), f"{relpath} imports {sorted(impure)}"
    calls = {
        node.func.id
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert calls & IMPURE_CALLS == set()
