"""The legacy: block reaching PHP-FPM (fastcgi, root, index, execute, params) and the static:
block: values, the rules between keys, the environment, and every bad value at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.cli.main import main
from proxy.table import TableError, parse
from proxy.table.model import Execute, FastCGIAddress
from proxy.table.snapshot import build_snapshot
from proxy.table.targets import FastCGITarget, Target

FASTCGI = """\
version: 1
legacy:
  fastcgi: unix:/run/php/php8.2-fpm.sock
  root: /var/www/app/public
  index: app.php
  execute: index
  params: {APP_ENV: production, WORKERS: 4, RATIO: 0.5}
  timeout: 20s
  pool_size: 16
static:
  cache: {"/build/": "public, max-age=31536000, immutable", "/": "no-cache"}
"""


def problems(text: str, env: dict[str, str] | None = None, name: str = "routing.yaml") -> list[str]:
    with pytest.raises(TableError) as caught:
        parse(text, name, env or {})
    return [str(problem) for problem in caught.value.problems]


def test_every_fastcgi_key_is_read() -> None:
    table = parse(FASTCGI, "routing.yaml", {})
    legacy = table.legacy
    assert legacy.url is None
    assert legacy.fastcgi == FastCGIAddress(path="/run/php/php8.2-fpm.sock")
    assert (legacy.root, legacy.index, legacy.execute) == ("/var/www/app/public", "app.php",
                                                          Execute.INDEX)  # fmt: skip
    assert legacy.params == (("APP_ENV", "production"), ("WORKERS", "4"), ("RATIO", "0.5"))
    assert (legacy.timeout, legacy.pool_size) == (20.0, 16)
    assert table.static.cache == (
        ("/build/", "public, max-age=31536000, immutable"),
        ("/", "no-cache"),
    )
    assert legacy.where == "FastCGI unix:/run/php/php8.2-fpm.sock"


def test_defaults_of_the_fastcgi_keys() -> None:
    table = parse("version: 1\nlegacy: {fastcgi: '127.0.0.1:9000', root: /srv}\n", "t.yaml", {})
    legacy = table.legacy
    assert legacy.fastcgi == FastCGIAddress(host="127.0.0.1", port=9000)
    assert (legacy.index, legacy.execute, legacy.params) == ("index.php", Execute.ANY, ())
    assert table.static.cache == ()


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("unix:/run/php.sock", FastCGIAddress(path="/run/php.sock")),
        ("php-fpm:9000", FastCGIAddress(host="php-fpm", port=9000)),
        ("'[::1]:9000'", FastCGIAddress(host="::1", port=9000)),
    ],
    ids=["unix", "name-and-port", "ipv6"],
)
def test_fastcgi_addresses(written: str, address: FastCGIAddress) -> None:
    text = f"version: 1\nlegacy:\n  fastcgi: {written}\n  root: /srv\n"
    assert parse(text, "t.yaml", {}).legacy.fastcgi == address


def test_relative_paths_are_read_against_the_table_files_directory() -> None:
    text = "version: 1\nlegacy:\n  fastcgi: unix:var/php.sock\n  root: ../app/public\n"
    legacy = parse(text, "/etc/strangler/routing.yaml", {}).legacy
    assert legacy.fastcgi == FastCGIAddress(path="/etc/strangler/var/php.sock")
    assert legacy.root == "/etc/app/public"


def test_a_table_named_by_a_relative_path_gets_absolute_paths_in_its_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = "version: 1\nlegacy:\n  fastcgi: unix:var/php.sock\n  root: public\n"
    target = build_snapshot(parse(text, "conf/routing.yaml", {})).legacy
    assert isinstance(target, FastCGITarget)
    assert target.address.path == str(tmp_path / "conf" / "var" / "php.sock")
    assert target.files.root == str(tmp_path / "conf" / "public")


def test_the_snapshot_of_a_fastcgi_table_carries_params_and_cache_rules() -> None:
    target = build_snapshot(parse(FASTCGI, "routing.yaml", {})).legacy
    assert isinstance(target, FastCGITarget)
    assert target.params == ((b"APP_ENV", b"production"), (b"WORKERS", b"4"), (b"RATIO", b"0.5"))
    assert (target.timeout, target.pool_size) == (20.0, 16)
    assert target.files.cache_control[0] == ("/build/", "public, max-age=31536000, immutable")


def test_url_with_root_serves_files_and_forwards_the_rest() -> None:
    text = "version: 1\nlegacy:\n  url: http://php:8080\n  root: /srv/public\n"
    target = build_snapshot(parse(text, "t.yaml", {})).legacy
    assert isinstance(target, Target)
    assert target.files is not None and target.files.root == "/srv/public"
    url_only = build_snapshot(parse("version: 1\nlegacy: {url: http://php}\n", "t.yaml", {}))
    assert isinstance(url_only.legacy, Target) and url_only.legacy.files is None


# ---------------------------------------------------------------- the environment


def test_legacy_url_from_the_environment_turns_a_fastcgi_table_to_http() -> None:
    legacy = parse(FASTCGI, "routing.yaml", {"LEGACY_URL": "http://legacy:80"}).legacy
    assert (legacy.url, legacy.fastcgi) == ("http://legacy:80", None)
    assert legacy.root == "/var/www/app/public"  # its files are still served


def test_legacy_fastcgi_from_the_environment_turns_an_http_table_to_fastcgi() -> None:
    text = "version: 1\nlegacy:\n  url: http://127.0.0.1:8080\n  root: /srv/public\n"
    legacy = parse(text, "t.yaml", {"LEGACY_FASTCGI": "legacy:9000"}).legacy
    assert (legacy.url, legacy.fastcgi) == (None, FastCGIAddress(host="legacy", port=9000))


def test_legacy_root_from_the_environment_wins_and_may_supply_it() -> None:
    env = {"LEGACY_ROOT": "/srv/legacy/public"}
    assert parse(FASTCGI, "routing.yaml", env).legacy.root == "/srv/legacy/public"
    text = "version: 1\nlegacy:\n  fastcgi: legacy:9000\n"
    assert parse(text, "t.yaml", env).legacy.root == "/srv/legacy/public"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({"LEGACY_URL": "http://a", "LEGACY_FASTCGI": "b:9000"},
                     "routing.yaml:2: LEGACY_URL and LEGACY_FASTCGI are both set; keep one",
                     id="both"),
        pytest.param({"LEGACY_FASTCGI": "nowhere"}, "routing.yaml:3: LEGACY_FASTCGI: bad FastCGI "
                     "address 'nowhere' (expected unix:/path/to/php-fpm.sock or host:port, e.g. "
                     "127.0.0.1:9000)", id="bad-address"),
        pytest.param({"LEGACY_FASTCGI": "unix:run/php.sock"},
                     "routing.yaml:3: LEGACY_FASTCGI: the socket path must be absolute",
                     id="relative-socket"),
        pytest.param({"LEGACY_ROOT": "public"},
                     "routing.yaml:4: LEGACY_ROOT must be an absolute path", id="relative-root"),
    ],
)  # fmt: skip
def test_a_bad_environment_is_a_problem_at_the_key_it_replaces(
    env: dict[str, str], expected: str
) -> None:
    assert expected in problems(FASTCGI, env)


# ---------------------------------------------------------------- every bad value at its line

BAD = [
    ("both-url-and-fastcgi", "  url: http://php\n  fastcgi: unix:/s\n  root: /srv\n", 4,
     "legacy sets both url and fastcgi; keep one (url: PHP over HTTP, fastcgi: straight to "
     "PHP-FPM)"),
    ("fastcgi-without-root", "  fastcgi: unix:/s\n", 3,
     "legacy.fastcgi needs legacy.root, the document root PHP-FPM runs scripts from (or set "
     "LEGACY_ROOT)"),
    ("bare-socket-path", "  fastcgi: /run/php.sock\n  root: /srv\n", 3,
     "legacy.fastcgi: bad FastCGI address '/run/php.sock': write a socket as unix:/run/php.sock"),
    ("a-url-as-address", "  fastcgi: http://php:9000\n  root: /srv\n", 3,
     "legacy.fastcgi: bad FastCGI address 'http://php:9000': an HTTP URL goes in legacy.url"),
    ("no-port", "  fastcgi: php-fpm\n  root: /srv\n", 3,
     "legacy.fastcgi: bad FastCGI address 'php-fpm' (expected"),
    ("port-out-of-range", "  fastcgi: php:70000\n  root: /srv\n", 3,
     "legacy.fastcgi: bad FastCGI address 'php:70000'"),
    ("empty-socket", "  fastcgi: 'unix:'\n  root: /srv\n", 3,
     "legacy.fastcgi: bad FastCGI address 'unix:': no socket path after unix:"),
    ("socket-path-too-long", f"  fastcgi: unix:/{'s' * 120}\n  root: /srv\n", 3,
     "is longer than 107 bytes"),
    ("root-not-a-string", "  fastcgi: unix:/s\n  root: [a]\n", 4,
     "legacy.root: ['a'] is not a directory path"),
    ("index-not-php", "  fastcgi: unix:/s\n  root: /srv\n  index: index.html\n", 5,
     "legacy.index: index 'index.html' must name a .php file, e.g. index.php"),
    ("index-in-a-directory", "  fastcgi: unix:/s\n  root: /srv\n  index: app/index.php\n", 5,
     "legacy.index: index 'app/index.php' must be a file name directly under root"),
    ("unknown-execute", "  fastcgi: unix:/s\n  root: /srv\n  execute: all\n", 5,
     "legacy.execute: unknown value 'all' (expected any or index)"),
    ("params-not-a-mapping", "  fastcgi: unix:/s\n  root: /srv\n  params: [A]\n", 5,
     "legacy.params: expected a mapping of param names to values"),
    ("param-name", "  fastcgi: unix:/s\n  root: /srv\n  params: {APP-ENV: x}\n", 5,
     "legacy.params: bad param name 'APP-ENV'"),
    ("param-bool", "  fastcgi: unix:/s\n  root: /srv\n  params: {DEBUG: true}\n", 5,
     "legacy.params: param DEBUG: True is not a string or a number (quote it)"),
    ("param-null", "  fastcgi: unix:/s\n  root: /srv\n  params: {DEBUG: }\n", 5,
     "legacy.params: param DEBUG: None is not a string or a number"),
    ("index-with-url", "  url: http://php\n  index: app.php\n", 4,
     "legacy.index applies to fastcgi only (over url, PHP's own server runs it)"),
    ("params-with-url", "  url: http://php\n  params: {A: b}\n", 4,
     "legacy.params applies to fastcgi only"),
    ("unknown-key", "  fastcgi: unix:/s\n  root: /srv\n  fastcgi_pass: unix:/s\n", 5,
     "unknown key 'fastcgi_pass' in legacy"),
]  # fmt: skip


@pytest.mark.parametrize(("block", "line", "reason"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_legacy_value_is_reported_at_its_line(block: str, line: int, reason: str) -> None:
    found = problems(f"version: 1\nlegacy:\n{block}")
    assert any(p.startswith(f"routing.yaml:{line}: ") and reason in p for p in found), found


STATIC_BAD = [
    ("not-a-mapping", "static: {cache: [a]}\n", "static.cache: expected a mapping like"),
    ("relative-prefix", "static: {cache: {build/: x}}\n",
     "static.cache: cache prefix 'build/' must be a URL path starting with /"),
    ("not-a-header-value", 'static: {cache: {"/a/": "x\\ny"}}\n',
     "static.cache: cache value for '/a/' is not a header value"),
    ("unknown-key", "static: {cache: {}, gzip: on}\n", "unknown key 'gzip' in static"),
    ("without-root", "static: {cache: {/a/: x}}\n",
     "static.cache applies to the files under legacy.root, which is not set"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("block", "reason"), [b[1:] for b in STATIC_BAD], ids=[b[0] for b in STATIC_BAD]
)
def test_a_bad_static_value_is_reported_at_its_line(block: str, reason: str) -> None:
    found = problems(f"version: 1\nlegacy: {{url: http://php}}\n{block}")
    assert any(p.startswith("routing.yaml:3: ") and reason in p for p in found), found


def test_strangler_check_names_the_line_of_url_and_fastcgi_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LEGACY_URL", "LEGACY_FASTCGI", "LEGACY_ROOT"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "routing.yaml"
    path.write_text("version: 1\nlegacy:\n  url: http://php\n  fastcgi: unix:/s\n  root: /srv\n")
    assert main(["check", "--no-native", str(path)]) == 1
    assert f"{path}:4: legacy sets both url and fastcgi; keep one" in capsys.readouterr().err
