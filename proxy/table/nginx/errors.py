"""The importer's errors, one tree, each a sentence an operator can act on:

NginxError
├── LoadError          the configuration cannot be read: file:line and nginx's own words
└── ServerChoiceError  no single server block is the one to import; lists the candidates
"""

from __future__ import annotations


class NginxError(Exception):
    """Anything the importer refuses, with a message fit for stderr."""


class LoadError(NginxError):
    def __init__(self, file: str, line: int | None, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {reason}")


class ServerChoiceError(NginxError):
    def __init__(self, reason: str, candidates: tuple[str, ...]) -> None:
        self.reason = reason
        self.candidates = candidates
        listed = "".join(f"\n  {c}" for c in candidates)
        super().__init__(f"{reason}{listed}")
