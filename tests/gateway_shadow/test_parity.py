"""`strangler report`, `strangler noise` and `GET /_strangler/parity` on a store the gateway
filled: a route with a real difference, and a route with a field that A/A shows to be noise."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.cli.main import main
from proxy.operator.parity import parse_since
from proxy.settings import Settings
from shadow.store import Store, open_store
from tests.gateway_shadow.conftest import Legacy, Native, running, settle, shadow_gateway
from tests.gateway_shadow.conftest import table_text as text_of

# an hour ago, as a fixed time: "1h" would mean two different times to two calls
SINCE = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")


@dataclass
class Filled:
    url: str
    config: Path
    parity: dict[str, Any]  # what /_strangler/parity answered
    parity_users: dict[str, Any]  # ... for ?route=users.list&since=SINCE


@pytest.fixture
async def filled(legacy: Legacy, native: Native, tmp_path: Path) -> AsyncIterator[Filled]:
    url = f"sqlite:///{tmp_path}/parity.db"
    text = text_of(legacy.url, f"  noise_sample: 1.0\n  store: {url}\n")
    config = tmp_path / "routing.yaml"
    config.write_text(text)
    store = open_store(url)
    native.fault = "differ"
    gateway = shadow_gateway(legacy.url, native, store, text=text)
    async with running(gateway) as client:
        for i in range(25):
            assert (await client.get("/clock", headers={"X-Request-ID": f"c{i}"})).is_success
        for i in range(3):
            assert (await client.get("/users", headers={"X-Request-ID": f"u{i}"})).is_success
        await settle(gateway)
        everything = (await client.get("/_strangler/parity")).json()
        query = {"route": "users.list", "since": SINCE}
        users = (await client.get("/_strangler/parity", params=query)).json()
        refused = await client.get("/_strangler/parity?since=yesterday-ish")
        assert refused.status_code == 400 and "bad since" in refused.json()["error"]
    store.close()
    yield Filled(url, config, everything, users)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_json_is_what_the_admin_endpoint_answers(
    filled: Filled, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "report", "--config", str(filled.config), "--format", "json")
    assert code == 0 and json.loads(out) == filled.parity
    routes = {r["route"]: r for r in filled.parity["routes"]}
    assert routes["users.list"]["mismatched"] == 3
    assert [f["field"] for f in routes["users.list"]["fields"]] == ["body.data[*].name"]
    assert [f["field"] for f in routes["clock"]["noise"]] == ["body.at"]

    args = ("--route", "users.list", "--since", SINCE, "--format", "json")
    code, out, _ = run(capsys, "report", "--store", filled.url, *args)
    assert code == 0 and json.loads(out) == filled.parity_users
    assert [r["route"] for r in filled.parity_users["routes"]] == ["users.list"]


@pytest.mark.parametrize("form", ["table", "markdown"])
def test_report_renders_the_fields_for_people(
    filled: Filled, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    code, out, _ = run(capsys, "report", "--config", str(filled.config), "--format", form)
    assert code == 0
    assert "users.list" in out and "body.data[*].name" in out and "noise (A/A" in out


def test_noise_prints_ignore_rules_ready_to_paste_with_their_evidence(
    filled: Filled, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "noise", "--config", str(filled.config))
    assert code == 0
    pasted = yaml.safe_load(out)
    assert pasted == {"routes": [{"id": "clock", "shadow": {"ignore": ["body.at"]}}]}
    [line] = [ln for ln in out.splitlines() if "- body.at" in ln]
    assert re.search(r"# A/A 25/25 \(100\.0%\), candidate \d+/25 \(\d+\.\d%\)", line)

    code, out, _ = run(capsys, "noise", "--config", str(filled.config), "--route", "users.list")
    assert code == 0 and out == "# no noise found: nothing to ignore\n"


def test_prune_deletes_only_what_is_older_than_the_age(
    filled: Filled, capsys: pytest.CaptureFixture[str]
) -> None:
    def rows() -> int:
        store = open_store(filled.url)
        try:
            found = store.read_rows(None, None)
        finally:
            store.close()
        return sum(map(len, (found.counts, found.latency, found.fields, found.samples)))

    before = rows()
    assert before > 0
    code, out, _ = run(capsys, "prune", "--config", str(filled.config), "--older-than", "1d")
    assert code == 0 and re.fullmatch(r"sqlite:///.+: deleted 0 rows from before .+ UTC\n", out)
    assert rows() == before
    code, out, _ = run(capsys, "prune", "--store", filled.url, "--older-than", "1ms")
    assert code == 0 and f"deleted {before}" in out  # everything just written is older than 1 ms
    assert rows() == 0


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["report", "--since", "last tuesday"], 2, "bad since 'last tuesday'"),
        (["report", "--store", "nosuchdb://x"], 1, "cannot open the parity store"),
        (["noise", "--config", "/nonexistent/routing.yaml"], 1, "cannot read the file"),
        (["prune", "--older-than", "a while"], 2, "--older-than: bad duration 'a while'"),
        (["prune", "--older-than", "1d", "--store", "nosuchdb://x"], 1, "cannot open the parity"),
    ],
    ids=["bad-since", "bad-store", "missing-table", "prune-bad-age", "prune-bad-store"],
)
def test_bad_input_is_one_line_on_stderr(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    got, out, err = run(capsys, *argv)
    assert (got, out) == (code, "") and message in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["report", "noise"])
def test_a_route_neither_table_nor_store_knows_is_an_error(
    filled: Filled, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    config = str(filled.config)
    code, out, err = run(capsys, command, "--config", config, "--route", "nope")
    assert (code, out) == (1, "")
    assert err == (
        f"{config}: no such route 'nope' (not in the table, and nothing is stored for it)\n"
    )
    code, out, _ = run(capsys, command, "--config", config, "--route", "users.list")
    assert code == 0 and out


@pytest.mark.parametrize("command", ["report", "noise", "prune", "gate", "history"])
def test_a_store_that_is_not_there_is_never_created(
    filled: Filled, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = tmp_path / "nothing-here" / "parity.db"
    extra = ["--older-than", "1d"] if command == "prune" else []
    code, out, err = run(
        capsys, command, "--config", str(filled.config), "--store", f"sqlite:///{path}", *extra
    )
    assert (code, out) == (1, "")
    assert err.startswith(f"no parity store at {path} (sqlite:///{path}): nothing was recorded")
    assert not path.parent.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1h", 1_000_000 - 3600), ("30m", 1_000_000 - 1800), ("2d", 1_000_000 - 172_800),
     ("1970-01-12T13:46:40", 1_000_000), ("1970-01-12T14:46:40+01:00", 1_000_000)],
)  # fmt: skip
def test_since_is_a_duration_ago_or_a_time(text: str, expected: float) -> None:
    assert parse_since(text, 1_000_000) == expected


async def test_parity_is_protected_like_the_rest_of_the_admin_surface(
    legacy: Legacy, native: Native, store: Store
) -> None:
    settings = Settings(watch=False, admin_token="s3cret")
    gateway = shadow_gateway(legacy.url, native, store, settings=settings)
    async with running(gateway) as client:
        assert (await client.get("/_strangler/parity")).status_code == 401
        authorised = {"Authorization": "Bearer s3cret"}
        answer = await client.get("/_strangler/parity", headers=authorised)
    assert answer.status_code == 200 and answer.json() == {
        "since": None,
        "routes": [],
        "dropped": 0,
    }


@pytest.mark.parametrize("form", ["table", "markdown", "json"])
def test_report_samples_shows_the_newest_differing_values_side_by_side(
    filled: Filled, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    args = ("--config", str(filled.config), "--route", "users.list", "--format", form)
    code, out, err = run(capsys, "report", *args, "--samples", "3")
    assert code == 0, err
    if form == "json":
        [pair] = json.loads(out)["samples"]["users.list"]
        assert pair["field"] == "body.data[*].name"
        assert pair["primary"] != pair["candidate"]
        return
    assert "users.list: differing values" in out
    assert "body.data[*].name" in out
    # both sides' values at the place they differ (the native side's was changed)
    assert "legacy" in out and "native" in out
    code, without, _ = run(capsys, "report", *args)
    assert "differing values" not in without


def test_report_samples_must_be_a_count(filled: Filled, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "report", "--config", str(filled.config), "--samples", "-1")
    assert code == 2 and "--samples" in err


def test_reset_starts_a_routes_evidence_over_and_is_in_the_history(
    filled: Filled, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "reset", "users.list", "--config", str(filled.config))
    assert code == 0, err
    assert out.startswith("users.list: evidence reset at ")
    code, out, _ = run(capsys, "report", "--config", str(filled.config), "--format", "json")
    routes = {r["route"]: r for r in json.loads(out)["routes"]}
    # the route counts from its reset: nothing compared since, so no evidence to report
    assert "users.list" not in routes
    assert routes["clock"]["compared"] == 25  # other routes keep their evidence
    store = open_store(filled.url)
    try:  # the old rows stay in the store
        assert any(row.route == "users.list" for row in store.read_rows().counts)
    finally:
        store.close()
    code, out, _ = run(capsys, "gate", "--config", str(filled.config), "--route", "users.list")
    assert code == 1 and "since the reset" in out
    code, out, _ = run(capsys, "history", "--config", str(filled.config), "--format", "json")
    flips = json.loads(out)["flips"]
    assert any(f["route"] == "users.list" and f["trigger"] == "reset" for f in flips)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reset", "nope"), "no such route 'nope'"),
        (("reset", "users.list", "--store", "sqlite:////nonexistent/parity.db"), "no parity store"),
    ],
    ids=["unknown route", "missing store"],
)
def test_reset_refuses_what_it_cannot_do(
    filled: Filled, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, *args, "--config", str(filled.config))
    assert code == 1 and message in err
