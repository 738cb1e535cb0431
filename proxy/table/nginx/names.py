"""File names as an operator reads them in comments: relative to the main file's directory.

`load` keeps the names it opened (absolute, or as given); an imported table cites them as
`split.conf:12` or `sites/app.conf:4`, so `shortened` rewrites every file name of a `Config`
(servers, listens, locations, directives) once, before anything cites one. Pure.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace

from proxy.table.nginx.model import Config, Directive, Location


def shortened(config: Config) -> Config:
    """The configuration with file names relative to the main file's directory, for comments."""
    base = posixpath.dirname(config.files[0]) + "/" if config.files else ""

    def name(file: str) -> str:
        return file[len(base) :] if base != "/" and file.startswith(base) else file

    def directive(d: Directive) -> Directive:
        block = None if d.block is None else tuple(map(directive, d.block))
        return replace(d, file=name(d.file), block=block)

    def location(loc: Location) -> Location:
        return replace(
            loc,
            file=name(loc.file),
            directives=tuple(map(directive, loc.directives)),
            locations=tuple(map(location, loc.locations)),
        )

    return Config(
        tuple(
            replace(
                s,
                file=name(s.file),
                listens=tuple(replace(x, file=name(x.file)) for x in s.listens),
                directives=tuple(map(directive, s.directives)),
                locations=tuple(map(location, s.locations)),
            )
            for s in config.servers
        ),
        tuple(map(directive, config.http)),
        tuple(map(name, config.files)),
    )
