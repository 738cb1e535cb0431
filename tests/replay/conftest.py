"""Fixtures of the replay tests: the gateway tests' fake upstream and captured logs."""

from __future__ import annotations

from tests.gateway.conftest import log_lines, upstream

__all__ = ["log_lines", "upstream"]
