"""Builders shared by the shadow tests."""

from __future__ import annotations

from shadow.observation import Observation, Side

JSON = (("content-type", "application/json"),)


def primary(body: bytes | str, headers: tuple[tuple[str, str], ...] = JSON, status: int = 200,
            duration: float = 0.01) -> Observation:  # fmt: skip
    raw = body.encode() if isinstance(body, str) else body
    return Observation.of(Side.PRIMARY, status, headers, raw, duration)


def candidate(body: bytes | str, headers: tuple[tuple[str, str], ...] = JSON, status: int = 200,
              duration: float = 0.02) -> Observation:  # fmt: skip
    raw = body.encode() if isinstance(body, str) else body
    return Observation.of(Side.CANDIDATE, status, headers, raw, duration)
