"""Fixtures of the replay tests: the gateway tests' fake upstream and captured logs, and the
small legacy side of tests/replay/apps.py (the live tests replace it with the PHP application)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway.conftest import log_lines, upstream
from tests.replay.apps import LegacyServer, legacy_server

__all__ = ["log_lines", "upstream"]


@pytest.fixture
def legacy() -> Iterator[LegacyServer]:
    with legacy_server() as server:
        yield server
