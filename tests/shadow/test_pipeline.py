"""The whole shadow side at once: experiments on planted differences → writer → store → report
and `ignore:` proposals, as the gateway, `strangler report` and `strangler noise` will use it."""

from __future__ import annotations

import itertools
from pathlib import Path

import yaml

from shadow.experiment import Experiment, ShadowSettings
from shadow.noise import propose_from_rows, render_ignore_yaml
from shadow.observation import Observation
from shadow.records import RequestInfo
from shadow.report import build_report, render_markdown
from shadow.store import StoreWriter, open_store
from tests.shadow.helpers import candidate, primary

USER = '{{"data":[{{"id":{i},"name":"{name}","updated_at":"{t}"}}],"meta":{{"page":1}}}}'


async def test_planted_differences_surface_in_the_report_and_noise_in_the_proposals(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/var/parity.db")
    writer = StoreWriter(store, interval=0.01)
    clock = itertools.count(1_000)
    settings = ShadowSettings(noise_sample=1.0, noise_min_samples=5, ignore=("body.meta.page",))
    exp = Experiment(writer, settings, clock=lambda: float(next(clock)))
    tick = itertools.count()

    def side(i: int, name: str) -> Observation:
        return primary(USER.format(i=i, name=name, t=f"t{next(tick)}"))

    for i in range(40):
        planted = "Bob" if i % 4 == 0 else "Ann"  # the native side gets every 4th name wrong

        async def native(i: int = i, planted: str = planted) -> Observation:
            return candidate(USER.format(i=i, name=planted, t=f"t{next(tick)}"))

        async def legacy_again(i: int = i) -> Observation:
            return side(i, "Ann")

        exp.submit("users.list", RequestInfo("GET", "/u", "", f"req-{i}"), side(i, "Ann"),
                   native, legacy_again)  # fmt: skip
        await exp.drain()
    await exp.close()
    await writer.close()

    rows = store.read_rows()
    report = build_report(rows)
    [users] = report.routes
    # requests 1-3 differ only at the timestamp, before 5 A/A pairs have shown it to be noise
    assert users.compared == 40 and users.mismatched == 10 + 3
    assert [(f.field, f.count) for f in users.fields] == [("body.data[*].name", 10)]
    assert [n.field for n in users.noise] == ["body.data[*].updated_at"]
    assert "body.data[*].name" in render_markdown(report)

    proposals = propose_from_rows(rows, settings.thresholds)
    assert [p.field for p in proposals] == ["body.data[*].updated_at"]
    pasted = yaml.safe_load(render_ignore_yaml(proposals, {"users.list": settings.ignore}))
    assert pasted["routes"][0]["shadow"]["ignore"] == ["body.meta.page", "body.data[*].updated_at"]
    assert writer.dropped == 0 and exp.faults == 0
    store.close()
