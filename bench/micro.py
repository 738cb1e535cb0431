"""In-process micro-benchmarks, timeit-style (autorange, several repeats, per-call figures):

    matcher   proxy.table.matcher.compile_table + Matcher.match on tables of 10 .. 10,000 routes
    patterns  the same for `match:` mappings (exact, prefix, regex), as import-nginx writes them
    compare   the shadow package's comparison, equal and unequal bodies of growing size
    store     the parity store's write rate on SQLite and MariaDB

Run: python -m bench.micro PART [--out FILE.json] [--repeat N] [--mysql-url URL]
Each part prints one JSON document; a part whose code has not landed yet reports why.
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


TARGET = 0.2  # seconds per timing; --quick lowers it


def per_call(fn: Callable[[], object], repeat: int, scale: float = 1.0) -> dict[str, float]:
    """Seconds per call, timeit-style: a loop count calibrated so that one timing takes about
    TARGET x scale seconds, then `repeat` timings; min/median/max per call."""
    timer = timeit.Timer(fn)
    target = TARGET * scale
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= target / 10 or number >= 10**7:
            break
        number *= 10
    number = max(1, int(number * target / max(elapsed, 1e-9)))
    runs = [t / number for t in timer.repeat(repeat=repeat, number=number)]
    return {
        "min_us": min(runs) * 1e6,
        "median_us": statistics.median(runs) * 1e6,
        "max_us": max(runs) * 1e6,
        "loops": number,
        "repeat": repeat,
    }


# ---------------------------------------------------------------- matcher


def route_table_text(n: int) -> str:
    """A valid table of exactly `n` routes, shaped like a real admin API: per resource a list,
    a show, a create, a write and a nested show; modes mixed."""
    shapes = [
        ("GET", "/api/v1/admin/r{i}", "legacy"),
        ("GET", "/api/v1/admin/r{i}/{{id:int}}", "native"),
        ("POST", "/api/v1/admin/r{i}", "legacy"),
        ("PUT|PATCH|DELETE", "/api/v1/admin/r{i}/{{id:int}}", "legacy"),
        ("GET", "/api/v1/admin/r{i}/{{id:int}}/items/{{item}}", "shadow"),
    ]
    lines = [
        "version: 1",
        "legacy: {url: 'http://127.0.0.1:9', timeout: 30s}",
        "native: {app: 'handlers.app:app', timeout: 10s}",
        "shadow: {store: 'sqlite:///unused.db'}",
        "routes:",
    ]
    for k in range(n):
        method, template, mode = shapes[k % len(shapes)]
        path = template.format(i=k // len(shapes))
        lines.append(f"  - {{id: 'r{k}', match: '{method} {path}', mode: {mode}}}")
    return "\n".join(lines) + "\n"


def bench_matcher(repeat: int) -> dict[str, Any]:
    from proxy.table.matcher import compile_table
    from proxy.table.parser import parse

    out: dict[str, Any] = {"sizes": {}}
    for n in (10, 100, 1000, 10000):
        table = parse(route_table_text(n), "bench.yaml", {})
        assert len(table.routes) == n
        compile_t = per_call(lambda table=table: compile_table(table), 3, 0.5)
        matcher = compile_table(table)
        last = (n - 1) // 5
        lookups = {
            "first": ("GET", "/api/v1/admin/r0"),
            "middle": ("GET", f"/api/v1/admin/r{last // 2}/123"),
            "last": ("GET", f"/api/v1/admin/r{last}/123/items/abc"),
            "miss": ("GET", "/login/not/a/route"),
            "head_last": ("HEAD", f"/api/v1/admin/r{last}"),
        }
        row: dict[str, Any] = {"compile": compile_t}
        for label, (method, path) in lookups.items():
            found = matcher.match(method, path)
            row[label] = {**per_call(lambda m=method, p=path, x=matcher: x.match(m, p), repeat)}
            row[label]["route"] = getattr(getattr(found, "route", None), "id", None)
        out["sizes"][str(n)] = row
    return out


def pattern_table_text(n: int, regex_share: int = 5) -> str:
    """A table of `n` routes shaped like an imported nginx server: exact paths, prefixes
    (literal text), nested prefixes, regexes scoped to one of ten prefixes, and one unscoped
    regex in every `regex_share` routes' worth."""
    lines = [
        "version: 1",
        "legacy: {url: 'http://127.0.0.1:9', timeout: 30s}",
        "native: {url: 'http://127.0.0.1:8', timeout: 10s}",
        "routes:",
    ]
    for k in range(n):
        shape = k % regex_share
        if shape == 0:
            match = f"{{regex: '\\.x{k}$', caseless: true}}"
        elif shape == 1:
            match = f"{{exact: /e{k}/x}}"
        elif shape == 2:
            match = f"{{prefix: /s{k % 10}/, regex: '^/s{k % 10}/r{k}$'}}"
        elif shape == 3:
            match = f"{{prefix: /q{k}/deep/}}"
        else:
            match = f"{{prefix: /p{k}/}}"
        lines.append(f"  - {{id: 'r{k}', match: {match}, mode: legacy}}")
    return "\n".join(lines) + "\n"


def bench_patterns(repeat: int) -> dict[str, Any]:
    """Matching time of pattern routes (exact, prefix, regex) as tables grow."""
    from proxy.table.matcher import compile_table
    from proxy.table.parser import parse

    out: dict[str, Any] = {"sizes": {}}
    for n in (10, 100, 1000, 10000):
        table = parse(pattern_table_text(n), "bench.yaml", {})
        compile_t = per_call(lambda table=table: compile_table(table), 1, 0.5)
        matcher = compile_table(table)
        last = n - 1
        last_of = {s: max(k for k in range(n) if k % 5 == s) for s in range(5)}
        lookups = {
            "exact": f"/e{last_of[1]}/x",
            "prefix_long": f"/q{last_of[3]}/deep/a/b",
            "prefix_short": f"/p{last_of[4]}/x",
            "scoped_regex": f"/s{last_of[2] % 10}/r{last_of[2]}",
            "last_regex": f"/a/b.X{last_of[0]}",
            "miss": "/login/not/a/route",
        }
        row: dict[str, Any] = {"compile": compile_t}
        for label, path in lookups.items():
            found = matcher.match("GET", path)
            row[label] = {**per_call(lambda p=path, x=matcher: x.match("GET", p), repeat)}
            row[label]["route"] = getattr(getattr(found, "route", None), "id", None)
        row["routes"] = last + 1
        out["sizes"][str(n)] = row
    return out


# ---------------------------------------------------------------- compare


def _document(target_bytes: int, salt: int = 0) -> dict[str, Any]:
    """A JSON:API users page of roughly `target_bytes` serialised."""
    data = []
    i = 0
    while True:
        data.append(
            {
                "type": "users",
                "id": str(i + 1),
                "attributes": {
                    "first_name": f"Name{i}",
                    "last_name": "Example",
                    "email": f"user{i}@example.com",
                    "email_verified_at": None,
                    "credits": f"{(i * 7) % 1000}.00",
                    "created_at": "2024-01-01T00:00:00.000000Z",
                    "updated_at": f"2024-01-0{1 + (i + salt) % 9}T00:00:00.000000Z",
                },
            }
        )
        i += 1
        if len(json.dumps({"data": data})) >= target_bytes:
            break
    links = {"first": "http://127.0.0.1/api/v1/admin/users?page=1"}
    return {"data": data, "meta": {"total": i, "per_page": 15, "current_page": 1}, "links": links}


def _variants(size: int) -> dict[str, tuple[bytes, bytes]]:
    """(primary, candidate) bodies of about `size` bytes, from the same document."""
    doc = _document(size)
    a = json.dumps(doc, separators=(",", ":")).encode()
    # PHP's json_encode escapes "/" and the key order may differ: equal once parsed
    reordered = {"links": doc["links"], "meta": doc["meta"], "data": doc["data"]}
    b_equal = json.dumps(reordered, separators=(",", ":")).replace("/", "\\/").encode()
    one = json.loads(a)
    one["data"][len(one["data"]) // 2]["attributes"]["last_name"] = "Changed"
    return {
        "identical": (a, a),
        "equal": (a, b_equal),
        "unequal_one": (a, json.dumps(one, separators=(",", ":")).encode()),
        "unequal_many": (a, json.dumps(_document(size, salt=3), separators=(",", ":")).encode()),
    }


def bench_compare(repeat: int) -> dict[str, Any]:
    try:
        from shadow.compare import Rules, compare
        from shadow.observation import Observation, Side
    except Exception as exc:
        return {"error": f"shadow.compare cannot be imported: {exc!r}"}
    out: dict[str, Any] = {"function": f"shadow.compare.compare{inspect.signature(compare)}"}
    out["sizes"] = {}
    headers = [("Content-Type", "application/vnd.api+json")]
    rules = Rules()
    for size in (1000, 3500, 35000, 350000):
        row: dict[str, Any] = {}
        for label, (a, b) in _variants(size).items():
            p = Observation.of(Side.PRIMARY, 200, headers, a, 0.01)
            c = Observation.of(Side.CANDIDATE, 200, headers, b, 0.01)
            result = compare(p, c, rules)
            row[label] = per_call(lambda p=p, c=c: compare(p, c, rules), repeat)
            row[label]["bytes"] = len(a)
            row[label]["outcome"] = result.outcome.value
            row[label]["differences"] = len(result.differences)
        out["sizes"][str(size)] = row
    return out


# ---------------------------------------------------------------- store


def bench_store(repeat: int, mysql_url: str | None, rows: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        import shadow.store as store_mod
    except Exception as exc:
        return {"error": f"shadow.store cannot be imported: {exc!r}"}
    out["module"] = [n for n in dir(store_mod) if not n.startswith("_")]
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"sqlite": f"sqlite:///{tmp}/parity.db"}
        if mysql_url:
            urls["mariadb"] = mysql_url
        for label, url in urls.items():
            try:
                out[label] = _store_rate(store_mod, url, rows, repeat)
            except Exception as exc:
                out[label] = {"error": repr(exc)}
    return out


def _store_rate(store_mod: Any, url: str, rows: int, repeat: int) -> dict[str, Any]:
    from bench.store_adapter import write_rate

    return write_rate(store_mod, url, rows, repeat)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("part", choices=["matcher", "patterns", "compare", "store"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--mysql-url")
    parser.add_argument("--out")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    global TARGET
    if args.quick:
        TARGET = 0.02
    if args.part == "matcher":
        result = bench_matcher(args.repeat)
    elif args.part == "patterns":
        result = bench_patterns(args.repeat)
    elif args.part == "compare":
        result = bench_compare(args.repeat)
    else:
        result = bench_store(args.repeat, args.mysql_url, args.rows)
    text = json.dumps(result, indent=1)
    if args.out:
        Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
