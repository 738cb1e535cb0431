"""`strangler`: exit codes and what each command prints, driven through main([...])."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from proxy.cli.main import COMMANDS, main
from proxy.table.model import Mode
from proxy.table.parser import load

ROOT = Path(__file__).resolve().parents[2]

TABLE = """\
version: 1
legacy:
  url: http://127.0.0.1:8080
native:
  app: tests.proxy.test_checks:app
routes:
  - id: users.list
    match: GET /api/v1/admin/users
    mode: shadow
  - id: users.show
    match: GET /api/v1/admin/users/{id:int}
    mode: native
  - id: users.write
    match: PUT|DELETE /api/v1/admin/users/{id:int}
    mode: legacy
"""


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "edge.yaml"
    path.write_text(TABLE, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- usage


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: strangler {command}")


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert (code, out) == (2, "")
    assert "a command is required" in err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "frobnicate")
    assert code == 2
    assert "invalid choice: 'frobnicate'" in err


# ---------------------------------------------------------------- check


def test_check_of_a_valid_table(table: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", str(table)) == (
        0,
        f"{table}: ok, 3 routes (1 legacy, 1 native, 1 shadow)\n",
        "",
    )


def test_check_of_an_invalid_table(table: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table.write_text(TABLE.replace("mode: native", "mode: nativ"), encoding="utf-8")
    code, out, err = run(capsys, "check", str(table))
    assert (code, out) == (1, "")
    assert err == (
        f"{table}:12: route 'users.show': unknown mode 'nativ' "
        "(expected legacy, native, shadow, canary)\n"
    )


@pytest.mark.parametrize(
    "text",
    ["version: 1\nlegacy: [\n", "\x00\x01", "- just\n- a list\n"],
    ids=["bad-yaml", "binary", "not-a-mapping"],
)
def test_check_never_shows_a_traceback(
    text: str, table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "check", str(table))
    assert code == 1
    assert err.startswith(f"{table}:") and "Traceback" not in err


def test_check_of_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", str(tmp_path / "nope.yaml"))
    assert (code, out) == (1, "")
    assert "nope.yaml:0: cannot read the file" in err


def test_check_reads_strangler_config_then_the_working_directory(
    table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRANGLER_CONFIG", str(table))
    assert run(capsys, "check")[1].startswith(f"{table}: ok")
    monkeypatch.delenv("STRANGLER_CONFIG")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "routing.yaml").write_text(TABLE, encoding="utf-8")
    assert run(capsys, "check")[1].startswith("routing.yaml: ok")


def test_check_warns_about_unreachable_routes(
    table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = "  - id: users.me\n    match: GET /api/v1/admin/users/7\n    mode: legacy\n"
    table.write_text(TABLE + extra, encoding="utf-8")
    code, out, err = run(capsys, "check", str(table))
    assert code == 0
    assert out.startswith(f"{table}: ok, 4 routes")
    assert err == (
        f"warning: {table}:16: route 'users.me': never matches: route 'users.show' (line 10) "
        "takes all its requests\n"
    )


def test_check_warns_about_writes_that_can_never_be_compared(
    table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = (
        "  - id: users.save\n    match: GET|PUT /api/v1/admin/users/{id:int}/x\n    mode: shadow\n"
        "    shadow: {primary: native, writes: dry_run}\n"
    )
    table.write_text(TABLE + extra, encoding="utf-8")
    code, out, err = run(capsys, "check", "--no-native", str(table))
    assert code == 0
    assert out.startswith(f"{table}: ok, 4 routes")
    assert err == (
        f"warning: {table}:16: route 'users.save': writes: dry_run with primary: native: PUT "
        "requests are answered by the native side alone and never compared (legacy cannot take "
        "a dry run)\n"
    )
    table.write_text(TABLE + extra.replace("primary: native", "primary: legacy"), "utf-8")
    assert run(capsys, "check", "--no-native", str(table))[2] == ""


def test_check_fails_when_the_native_app_does_not_serve_a_native_route(
    table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table.write_text(TABLE.replace("admin/users/{id:int}\n", "admin/tickets/{id:int}\n"), "utf-8")
    code, out, err = run(capsys, "check", str(table))
    assert (code, out) == (1, "")
    assert err == (
        f"{table}:10: route 'users.show': GET /api/v1/admin/tickets/1 is not served by "
        "tests.proxy.test_checks:app\n"
    )


def test_check_can_skip_the_native_app(table: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table.write_text(TABLE.replace("tests.proxy.test_checks:app", "no_such_q:app"), "utf-8")
    assert run(capsys, "check", str(table))[0] == 1
    assert run(capsys, "check", "--no-native", str(table))[0] == 0


def test_the_repositorys_routing_yaml_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    path = ROOT / "routing.yaml"
    code, out, err = run(capsys, "check", "--no-native", str(path))
    assert (code, err) == (0, "")
    assert out == (
        f"{path}: ok, 11 routes (3 legacy, 2 native, 2 shadow, 1 canary, "
        "3 answered by the gateway)\n"
    )
    modes = {route.id: route.mode for route in load(path, env={}).routes if not route.answer}
    assert modes == {
        "users.list": Mode.SHADOW,
        "users.show": Mode.NATIVE,
        "users.create": Mode.LEGACY,
        "users.write": Mode.LEGACY,
        "invoices.list": Mode.SHADOW,
        "invoices.show": Mode.CANARY,
        "categories.list": Mode.NATIVE,
        "profile.me": Mode.LEGACY,
    }


# ---------------------------------------------------------------- routes


def test_routes_prints_one_row_per_route(table: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "routes", "--config", str(table))
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert [
        "│",
        "users.list",
        "│",
        "GET",
        "│",
        "/api/v1/admin/users",
        "│",
        "shadow",
        "│",
        "7",
        "│",
    ] in rows
    assert [
        "│", "users.write", "│", "PUT|DELETE", "│", "/api/v1/admin/users/{id:int}", "│", "legacy",
        "│", "13", "│",
    ] in rows  # fmt: skip
    assert "no match → legacy (http://127.0.0.1:8080)" in out


def test_routes_of_an_invalid_table(table: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table.write_text("version: 1\n", encoding="utf-8")
    code, out, err = run(capsys, "routes", "--config", str(table))
    assert (code, out) == (1, "")
    assert "missing legacy url" in err


# ---------------------------------------------------------------- match

MATCHES = [
    (
        "native-with-param",
        ["GET", "/api/v1/admin/users/5"],
        "matched route 'users.show' ({table}:10) GET /api/v1/admin/users/{{id:int}} → mode native, "
        "id=5\n",
    ),
    (
        "head-takes-the-get-route",
        ["HEAD", "/api/v1/admin/users"],
        "matched route 'users.list' ({table}:7) GET /api/v1/admin/users → mode shadow\n",
    ),
    (
        "lower-case-method",
        ["delete", "/api/v1/admin/users/5"],
        "matched route 'users.write' ({table}:13) PUT|DELETE /api/v1/admin/users/{{id:int}} → "
        "mode legacy, id=5\n",
    ),
    ("no-route", ["GET", "/login"], "no route: legacy\n"),
    ("method-not-routed", ["POST", "/api/v1/admin/users/5"], "no route: legacy\n"),
    ("trailing-slash-is-exact", ["GET", "/api/v1/admin/users/"], "no route: legacy\n"),
    (
        "query-is-not-matched",
        ["GET", "/api/v1/admin/users?per_page=5"],
        "matched route 'users.list' ({table}:7) GET /api/v1/admin/users → mode shadow\n",
    ),
    (
        "path-is-normalised-first",
        ["GET", "/api/v1/admin/x/../users/5"],
        "path /api/v1/admin/x/../users/5 is matched as /api/v1/admin/users/5\n"
        "matched route 'users.show' ({table}:10) GET /api/v1/admin/users/{{id:int}} → mode native, "
        "id=5\n",
    ),
]


@pytest.mark.parametrize(
    ("argv", "expected"), [case[1:] for case in MATCHES], ids=[case[0] for case in MATCHES]
)
def test_match(
    argv: list[str], expected: str, table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "match", *argv, "--config", str(table)) == (
        0,
        expected.format(table=table),
        "",
    )


def test_match_of_a_path_the_gateway_refuses(
    table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "match", "GET", "/../etc/passwd", "--config", str(table))
    assert (code, out) == (1, "")
    assert err.startswith("bad path '/../etc/passwd': the gateway answers 400")


@pytest.mark.parametrize("method", ["G@T", "GET /x", ""], ids=["symbol", "space", "empty"])
def test_match_of_a_bad_method(
    method: str, table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "match", method, "/x", "--config", str(table))
    assert (code, out) == (2, "")
    assert err.startswith(f"bad method {method!r}")


# ---------------------------------------------------------------- serve


def test_serve_passes_its_options_to_the_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, object]] = []

    def serve(**options: object) -> int:
        calls.append(options)
        return 0

    monkeypatch.setitem(sys.modules, "proxy.cli.serve", types.SimpleNamespace(serve=serve))
    argv = ["serve", "--host", "0.0.0.0", "--port", "9000", "--workers", "4", "--config", "x.yaml"]
    argv += ["--tls-cert", "c.pem", "--tls-key", "k.pem"]
    assert run(capsys, *argv)[0] == 0
    assert calls == [
        {
            "config_path": "x.yaml",
            "host": "0.0.0.0",
            "port": 9000,
            "workers": 4,
            "tls": ("c.pem", "k.pem"),
        }
    ]


def test_serve_defaults(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, object]] = []
    fake = types.SimpleNamespace(serve=lambda **options: calls.append(options) or 3)
    monkeypatch.setitem(sys.modules, "proxy.cli.serve", fake)
    for name in ("CONFIG", "HOST", "PORT", "WORKERS"):
        monkeypatch.delenv(f"STRANGLER_{name}", raising=False)
    assert run(capsys, "serve")[0] == 3  # the server's own exit code
    assert calls == [
        {
            "config_path": "routing.yaml",
            "host": "127.0.0.1",
            "port": 8000,
            "workers": 1,
            "tls": None,
        }
    ]


def test_serve_defaults_come_from_the_environment_and_options_win(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, object]] = []
    fake = types.SimpleNamespace(serve=lambda **options: calls.append(options) or 0)
    monkeypatch.setitem(sys.modules, "proxy.cli.serve", fake)
    env = {"CONFIG": "/etc/gw.yaml", "HOST": "0.0.0.0", "PORT": "9100", "WORKERS": "3"}
    for name, value in env.items():
        monkeypatch.setenv(f"STRANGLER_{name}", value)
    assert run(capsys, "serve")[0] == 0
    assert run(capsys, "serve", "--port", "9200")[0] == 0
    assert calls == [
        {"config_path": "/etc/gw.yaml", "host": "0.0.0.0", "port": 9100, "workers": 3, "tls": None},
        {"config_path": "/etc/gw.yaml", "host": "0.0.0.0", "port": 9200, "workers": 3, "tls": None},
    ]


def test_serve_without_a_server_module_is_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "proxy.cli.serve", None)  # makes the import fail
    code, _, err = run(capsys, "serve")
    assert code == 1
    assert err.startswith("the server cannot start:")


def test_serve_refuses_zero_workers(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "serve", "--workers", "0")
    assert code == 2
    assert "--workers must be at least 1" in err
