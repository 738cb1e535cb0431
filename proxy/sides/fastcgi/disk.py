"""The filesystem as `resolve` sees it: `stat_or_none`, the one place it touches the disk."""

from __future__ import annotations

import os


def stat_or_none(path: str) -> os.stat_result | None:
    """`os.stat` (symbolic links followed), or None for what cannot be reached: missing, a
    file used as a directory, a name too long, a loop of links, no permission."""
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None
