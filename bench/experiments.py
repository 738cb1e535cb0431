"""Experiments: proposed changes measured on temporary copies of the code, never in the tree.

`overlay(tmp, name)` copies proxy/, shadow/ and handlers/ into `tmp/overlay-<name>/`, applies
the named patch (exact text replacements; a patch whose anchor text is gone is reported, not
guessed at) and returns the directory to put first on PYTHONPATH. The driver runs a gateway from
it beside the gateway as shipped, in the same rounds.

    lean-client   proxy/forwarder.py: body-less GETs without a shadow tap go through
                  bench/lean_client.py (asyncio protocols + httptools) instead of aiohttp
    db-pool       handlers/db.py: a MariaDB pool as large as the worker-thread limit (40), so
                  connections are not opened and closed under load, and no TLS context per new
                  connection (`ssl_disabled`: pymysql otherwise builds a default SSL context,
                  loading the system CA store, for every connection it opens)
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_LEAN_ANCHOR = """        session = self.session
        assert session is not None, "the gateway's lifespan opens the session"
"""
_LEAN_PATCH = """        if (
            scope["method"] == "GET"
            and tap is None
            and not any(name in _BODY_HEADERS for name, _ in scope["headers"])
        ):
            from bench.lean_client import lean_get

            await lean_get(scope, send, path, view, target, exchange)
            return
"""

PATCHES: dict[str, list[tuple[str, str, str]]] = {
    "lean-client": [("proxy/forwarder.py", _LEAN_ANCHOR, _LEAN_PATCH + _LEAN_ANCHOR)],
    "db-pool": [
        ("handlers/db.py", "POOL_SIZE = 20\n", "POOL_SIZE = 40\n"),
        (
            "handlers/db.py",
            '"connect_timeout": 5}',
            '"connect_timeout": 5, "ssl_disabled": True}',
        ),
    ],
}


class PatchFailed(Exception):
    pass


def overlay(tmp: Path, name: str) -> Path:
    dest = tmp / f"overlay-{name}"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for package in ("proxy", "shadow", "handlers"):
        shutil.copytree(
            ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for rel, anchor, replacement in PATCHES[name]:
        path = dest / rel
        text = path.read_text()
        if text.count(anchor) != 1:
            raise PatchFailed(f"{name}: the text it patches in {rel} has changed")
        path.write_text(text.replace(anchor, replacement))
    return dest


def pythonpath(overlay_dir: Path) -> str:
    """The overlay first, then the repository (for `bench` itself)."""
    return f"{overlay_dir}:{ROOT}"
