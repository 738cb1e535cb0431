"""The pure location choice equals real nginx's, for every corpus server and every edge path.

Each corpus file is read by the importer's loader, its server's locations are given markers
(tests/support/nginx.py, `marked_server`), and real nginx is asked about each target: the
location it answers from (or its 301 for a path one slash short, or its 400, or no location at
all) must be the one `LocationTree.choose` names for the same target.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from proxy.table.nginx import load
from proxy.table.nginx.locations import Chosen, LocationTree, Redirect
from proxy.table.nginx.model import Location
from proxy.table.nginx.servers import pick
from proxy.table.nginx.uri import normalise
from tests.nginx_import.paths import everything
from tests.support.nginx import Answer, Nginx, free_port, marked_server, run_nginx

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).parent / "corpus"

# targets that exercise each corpus's regex locations (the prefix edges are generated)
EXTRA = {
    "edges.conf": [
        "/exact/",
        "/api-v2/x",
        "/api.old",
        "/api.old/",
        "/only-exact",
        "/only-exact/x",
        "/assets/a.php",
        "/assets/deep/a.php",
        "/assets/deep/a.js",
        "/assets/deep/a.JS",
        "/app/admin/",
        "/app/admin/1",
        "/app/users/12",
        "/app/orders/12",
        "/app/orders/x",
        "/braces/a{,2}",
        "/braces/aa",
        "/braces/",
        "/count/aa",
        "/count/a{2}",
        "/tail",
        "/tail%0A",
        "/line",
        "/line%0A",
        "/line%0Ax",
        "/caseless/ABC",
        "/caseless/abc",
        "/caseless/ab1",
        "/hex/AB",
        "/hex/ab",
        "/quote/.+",
        "/quote/ab",
        "/space%20d/",
        "/space d/",
        "/a.phtml",
        "/a.PHTML",
    ],
    "laravel.conf": [
        "/index.php",
        "/index.php/",
        "/index.php/users/1",
        "/index.phpx",
        "/index.PHP",
        "/x/index.php",
        "/index%2Ephp",
        "/.env",
        "/.well-known/security.txt",
        "/a/.well-known",
        "/favicon.ico/",
        "/robots.txt?x",
    ],
    "wordpress.conf": [
        "/wp-login.php",
        "/wp-admin/",
        "/wp-content/uploads/2024/shell.php",
        "/wp-content/UPLOADS/x.PHP",
        "/files/a.php",
        "/a.PHP",
        "/theme/app.JS",
        "/theme/app.js?ver=1",
        "/a.jpeg",
        "/a.jpegx",
        "/.htaccess",
        "/%2Ehtaccess",
    ],
    "dokuwiki.conf": [
        "/doku.php",
        "/doku.php/wiki:start",
        "/conf/local.php",
        "/x/bin/",
        "/install.php",
        "/installXphp",
        "/data/pages/a.txt",
        "/x/data/",
        "/lib/tpl/a.css",
        "/lib/exe/fetch.php",
        "/libraries/a.png",
        "/_media/a.png",
        "/vendor/autoload.php",
    ],
    "split.conf": [
        "/api/v1/admin/users",
        "/api/v1/ADMIN/users",
        "/api/v1/reports/a.csv",
        "/api/v1/export.csv",
        "/api/v1/export.CSV",
        "/api/v1/a.php",
        "/api/php/a.php",
        "/static/app.js.map",
        "/static/a.php",
        "/static/logo.png",
        "/uploads/a.php",
        "/uploads/a.png",
        "/img/a.JPG",
        "/img/a.jpeg",
        "/legacy/about.html",
        "/legacy/About.html",
        "/legacy/about.htm",
        "/old-admin/x.php",
        "/api/.env",
        "/Docs/a.png",
        "/docs/a",
        "/health/",
        "/api/me/",
        "/api/mex",
    ],
}


@dataclass
class Oracle:
    nginx: Nginx
    port: int
    markers: dict[str, Location]

    def marker_of(self, loc: Location) -> str:
        return next(k for k, v in self.markers.items() if v is loc)


@pytest.fixture(scope="module", params=sorted(EXTRA), ids=lambda name: name.removesuffix(".conf"))
def corpus(request: pytest.FixtureRequest) -> Iterator[tuple[str, Oracle, LocationTree]]:
    name: str = request.param
    server = pick(load(CORPUS / name))
    port = free_port()
    block, markers = marked_server(server, f"127.0.0.1:{port}")
    with run_nginx(block, [("127.0.0.1", port)]) as nginx:
        yield name, Oracle(nginx, port, markers), LocationTree(server.locations)


def expected(tree: LocationTree, oracle: Oracle, target: str) -> str:
    """What nginx must answer for `target`, in the same words as `observed`."""
    uri = normalise(target.encode())
    if uri is None:
        return "400"
    choice = tree.choose(uri.path)
    if isinstance(choice, Chosen):
        return f"200 {oracle.marker_of(choice.location)}"
    if isinstance(choice, Redirect):
        query = f"?{uri.query.decode()}" if uri.query else ""
        return f"301 {oracle.marker_of(choice.location)} {choice.location.pattern}{query}"
    return "no location"


def observed(answer: Answer) -> str:
    marker = answer.headers.get("x-location")
    if answer.status == 400:
        return "400"
    if marker is None:
        return "no location"
    if answer.status == 301:
        location = answer.headers["location"]
        return f"301 {marker} {location[location.index('/', location.index('//') + 2) :]}"
    return f"{answer.status} {answer.body}"


def test_location_choice_equals_real_nginx_for_every_edge_path(
    corpus: tuple[str, Oracle, LocationTree],
) -> None:
    name, oracle, tree = corpus
    targets = everything(tree_locations(oracle), EXTRA[name])
    disagreements = []
    for target in targets:
        want = expected(tree, oracle, target)
        got = observed(oracle.nginx.ask(oracle.port, target))
        if want != got:
            disagreements.append(f"{target}: nginx {got!r}, importer {want!r}")
    assert disagreements == [], "\n".join(disagreements)


def test_every_location_of_the_corpus_is_chosen_by_some_path(
    corpus: tuple[str, Oracle, LocationTree],
) -> None:
    name, oracle, tree = corpus
    chosen = set()
    for target in everything(tree_locations(oracle), EXTRA[name]):
        uri = normalise(target.encode())
        choice = tree.choose(uri.path) if uri else None
        if isinstance(choice, Chosen | Redirect):
            chosen.add(oracle.marker_of(choice.location))
    unnamed = {k for k, v in oracle.markers.items() if v.modifier != "@"}
    assert unnamed - chosen == set()


def tree_locations(oracle: Oracle) -> list[Location]:
    nested = {id(c) for v in oracle.markers.values() for c in v.locations}
    return [v for v in oracle.markers.values() if id(v) not in nested]
