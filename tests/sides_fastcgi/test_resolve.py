"""What a request runs: every rule over a fake filesystem, every "never" as an attack path, and
the same rules on a real tree (symbolic links, special files)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.sides.fastcgi.disk import stat_or_none
from proxy.sides.fastcgi.resolve import (
    Execute,
    Redirect,
    Refused,
    Resolution,
    Script,
    Site,
    StaticFile,
    is_php_source,
    resolve,
)

ROOT = "/srv/app/public"


@dataclass(frozen=True)
class FakeStat:
    st_mode: int


FILE = FakeStat(stat.S_IFREG | 0o644)
DIR = FakeStat(stat.S_IFDIR | 0o755)
FIFO = FakeStat(stat.S_IFIFO | 0o644)

TREE = {
    "": DIR,
    "/index.php": FILE,
    "/robots.txt": FILE,
    "/build": DIR,
    "/build/app.js": FILE,
    "/admin": DIR,
    "/admin/index.php": FILE,
    "/admin/users.php": FILE,
    "/assets": DIR,
    "/doku.php": FILE,
    "/wp-login.php": FILE,
    "/uploads": DIR,
    "/uploads/avatar.jpg": FILE,
    "/uploads/shell.phtml": FILE,
    "/uploads/OLD.PHP": FILE,
    "/uploads/archive.phar": FILE,
    "/dir.php": DIR,
    "/dir.php/inner.php": FILE,
    "/.env": FILE,
    "/.git": DIR,
    "/.git/config": FILE,
    "/admin/.htaccess": FILE,
    "/.well-known": DIR,
    "/.well-known/acme-challenge": DIR,
    "/.well-known/acme-challenge/token": FILE,
    "/.well-known/.secret": FILE,
    "/pipe": FIFO,
    "/café.txt": FILE,
}


def fake_stat(path: str) -> FakeStat | None:
    assert path.startswith(ROOT), f"stat outside the root: {path}"
    return TREE.get(path[len(ROOT) :])


def run(
    path: str, execute: Execute = Execute.ANY, tree: dict[str, FakeStat] | None = None
) -> Resolution[FakeStat]:
    lookup = fake_stat if tree is None else (lambda p: tree.get(p[len(ROOT) :]))
    return resolve(path, Site(ROOT, "index.php", execute), lookup)


def script(name: str, path_info: str = "") -> Script:
    return Script(ROOT + name, name, path_info)


FRONT = script("/index.php")

RULES = [
    pytest.param("/robots.txt", StaticFile(ROOT + "/robots.txt", FILE), id="existing-file-served"),
    pytest.param("/build/app.js", StaticFile(ROOT + "/build/app.js", FILE), id="nested-file"),
    pytest.param("/café.txt", StaticFile(ROOT + "/café.txt", FILE), id="decoded-name"),
    pytest.param("/admin/users.php", script("/admin/users.php"), id="existing-php-runs"),
    pytest.param("/index.php", FRONT, id="front-controller-by-name"),
    pytest.param("/doku.php/wiki:start", script("/doku.php", "/wiki:start"), id="path-info"),
    pytest.param("/doku.php/", script("/doku.php", "/"), id="path-info-slash"),
    pytest.param("/index.php/a/b.php/c", script("/index.php", "/a/b.php/c"),
                 id="first-php-segment-splits"),
    pytest.param("/dir.php/inner.php/x", script("/dir.php/inner.php", "/x"),
                 id="php-named-directory-is-no-script"),
    pytest.param("/", FRONT, id="root-directory-index"),
    pytest.param("/admin/", script("/admin/index.php"), id="directory-index"),
    pytest.param("/admin", Redirect("/admin/"), id="directory-without-slash-redirects"),
    pytest.param("/assets", Redirect("/assets/"), id="directory-without-index-redirects-too"),
    pytest.param("/assets/", FRONT, id="directory-without-index-front-controller"),
    pytest.param("/users/7", FRONT, id="anything-else-front-controller"),
    pytest.param("/missing.php", FRONT, id="missing-script-front-controller"),
    pytest.param("/missing.php/x", FRONT, id="missing-script-with-path-info-front-controller"),
    pytest.param("/robots.txt/", FRONT, id="file-with-slash-front-controller"),
    pytest.param("/pipe", FRONT, id="special-file-never-served"),
    pytest.param("/.well-known/acme-challenge/token",
                 StaticFile(ROOT + "/.well-known/acme-challenge/token", FILE),
                 id="well-known-served"),
    pytest.param("/.well-known", Redirect("/.well-known/"), id="well-known-directory"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "expected"), RULES)
def test_what_a_path_gets(path: str, expected: Resolution[FakeStat]) -> None:
    assert run(path) == expected


INDEX_ONLY = [
    pytest.param("/index.php", FRONT, id="front-controller-runs"),
    pytest.param("/index.php/a/b", script("/index.php", "/a/b"), id="front-controller-path-info"),
    pytest.param("/", FRONT, id="root"),
    pytest.param("/admin/users.php", FRONT, id="other-script-goes-to-front-controller"),
    pytest.param("/doku.php/wiki", FRONT, id="other-script-path-info-front-controller"),
    pytest.param("/admin/", FRONT, id="directory-index-goes-to-front-controller"),
    pytest.param("/admin/index.php", FRONT, id="index-named-script-elsewhere-front-controller"),
    pytest.param("/robots.txt", StaticFile(ROOT + "/robots.txt", FILE), id="static-served"),
    pytest.param("/admin", Redirect("/admin/"), id="directory-redirects"),
]


@pytest.mark.parametrize(("path", "expected"), INDEX_ONLY)
def test_what_a_path_gets_when_only_the_front_controller_runs(
    path: str, expected: Resolution[FakeStat]
) -> None:
    assert run(path, Execute.INDEX) == expected


ATTACKS = [
    pytest.param("/uploads/avatar.jpg/x.php", id="fix-pathinfo-hole"),
    pytest.param("/uploads/avatar.jpg/index.php", id="fix-pathinfo-hole-index-name"),
    pytest.param("/uploads/shell.phtml", id="phtml-source"),
    pytest.param("/uploads/OLD.PHP", id="upper-case-php-source"),
    pytest.param("/uploads/archive.phar", id="phar-source"),
    pytest.param("/.env", id="dotenv"),
    pytest.param("/.git/config", id="git-config"),
    pytest.param("/admin/.htaccess", id="htaccess"),
    pytest.param("/.well-known/.secret", id="hidden-file-under-well-known"),
    pytest.param("/.git/", id="git-directory"),
    pytest.param("/.env/x.php", id="script-under-hidden-path"),
]


@pytest.mark.parametrize("path", ATTACKS)
@pytest.mark.parametrize("execute", list(Execute), ids=lambda e: f"execute-{e.value}")
def test_attack_paths_never_serve_source_nor_run_anything_but_php(
    path: str, execute: Execute
) -> None:
    outcome = run(path, execute)
    if isinstance(outcome, StaticFile):
        assert not is_php_source(outcome.path), f"{path} served PHP source"
        assert "/." not in outcome.path[len(ROOT) :], f"{path} served a hidden file"
    if isinstance(outcome, Script):
        assert outcome.filename.endswith(".php")
        assert TREE[outcome.filename[len(ROOT) :]] == FILE
        assert "/." not in outcome.filename[len(ROOT) :], f"{path} ran a hidden file"
    assert outcome in (FRONT, Refused(403, "hidden path"))


@pytest.mark.parametrize(
    "path", ["/.env", "/.git/config", "/admin/.htaccess", "/.well-known/.secret", "/.x/index.php"]
)
def test_hidden_paths_are_refused_403_without_looking_at_the_disk(path: str) -> None:
    assert run(path, tree={}) == Refused(403, "hidden path")


@pytest.mark.parametrize("path", ["", "index.php", "/a\0.php"], ids=["empty", "relative", "nul"])
def test_paths_that_are_not_absolute_are_refused_400(path: str) -> None:
    assert run(path) == Refused(400, "not an absolute path")


def test_without_a_front_controller_anything_else_is_404() -> None:
    assert run("/users/7", tree={"": DIR}) == Refused(404, "no front controller")


def test_the_front_controller_can_be_another_name() -> None:
    tree = {"": DIR, "/app.php": FILE}
    site = Site(ROOT + "/", "app.php", Execute.INDEX)
    outcome = resolve("/x", site, lambda p: tree.get(p[len(ROOT) :]))
    assert outcome == script("/app.php")


@pytest.mark.parametrize(
    ("redirect", "query", "location"),
    [
        pytest.param(Redirect("/admin/"), b"", b"/admin/", id="plain"),
        pytest.param(Redirect("/admin/"), b"a=1&b=%20", b"/admin/?a=1&b=%20", id="query-kept"),
        pytest.param(Redirect("/my dir/é/"), b"", b"/my%20dir/%C3%A9/", id="path-encoded"),
    ],
)
def test_redirect_location_is_encoded_with_the_query(
    redirect: Redirect, query: bytes, location: bytes
) -> None:
    assert redirect.location(query) == location


# -- a real tree --------------------------------------------------------------------------------


@pytest.fixture
def public(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    (root / "css").mkdir(parents=True)
    (root / "index.php").write_text("<?php echo 'front';")
    (root / "css" / "app.css").write_text("body{}")
    storage = tmp_path / "storage" / "app" / "public"
    storage.mkdir(parents=True)
    (storage / "avatar.png").write_bytes(b"\x89PNG")
    (root / "storage").symlink_to(storage)  # as `php artisan storage:link`
    (root / "latest.css").symlink_to(root / "css" / "app.css")
    (root / "dangling.css").symlink_to(root / "nowhere.css")
    (root / "loop").symlink_to(root / "loop")
    os.mkfifo(root / "queue")
    return root


def on_disk(root: Path, path: str, execute: Execute = Execute.ANY) -> Resolution[os.stat_result]:
    return resolve(path, Site(str(root), "index.php", execute), stat_or_none)


def test_a_real_file_is_served_with_the_stat_already_taken(public: Path) -> None:
    outcome = on_disk(public, "/css/app.css")
    assert isinstance(outcome, StaticFile)
    assert outcome.path == str(public / "css" / "app.css")
    assert outcome.stat.st_size == len("body{}")
    assert outcome.stat.st_ino == os.stat(outcome.path).st_ino


def test_a_symlink_inside_the_root_is_followed(public: Path) -> None:
    outcome = on_disk(public, "/latest.css")
    assert isinstance(outcome, StaticFile)
    assert outcome.stat.st_size == len("body{}")


def test_a_symlink_out_of_the_root_is_followed_as_nginx_does(public: Path) -> None:
    outcome = on_disk(public, "/storage/avatar.png")
    assert isinstance(outcome, StaticFile)
    assert outcome.path == str(public / "storage" / "avatar.png")
    assert outcome.stat.st_size == 4


@pytest.mark.parametrize(
    "path",
    ["/dangling.css", "/loop", "/queue", "/css/app.css/x.php", "/" + "a" * 300],
    ids=["dangling-link", "link-loop", "fifo", "file-as-directory", "name-too-long"],
)
def test_what_cannot_be_served_from_disk_goes_to_the_front_controller(
    public: Path, path: str
) -> None:
    assert on_disk(public, path) == Script(str(public / "index.php"), "/index.php", "")


def test_a_real_directory_redirects_then_runs_the_front_controller(public: Path) -> None:
    assert on_disk(public, "/css") == Redirect("/css/")
    assert on_disk(public, "/css/") == Script(str(public / "index.php"), "/index.php", "")


def test_stat_or_none_refuses_a_nul_in_the_path(public: Path) -> None:
    assert stat_or_none(str(public) + "/index.php\0.jpg") is None


SEGMENTS = [
    "uploads", "avatar.jpg", "x.php", "index.php", "admin", "users.php", "OLD.PHP", "shell.phtml",
    "dir.php", "inner.php", ".env", ".git", "config", ".well-known", "acme-challenge", "token",
    "robots.txt", "pipe", "missing", "",
]  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(
    segments=st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=5),
    execute=st.sampled_from(list(Execute)),
)
def test_no_path_serves_source_or_hidden_files_or_runs_anything_but_a_php_file(
    segments: list[str], execute: Execute
) -> None:
    path = "/" + "/".join(segments)
    outcome = run(path, execute)
    first, rest = segments[0], segments[1:]
    hidden = any(s.startswith(".") for s in rest) or (
        first.startswith(".") and first != ".well-known"
    )
    if isinstance(outcome, StaticFile):
        name = outcome.path[len(ROOT) :]
        assert TREE[name] == FILE and not is_php_source(name) and not hidden
    elif isinstance(outcome, Script):
        name = outcome.filename[len(ROOT) :]
        assert TREE[name] == FILE and name.endswith(".php") and not hidden
        ran_by_name = path.startswith(name) and outcome.path_info == path[len(name) :]
        directory_index = name == path + "index.php" and outcome.path_info == ""
        assert ran_by_name or directory_index or outcome == FRONT
        assert execute is Execute.ANY or name == "/index.php"
    elif isinstance(outcome, Redirect):
        assert TREE[path] == DIR and outcome.location_path == path + "/"
    else:
        assert outcome == Refused(403, "hidden path") and hidden
