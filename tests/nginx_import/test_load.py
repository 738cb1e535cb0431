"""Reading nginx configurations: includes and globs, dumps, bare site files, errors at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.table.nginx import LoadError, Modifier, load, load_dump
from proxy.table.nginx.load import glob_regex, split_dump

CORPUS = Path(__file__).parent / "corpus"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


MAIN = "events {}\nhttp {\n    include mime.types;\n    include sites/*.conf;\n}\n"
SITE_A = (
    "server {\n    server_name a.test;\n    location / {\n"
    "        include snippets/php.conf;\n    }\n}\n"
)
SITE_B = "server {\n    server_name b.test;\n}\n"
SNIPPET = "# the PHP front controller\ntry_files $uri /index.php;\n"


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            "nginx.conf": MAIN,
            "mime.types": "types { text/html html; }\n",
            "sites/b.conf": SITE_B,
            "sites/a.conf": SITE_A,
            "sites/notes.txt": "not a config {",
            "snippets/php.conf": SNIPPET,
        },
    )
    return tmp_path


def test_nginx_conf_includes_a_glob_in_sorted_order(etc: Path) -> None:
    config = load(etc / "nginx.conf")
    assert [s.names for s in config.servers] == [("a.test",), ("b.test",)]
    assert config.files == tuple(
        str(etc / name)
        for name in (
            "nginx.conf",
            "mime.types",
            "sites/a.conf",
            "snippets/php.conf",
            "sites/b.conf",
        )
    )


def test_an_included_directive_keeps_its_own_file_and_line(etc: Path) -> None:
    location = load(etc / "nginx.conf").servers[0].locations[0]
    (try_files,) = location.find("try_files")
    assert (try_files.file, try_files.line) == (str(etc / "snippets/php.conf"), 2)
    assert (location.file, location.line) == (str(etc / "sites/a.conf"), 3)


def test_a_bare_site_file_is_read_in_the_http_context(etc: Path) -> None:
    config = load(etc / "sites/a.conf")
    assert [s.names for s in config.servers] == [("a.test",)]
    # its relative include is found from the directory above, where nginx's prefix would be
    assert config.servers[0].locations[0].find("try_files")[0].args == ("$uri", "/index.php")


def test_a_file_of_locations_becomes_one_server(tmp_path: Path) -> None:
    write(tmp_path, {"locs.conf": "location = /a { }\nlocation ~* \\.png$ { }\n"})
    (server,) = load(tmp_path / "locs.conf").servers
    assert [(x.modifier, x.pattern) for x in server.locations] == [
        (Modifier.EXACT, "/a"),
        (Modifier.REGEX_CASELESS, "\\.png$"),
    ]


def test_a_glob_that_matches_nothing_is_not_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"nginx.conf": "http { include conf.d/*.conf; server { } }\n"})
    assert len(load(tmp_path / "nginx.conf").servers) == 1


@pytest.mark.parametrize(
    ("files", "where", "reason"),
    [
        (
            {"nginx.conf": "http {\n  include missing.conf;\n}\n"},
            "nginx.conf:2",
            'open() "{root}/missing.conf" failed (No such file or directory)',
        ),
        (
            {"nginx.conf": "http {\n  server {\n    listen 80\n  }\n}\n"},
            "nginx.conf:3",
            "not terminated",
        ),
        ({"nginx.conf": "http {\n  server {\n"}, "nginx.conf:", "unexpected end of file"),
        ({"nginx.conf": "http {\n}\n}\n"}, "nginx.conf:3", 'unexpected "}"'),
        (
            {"nginx.conf": "http {\n  include inc.conf;\n}\n", "inc.conf": "events {}\n"},
            "inc.conf:1",
            '"events" directive is not allowed here',
        ),
        (
            {"site.conf": "server {\n  location = /a {\n    location /a/b { }\n  }\n}\n"},
            "site.conf:3",
            'location "/a/b" cannot be inside the exact location "/a"',
        ),
        (
            {"site.conf": "server {\n  location /a/ {\n    location /b/ { }\n  }\n}\n"},
            "site.conf:3",
            'location "/b/" is outside location "/a/"',
        ),
        (
            {"site.conf": "server {\n  location /a { }\n  location /a { }\n}\n"},
            "site.conf:3",
            'duplicate location "/a"',
        ),
        (
            {"site.conf": "server {\n  location !~ /a { }\n}\n"},
            "site.conf:2",
            'invalid location modifier "!~"',
        ),
        (
            {"site.conf": "server {\n  listen 127.0.0.1:http;\n}\n"},
            "site.conf:2",
            'invalid port in "127.0.0.1:http"',
        ),
        (
            {"nginx.conf": "http { include loop.conf; }\n", "loop.conf": "include loop.conf;\n"},
            "loop.conf:1",
            "include nested too deep",
        ),
    ],
    ids=[
        "missing-include",
        "missing-semicolon",
        "unclosed-block",
        "stray-brace",
        "directive-in-wrong-context",
        "location-in-exact-location",
        "prefix-outside-its-parent",
        "duplicate-location",
        "unknown-modifier",
        "bad-listen-port",
        "include-cycle",
    ],
)
def test_a_configuration_nginx_would_refuse_is_an_error_at_file_and_line(
    tmp_path: Path, files: dict[str, str], where: str, reason: str
) -> None:
    write(tmp_path, files)
    with pytest.raises(LoadError) as caught:
        load(tmp_path / next(iter(files)))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path}/{where}")
    assert reason.replace("{root}", str(tmp_path)) in message
    assert "Traceback" not in message


def test_an_unreadable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"absent\.conf: cannot read"):
        load(tmp_path / "absent.conf")


DUMP = (
    "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
    "# configuration file /etc/nginx/nginx.conf:\n"
    "events {}\n"
    "http {\n"
    "    include /etc/nginx/sites-enabled/*;\n"
    "}\n"
    "\n"
    "# configuration file /etc/nginx/sites-enabled/app:\n"
    "server {\n"
    "    server_name app.test;\n"
    "    location ~ \\.php$ {\n"
    "        include snippets/fastcgi.conf;\n"
    "    }\n"
    "}\n"
    "\n"
    "# configuration file /etc/nginx/snippets/fastcgi.conf:\n"
    "fastcgi_pass unix:/run/php/php-fpm.sock;\n"
    "\n"
    "nginx: configuration file /etc/nginx/nginx.conf test is successful\n"
)


def test_a_dump_answers_includes_from_its_own_sections() -> None:
    config = load_dump(DUMP)
    (server,) = config.servers
    (fastcgi,) = server.locations[0].find("fastcgi_pass")
    assert (fastcgi.file, fastcgi.line, fastcgi.args) == (
        "/etc/nginx/snippets/fastcgi.conf",
        1,
        ("unix:/run/php/php-fpm.sock",),
    )
    assert (server.file, server.line) == ("/etc/nginx/sites-enabled/app", 1)


def test_a_saved_dump_is_recognised_by_load(tmp_path: Path) -> None:
    write(tmp_path, {"dump.txt": DUMP})
    assert load(tmp_path / "dump.txt").servers[0].names == ("app.test",)


def test_splitting_a_dump_keeps_each_file_whole_and_drops_nginx_chatter() -> None:
    files = split_dump(DUMP)
    assert list(files) == [
        "/etc/nginx/nginx.conf",
        "/etc/nginx/sites-enabled/app",
        "/etc/nginx/snippets/fastcgi.conf",
    ]
    assert files["/etc/nginx/snippets/fastcgi.conf"] == "fastcgi_pass unix:/run/php/php-fpm.sock;\n"


def test_an_include_missing_from_a_dump_is_an_error_at_its_line() -> None:
    broken = DUMP.replace("# configuration file /etc/nginx/snippets/fastcgi.conf:\n", "")
    broken = broken.replace("fastcgi_pass unix:/run/php/php-fpm.sock;\n", "")
    with pytest.raises(LoadError, match=r"^/etc/nginx/sites-enabled/app:4: open\(\)"):
        load_dump(broken)


def test_text_without_sections_is_not_a_dump() -> None:
    with pytest.raises(LoadError, match="not an nginx -T dump"):
        load_dump("server { }\n")


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("/etc/nginx/sites-enabled/*", "/etc/nginx/sites-enabled/app", True),
        ("/etc/nginx/sites-enabled/*", "/etc/nginx/sites-enabled/a/b", False),
        ("/etc/nginx/conf.d/*.conf", "/etc/nginx/conf.d/x.conf", True),
        ("/etc/nginx/conf.d/?.conf", "/etc/nginx/conf.d/xy.conf", False),
        ("/etc/nginx/[ab].conf", "/etc/nginx/b.conf", True),
        ("/etc/nginx/[!ab].conf", "/etc/nginx/b.conf", False),
    ],
    ids=[
        "star",
        "star-stops-at-slash",
        "star-suffix",
        "question-is-one-char",
        "class",
        "negated-class",
    ],
)
def test_dump_globs_follow_glob3(pattern: str, name: str, matches: bool) -> None:
    assert bool(glob_regex(pattern).fullmatch(name)) is matches


@pytest.mark.parametrize(
    ("written", "held"),
    [
        ("\\\\.php$", "\\.php$"),
        ('"a\\"b"', 'a"b'),
        ("'tab\\there'", "tab\there"),
        ("\\.php$", "\\.php$"),
    ],
    ids=["double-backslash", "escaped-quote", "tab-escape", "plain-backslash-kept"],
)
def test_arguments_are_unescaped_as_nginx_reads_them(
    tmp_path: Path, written: str, held: str
) -> None:
    write(tmp_path, {"site.conf": f"server {{\n  location ~ {written} {{ }}\n}}\n"})
    assert load(tmp_path / "site.conf").servers[0].locations[0].pattern == held


@pytest.mark.parametrize(
    "name",
    ["laravel.conf", "wordpress.conf", "dokuwiki.conf", "split.conf", "servers.conf", "edges.conf"],
)
def test_every_corpus_file_loads(name: str) -> None:
    assert load(CORPUS / name).servers
