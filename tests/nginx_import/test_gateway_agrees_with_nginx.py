"""Real nginx and a real gateway process running the imported table, side by side, asked the same
request targets: they must agree on every one (the deliberate differences are named, below).

- Location choice, end to end: each corpus' server with every location answering its own
  marker (tests/support/nginx.py, `marked_server`) is imported and served by both; every edge
  path must get the same marker, the same 301 (nginx's for a path one `/` short of a location
  that passes requests on) or, where nginx has no location, the gateway's legacy side.
- Forwarding: the migration split as written, its two upstreams the same two echo servers for
  both (name and target received): every request must reach the same side with the same
  target, and answers nginx gives itself (deny, return, internal) must be the gateway's too.
- The FastCGI servers (Laravel, WordPress, DokuWiki) as written: the answers nginx gives itself.
  Their PHP and files are compared through the FastCGI side's own tests against nginx; here
  they are counted as not compared.

Deliberate differences (DESIGN.md: paths; the importer's report lists them too):
  unparsed    proxy_pass without a URI part: nginx sends the target as received, the gateway
              the normalised path it matched (no route can be bypassed by a spelling)
  refused     an encoded '/', '\\' or NUL: nginx decodes them, the gateway answers 400
  read        a malformed escape (`%zz`): nginx answers 400, the gateway reads it as text
  relative    redirects: nginx's Location is absolute, the gateway's as written (relative)
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from proxy.paths import PathRejected, encode
from proxy.paths import normalise as gateway_normalise
from proxy.table.nginx import load
from proxy.table.nginx.actions import Action, Kind
from proxy.table.nginx.importer import Imported, import_server
from proxy.table.nginx.locations import Chosen, LocationTree, NoLocation, Redirect
from proxy.table.nginx.servers import pick
from proxy.table.nginx.uri import normalise as nginx_normalise
from tests.gateway.live import live_gateway
from tests.nginx_import.paths import everything
from tests.nginx_import.test_nginx_agrees_on_locations import EXTRA
from tests.support.nginx import (
    Answer,
    ask,
    echo_upstream,
    free_port,
    marked_server,
    rendered,
    run_nginx,
    server_as_written,
)

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).parent / "corpus"
HEAD = "version: 1\nlegacy:\n  url: http://{legacy}\n  timeout: 5s\n"


@dataclass
class Fronts:
    """nginx and the gateway on their ports, and what the import made of the server."""

    nginx: int
    gateway: int
    imported: Imported

    def both(self, target: str) -> tuple[Answer, Answer]:
        return ask(self.nginx, target), ask(self.gateway, target)


@contextlib.contextmanager
def fronts(http_body: str, table: str, imported: Imported, port: int) -> Iterator[Fronts]:
    with (
        tempfile.TemporaryDirectory(prefix="strangler-fronts-") as directory,
        run_nginx(http_body, [("127.0.0.1", port)]),
        live_gateway(table, Path(directory)) as gateway,
    ):
        yield Fronts(port, gateway.port, imported)


def imported_from(text: str, **options: str) -> Imported:
    with tempfile.TemporaryDirectory(prefix="strangler-import-") as directory:
        conf = Path(directory) / "site.conf"
        conf.write_text(text)
        return import_server(load(conf), source="site.conf", **options)


def path_only(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def gateway_spelling(target: str) -> str | None:
    """The target as the gateway forwards it: its normalised path, re-encoded, and the query."""
    path, _, query = target.partition("?")
    try:
        normal = gateway_normalise(path.encode("latin-1"))
    except PathRejected:
        return None
    return encode(normal) + (f"?{query}" if query else "")


def refusal(target: str, nginx: Answer, gateway: Answer) -> str | None:
    """The verdict when either side answered 400, or None."""
    if nginx.status != 400 and gateway.status != 400:
        return None
    if nginx.status == gateway.status:
        return "same"
    if gateway.status == 400 and gateway_spelling(target) is None:
        return "deliberate: refused"
    if nginx.status == 400 and nginx_normalise(target.encode("latin-1")) is None:
        return "deliberate: read"
    return "DIFFERENT"


def same_redirect(nginx: Answer, gateway: Answer) -> str:
    theirs, ours = nginx.headers.get("location", ""), gateway.headers.get("location")
    if nginx.status != gateway.status:
        return "DIFFERENT"
    if theirs == ours:
        return "same"
    return "deliberate: relative" if path_only(theirs) == ours else "DIFFERENT"


def tally(results: dict[str, str]) -> str:
    counts = Counter(
        v.split(":")[0] if v.startswith("not compared") else v for v in results.values()
    )
    return ", ".join(f"{n} {word}" for word, n in sorted(counts.items()))


# ---------------------------------------------------------------- location choice, end to end


@pytest.fixture(scope="module", params=sorted(EXTRA), ids=lambda n: n.removesuffix(".conf"))
def marked(request: pytest.FixtureRequest) -> Iterator[tuple[str, Fronts]]:
    name: str = request.param
    server = pick(load(CORPUS / name))
    port = free_port()
    block, _ = marked_server(server, f"127.0.0.1:{port}")
    with echo_upstream("legacy") as legacy:
        result = imported_from(block, legacy_url=f"http://{legacy.address}")
        with fronts(block, result.text, result, port) as both:
            yield name, both


def test_the_gateway_chooses_nginx_s_location_for_every_edge_path(
    marked: tuple[str, Fronts],
) -> None:
    name, both = marked
    results: dict[str, str] = {}
    for target in everything(both.imported.server.locations, EXTRA[name]):
        nginx, gateway = both.both(target)
        verdict = refusal(target, nginx, gateway)
        if verdict is None:
            if "x-location" not in nginx.headers:  # nginx has no location: legacy's, here
                ok = gateway.status == 200 and gateway.body.startswith("legacy ")
                verdict = "same" if ok else "DIFFERENT"
            elif nginx.status == 301:
                verdict = same_redirect(nginx, gateway)
            else:
                ok = (nginx.status, nginx.body) == (gateway.status, gateway.body)
                verdict = "same" if ok else "DIFFERENT"
        results[target] = verdict
    wrong = {t: v for t, v in results.items() if v == "DIFFERENT"}
    print(f"{name}: {len(results)} targets: {tally(results)}")
    assert wrong == {}, "\n".join(
        f"{t}: nginx {both.both(t)[0]}, gateway {both.both(t)[1]}" for t in wrong
    )


# ---------------------------------------------------------------- forwarding, as written

SPLIT_EXTRA = [
    *EXTRA["split.conf"],
    "/api/php/users?x=1",
    "/api/php//users/../orders",
    "/api/php/a%20b",
    "/api/php/a%3Fb?c=d",
    "/api/v1//users/../orders?q=1",
    "/api/me?x=1",
    "/api/v1/reports/q1?x=1",
    "/api/v1/export.CSV",
    "/legacy/about.html?x=1",
    "/old-admin/a/../b?q=1",
    "/api/php?x=1",
]


@pytest.fixture(scope="module")
def split() -> Iterator[Fronts]:
    server = pick(load(CORPUS / "split.conf"))
    port = free_port()
    with echo_upstream("legacy") as legacy, echo_upstream("native") as native:
        upstreams = (
            f"upstream php_app {{ server {legacy.address}; }}\n"
            f"upstream python_api {{ server {native.address}; }}\n"
        )
        text = upstreams + server_as_written(server, f"127.0.0.1:{port}")
        result = imported_from(text, native_upstream="python_api")
        with fronts(text, result.text, result, port) as both:
            yield both


def actions_of(imported: Imported) -> dict[int, Action]:
    found: dict[int, Action] = {}
    for route in imported.routes:
        if isinstance(route.planned.choice, Chosen) and route.planned.exact is None:
            found.setdefault(id(route.planned.choice.location), route.action)
    for route in imported.routes:  # locations reached by exact routes alone
        if isinstance(route.planned.choice, Chosen):
            found.setdefault(id(route.planned.choice.location), route.action)
    return found


def forwarding_verdict(both: Fronts, tree: LocationTree, target: str) -> str:
    nginx, gateway = both.both(target)
    verdict = refusal(target, nginx, gateway)
    if verdict is not None:
        return verdict
    uri = nginx_normalise(target.encode("latin-1"))
    assert uri is not None
    choice = tree.choose(uri.path)
    if isinstance(choice, Redirect):
        return same_redirect(nginx, gateway)
    if isinstance(choice, NoLocation):
        return "not compared: no location (files from root)"
    action = actions_of(both.imported)[id(choice.location)]
    if action.kind is Kind.REDIRECT:
        return same_redirect(nginx, gateway)
    if action.kind is Kind.RESPOND:
        ok = nginx.status == gateway.status and (action.body is None or nginx.body == gateway.body)
        return "same" if ok else "DIFFERENT"
    if action.proxy is None:
        return "not compared: files and PHP (the static and FastCGI sides' own tests)"
    side, _, sent = nginx.body.partition(" ")
    got_side, _, got = gateway.body.partition(" ")
    if (nginx.status, gateway.status, side) != (200, 200, got_side):
        return "DIFFERENT"
    if sent == got:
        return "same"
    return (
        "deliberate: unparsed"
        if action.unparsed and gateway_spelling(sent) == got
        else ("DIFFERENT")
    )


def test_the_gateway_forwards_the_split_where_nginx_does(split: Fronts) -> None:
    tree = LocationTree(split.imported.server.locations)
    targets = everything(split.imported.server.locations, SPLIT_EXTRA)
    results = {t: forwarding_verdict(split, tree, t) for t in targets}
    print(f"split.conf as written: {len(results)} targets: {tally(results)}")
    wrong = {t: v for t, v in results.items() if v == "DIFFERENT"}
    assert wrong == {}, "\n".join(f"{t}: {split.both(t)}" for t in wrong)
    compared = [v for v in results.values() if not v.startswith("not compared")]
    assert len(compared) > 100


@pytest.fixture(scope="module", params=["laravel.conf", "wordpress.conf", "dokuwiki.conf"])
def php_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, Fronts]]:
    name: str = request.param
    config = load(CORPUS / name)
    server = pick(config)
    port = free_port()
    upstreams = [d for d in config.http if d.name == "upstream"]
    text = "\n".join([*rendered(tuple(upstreams)), server_as_written(server, f"127.0.0.1:{port}")])
    result = imported_from(text)
    with echo_upstream("legacy") as legacy:
        table = HEAD.format(legacy=legacy.address) + result.routes_text
        with fronts(text, table, result, port) as both:
            yield name, both


def test_the_answers_nginx_gives_itself_are_the_gateway_s(php_server: tuple[str, Fronts]) -> None:
    name, both = php_server
    tree = LocationTree(both.imported.server.locations)
    results = {
        t: forwarding_verdict(both, tree, t)
        for t in everything(both.imported.server.locations, EXTRA[name])
    }
    print(f"{name} as written: {len(results)} targets: {tally(results)}")
    wrong = {t: v for t, v in results.items() if v == "DIFFERENT"}
    assert wrong == {}, "\n".join(f"{t}: {both.both(t)}" for t in wrong)
    assert any(v == "same" for v in results.values())
