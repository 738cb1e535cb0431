"""Reading an nginx configuration: nginx.conf, a site file, or an `nginx -T` dump → `Config`.

`include` is followed as nginx follows it: in place, in the context it stands in, a glob
expanded in sorted order and allowed to match nothing, a plain name required to exist. A
relative name is resolved against nginx's prefix, the directory of nginx.conf; a site file read
on its own does not say where that is, so its own directory is tried, then each parent (a file
in sites-enabled/ includes `snippets/...` from the directory above). A dump answers includes
from its own sections, so it can be imported on a machine that has none of those files.

Every failure is a `LoadError` naming file:line, in nginx's words where nginx has words for it.
"""

from __future__ import annotations

import glob as globbing
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from proxy.table.nginx import syntax
from proxy.table.nginx.build import build
from proxy.table.nginx.errors import LoadError
from proxy.table.nginx.model import Config, Directive

DUMP_MARKER = re.compile(r"^# configuration file (.+):$", re.MULTILINE)
# `nginx -T 2>&1` puts nginx's own verdict lines around the dump
DUMP_CHATTER = re.compile(r"^nginx: .*(syntax is ok|test is successful|test failed)\s*$")
MAIN_ONLY = {"http", "events", "user", "worker_processes", "pid", "load_module", "stream", "mail"}
SERVER_LEVEL = {"location", "listen", "server_name"}
MAX_INCLUDE_DEPTH = 32


class Source(Protocol):
    """Where included files come from: the disk, or the sections of a dump."""

    def read(self, path: str) -> str: ...

    def glob(self, pattern: str) -> list[str]: ...


class DiskSource:
    def read(self, path: str) -> str:
        # nginx reads bytes; surrogateescape keeps any non-UTF-8 byte round-trippable
        return Path(path).read_bytes().decode("utf-8", "surrogateescape")

    def glob(self, pattern: str) -> list[str]:
        return sorted(globbing.glob(pattern))


class DumpSource:
    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read(self, path: str) -> str:
        try:
            return self.files[path]
        except KeyError:
            raise FileNotFoundError(path) from None

    def glob(self, pattern: str) -> list[str]:
        rx = glob_regex(pattern)
        return sorted(name for name in self.files if rx.fullmatch(name))


def load(path: str | Path, *, prefix: str | None = None) -> Config:
    """Read nginx.conf, a site file or a saved `nginx -T` dump at `path`."""
    name = str(path)
    try:
        text = DiskSource().read(name)
    except OSError as exc:
        raise LoadError(name, None, f"cannot read: {exc.strerror or exc}") from exc
    if DUMP_MARKER.search(text):
        return load_dump(text, name=name)
    return load_text(text, name, DiskSource(), prefix=prefix)


def load_dump(text: str, *, name: str = "<nginx -T>") -> Config:
    """Read the output of `nginx -T`; includes are answered from the dump's own sections."""
    files = split_dump(text)
    if not files:
        raise LoadError(
            name, None, "no '# configuration file PATH:' sections: not an nginx -T dump"
        )
    main = next(iter(files))
    return load_text(files[main], main, DumpSource(files), prefix=posixpath.dirname(main))


def load_text(text: str, file: str, source: Source, *, prefix: str | None = None) -> Config:
    """Read `text` (the contents of `file`), taking included files from `source`."""
    context = _context_of(text, file)
    if prefix is not None:
        prefixes = [prefix]
    elif context:
        prefixes = _ancestors(posixpath.dirname(file))
    else:
        prefixes = [posixpath.dirname(file)]
    walker = _Walker(source, prefixes)
    directives = walker.file(file, text, context)
    return build(directives, context, tuple(walker.files))


def split_dump(text: str) -> dict[str, str]:
    """The files of an `nginx -T` dump, in dump order (nginx.conf first): each section runs
    from its marker to the next, less the newline nginx adds after each file."""
    files: dict[str, str] = {}
    marks = list(DUMP_MARKER.finditer(text))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[mark.end() + 1 : end]
        if i + 1 == len(marks):
            body = _drop_chatter(body)
        files.setdefault(mark.group(1), body[:-1] if body.endswith("\n") else body)
    return files


def glob_regex(pattern: str) -> re.Pattern[str]:
    """glob(3)'s meaning of `pattern`: `*` and `?` never cross a `/`, `[...]` is a class."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (close := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : close]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = close
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def _drop_chatter(body: str) -> str:
    lines = body.split("\n")
    while lines and (not lines[-1].strip() or DUMP_CHATTER.match(lines[-1])):
        lines.pop()
    return "\n".join(lines) + "\n\n"


def _context_of(text: str, file: str) -> tuple[str, ...]:
    """Where the file's top level stands: `()` for nginx.conf, `("http",)` for a site file of
    server blocks, `("http", "server")` for a file of locations."""
    top = {s.name for s in _syntax_only(text, file)}
    if top & MAIN_ONLY:
        return ()
    if top & SERVER_LEVEL:
        return ("http", "server")
    return ("http",)


def _syntax_only(text: str, file: str) -> tuple[syntax.Statement, ...]:
    try:
        return syntax.parse(text, file, ("<file>",))
    except syntax.SyntaxProblem as exc:
        raise LoadError(file, exc.line, exc.reason) from exc


def _ancestors(directory: str) -> list[str]:
    found = [directory]
    while (parent := posixpath.dirname(found[-1])) != found[-1]:
        found.append(parent)
    return found


class _Walker:
    def __init__(self, source: Source, prefixes: list[str]) -> None:
        self.source = source
        self.prefixes = prefixes
        self.files: list[str] = []
        self.stack: list[str] = []

    def file(self, path: str, text: str, context: tuple[str, ...]) -> tuple[Directive, ...]:
        if path not in self.files:
            self.files.append(path)
        try:
            statements = syntax.parse(text, path, context)
        except syntax.SyntaxProblem as exc:
            raise LoadError(path, exc.line, exc.reason) from exc
        self.stack.append(path)
        try:
            return tuple(self.block(statements, path, context))
        finally:
            self.stack.pop()

    def block(
        self, statements: Iterable[syntax.Statement], file: str, context: tuple[str, ...]
    ) -> Iterable[Directive]:
        for s in statements:
            if s.name == "include" and s.block is None:
                yield from self.include(s, file, context)
                continue
            inner = None
            if s.block is not None:
                inner = tuple(self.block(s.block, file, (*context, s.name)))
            yield Directive(s.name, s.args, file, s.line, inner)

    def include(
        self, s: syntax.Statement, file: str, context: tuple[str, ...]
    ) -> Iterable[Directive]:
        if len(s.args) != 1:
            raise LoadError(file, s.line, 'invalid number of arguments in "include" directive')
        if len(self.stack) >= MAX_INCLUDE_DEPTH:
            chain = " -> ".join(self.stack)
            raise LoadError(file, s.line, f"include nested too deep (a cycle?): {chain}")
        for path in self.resolve(s.args[0], file, s.line):
            try:
                text = self.source.read(path)
            except OSError as exc:
                reason = f'open() "{path}" failed ({exc.strerror or "cannot read"})'
                raise LoadError(file, s.line, reason) from exc
            yield from self.file(path, text, context)

    def resolve(self, pattern: str, file: str, line: int) -> list[str]:
        if posixpath.isabs(pattern):
            candidates = [pattern]
        else:
            candidates = [posixpath.join(p, pattern) for p in self.prefixes]
        if globbing.has_magic(pattern):
            for candidate in candidates:
                if found := self.source.glob(candidate):
                    return found
            return []
        for candidate in candidates:
            if self._exists(candidate):
                return [candidate]
        reason = f'open() "{candidates[0]}" failed (No such file or directory)'
        raise LoadError(file, line, reason)

    def _exists(self, path: str) -> bool:
        try:
            self.source.read(path)
        except OSError:
            return False
        return True
