"""`strangler import-nginx` and `--check` from the command line: what they write and print, and
their exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.cli.main import main
from proxy.table.nginx import load as load_nginx
from proxy.table.nginx.importer import import_server
from proxy.table.parser import load

CORPUS = Path(__file__).parent / "corpus"
SPLIT = str(CORPUS / "split.conf")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_writes_a_valid_table_and_says_what_it_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "routing.yaml"
    code, printed, err = run(
        capsys, "import-nginx", SPLIT, "--native-upstream", "python_api", "-o", str(out)
    )
    assert (code, err) == (0, "")
    assert printed.startswith(f"{out}: 33 routes from server app.example.com")
    assert "split.conf:31: not imported: add_header Cache-Control public" in printed
    table = load(out, env={})
    assert table.native.url == "http://127.0.0.1:9001"
    assert "# split.conf:12  " in out.read_text()  # the report follows the routes


def test_without_an_output_file_the_table_goes_to_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, printed, err = run(capsys, "import-nginx", SPLIT, "--native-upstream", "python_api")
    assert code == 0
    assert printed.startswith("# Imported by strangler import-nginx from ")
    assert "routing.yaml: 33 routes" in err


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["import-nginx", SPLIT], 1, "requests go to 2 legacy applications"),
        (["import-nginx", "/no/such.conf"], 1, "/no/such.conf: cannot read"),
        (["import-nginx", SPLIT, "--server-name", "nope.test"], 1, "no server block answers"),
        (["import-nginx", "--check", SPLIT, "--native-upstream", "python_api"], 2, "needs PATHS"),
        (["import-nginx", SPLIT, "/a"], 2, "PATHS, --access-log and --table go with --check"),
        (["import-nginx", SPLIT, "--bogus"], 2, "unrecognized arguments: --bogus"),
    ],
    ids=[
        "two-legacy-sides",
        "missing-file",
        "no-such-server",
        "check-without-paths",
        "paths-without-check",
        "unknown-option",
    ],
)
def test_refusals_go_to_stderr_with_a_non_zero_exit(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    got, printed, err = run(capsys, *argv)
    assert (got, printed) == (code, "")
    assert message in err


def test_check_prints_both_choices_and_passes_when_they_agree(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, printed, _ = run(
        capsys, "import-nginx", "--check", SPLIT, "--native-upstream", "python_api",
        "/api/v1/x.CSV", "/api/php", "/%2F",
    )  # fmt: skip
    assert code == 0
    assert "/api/v1/x.CSV\n  nginx: location ~* \\.csv$ (split.conf:20)\n" in printed
    written = import_server(load_nginx(SPLIT), native_upstream="python_api", source=SPLIT).text
    line = written.splitlines().index("  - id: csv.in.api-v1") + 1
    assert f"  table: route csv.in.api-v1 (routing.yaml:{line})\n  same\n" in printed
    assert "deliberate: the gateway refuses this path (400)" in printed
    assert printed.endswith("3 paths, 0 disagreeing\n")


def test_check_fails_on_a_table_that_routes_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "routing.yaml"
    run(capsys, "import-nginx", SPLIT, "--native-upstream", "python_api", "-o", str(table))
    # an edit that moves the nested csv rule after the prefix it is nested in
    text = table.read_text().replace(
        "match: {prefix: /api/v1/, regex: '\\.csv$', caseless: true}",
        "match: {prefix: /api/v1/nothing/, regex: '\\.csv$', caseless: true}",
    )
    table.write_text(text)
    code, printed, _ = run(
        capsys, "import-nginx", "--check", SPLIT, "--native-upstream", "python_api",
        "--table", str(table), "/api/v1/x.CSV", "/api/v1/x",
    )  # fmt: skip
    assert code == 1
    assert "  table: route api-v1 (" in printed and "DIFFERENT" in printed
    assert printed.endswith("2 paths, 1 disagreeing\n")


def test_check_reads_the_targets_of_an_access_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "access.log"
    log.write_text(
        '127.0.0.1 - - [04/Dec/2025:10:00:00 +0000] "GET /api/me?x=1 HTTP/1.1" 200 2 "-" "curl"\n'
        '127.0.0.1 - - [04/Dec/2025:10:00:01 +0000] "POST /api/php/login HTTP/1.1" 302 0 "-" "-"\n'
        '127.0.0.1 - - [04/Dec/2025:10:00:02 +0000] "GET /api/me?x=1 HTTP/1.1" 200 2 "-" "curl"\n'
        "a line that is not a request\n"
    )
    code, printed, _ = run(
        capsys, "import-nginx", "--check", SPLIT, "--native-upstream", "python_api",
        "--access-log", str(log),
    )  # fmt: skip
    assert code == 0
    assert printed.count("\n  same\n") == 2
    assert printed.endswith("2 paths, 0 disagreeing\n")
