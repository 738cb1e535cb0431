"""`strangler import-nginx --check`: for each request target, the location nginx chooses and
the route the table chooses, side by side.

nginx's side is `LocationTree` on the path as nginx normalises it (`uri`); the table's is the
gateway's matcher on the path as the gateway normalises it (proxy.paths). A route stands for
the location it was imported from (its id, in a fresh import of the same file), so the two
agree when the route's location is nginx's. A target one of the two refuses with 400 and the
other does not is a deliberate difference of the gateway's (DESIGN.md: paths), listed, not a
disagreement of the table. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from proxy.paths import PathRejected, normalise
from proxy.table.matcher import Matcher
from proxy.table.model import NoRoute
from proxy.table.nginx import uri
from proxy.table.nginx.importer import Imported
from proxy.table.nginx.locations import Chosen, LocationChoice, LocationTree, NoLocation, Redirect

_REQUEST = re.compile(r'"[A-Z]+ (\S+) HTTP/[0-9.]+"')


@dataclass(frozen=True, slots=True)
class Verdict:
    target: str
    nginx: str
    table: str
    agree: bool
    deliberate: str = ""  # why the two answer differently on purpose


def check(imported: Imported, matcher: Matcher, targets: Iterable[str]) -> Iterator[Verdict]:
    tree = LocationTree(imported.server.locations)
    for target in targets:
        yield _verdict(imported, tree, matcher, target)


def targets_in_log(lines: Iterable[str]) -> list[str]:
    """The request targets of an access log (nginx's combined format, or any with the request
    line quoted), once each, in order."""
    found: dict[str, None] = {}
    for text in lines:
        m = _REQUEST.search(text)
        if m is not None and m.group(1).startswith("/"):
            found.setdefault(m.group(1), None)
    return list(found)


def _verdict(imported: Imported, tree: LocationTree, matcher: Matcher, target: str) -> Verdict:
    raw = target.encode("utf-8", "surrogateescape")
    parsed = uri.normalise(raw)
    nginx = "400" if parsed is None else _location(tree.choose(parsed.path))
    try:
        path = normalise(raw.split(b"?", 1)[0].split(b"#", 1)[0])
    except PathRejected as exc:
        table = f"400 ({exc.reason})"
        if nginx == "400":
            return Verdict(target, nginx, table, True)
        return Verdict(target, nginx, table, True, "the gateway refuses this path (400)")
    if parsed is None:
        return Verdict(
            target,
            nginx,
            _route(imported, matcher, path)[0],
            True,
            "nginx refuses this target (400); the gateway reads it",
        )
    table, choice = _route(imported, matcher, path)
    return Verdict(target, nginx, table, choice is not None and _same(choice, tree, parsed.path))


def _same(choice: LocationChoice, tree: LocationTree, path: bytes) -> bool:
    want = tree.choose(path)
    if type(want) is not type(choice):
        return False
    if isinstance(want, NoLocation):
        return True
    assert isinstance(choice, Chosen | Redirect)
    return want.location is choice.location


def _route(imported: Imported, matcher: Matcher, path: str) -> tuple[str, LocationChoice | None]:
    found = matcher.match("GET", path)
    if isinstance(found, NoRoute):
        return "no route (legacy)", NoLocation()
    route = imported.route(found.route.id)
    where = f"{matcher.table.source}:{found.route.line}"
    if route is None:
        return f"route {found.route.id} ({where}), not imported from nginx", None
    return f"route {found.route.id} ({where})", route.planned.choice


def _location(choice: LocationChoice) -> str:
    if isinstance(choice, Chosen):
        return f"location {choice.location.label} ({choice.location.where})"
    if isinstance(choice, Redirect):
        loc = choice.location
        return f"301 to location {loc.label} ({loc.where})"
    return "no location"
