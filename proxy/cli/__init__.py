"""The `strangler` commands: `main` parses the arguments and runs one command; `serve` runs the
gateway under uvicorn; `flips` (gate, history) and `parity` (report, noise, prune) read the
parity store; `replay` (with `progress` and `runs`) replays logged or recorded requests, and
`export` turns a run's differences into pytest tests. Nothing imports this room but the console
script.
"""

from proxy.cli.main import main

__all__ = ["main"]
