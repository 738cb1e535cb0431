"""What a request runs under the document root: a static file, a PHP script, a redirect or a
refusal; pure over an injected `stat`.

The rules are nginx's `try_files $uri $uri/ /index.php?$query_string` with a `\\.php$` location
and `fastcgi_split_path_info ^(.+?\\.php)(/.*)$`, which Caddy's `php_fastcgi` also follows
(`split_path .php`), applied to the decoded, normalised path:

1. A path with a dot-segment (`/.env`, `/.git/config`, `/x/.htaccess`) is refused with 403, as
   Laravel's nginx block denies `/\\.(?!well-known)`; `/.well-known/` itself is allowed.
2. The first segment ending in `.php` whose path is an existing regular file runs, the rest of
   the path as `PATH_INFO` (`/doku.php/wiki:page`). Only a regular file named `*.php` is ever
   run: `/uploads/avatar.jpg/x.php` never runs `avatar.jpg` (the `cgi.fix_pathinfo` hole),
   whatever php.ini says, because `SCRIPT_FILENAME` is always such a file.
3. An existing directory without its trailing slash redirects to the slashed path (nginx's
   301, whether or not the directory holds the index); with the slash, its index runs.
4. An existing regular file is served as a static file, unless its name is PHP source
   (`.php`, `.phtml`, `.phar`, `.php5`, ... in any case): that is never served.
5. Anything else runs the front controller (`/index.php`, `PATH_INFO` empty), and the
   application sees the client's `REQUEST_URI`. Without a front controller: 404.

`Execute.INDEX` runs only the front controller, as Laravel 11's `location ~ ^/index\\.php(/|$)`
block: any other script, or a directory's index, is treated as absent and so reaches the front
controller, never its source. (Behind nginx that block serves such a file's source.)

Symbolic links are followed wherever they point, as nginx does with its default
`disable_symlinks off`: `php artisan storage:link` makes `public/storage` a link out of the
document root, and deployments often link the root itself. The rules above are applied to the
path the client asked for; what a link inside the root points at is the operator's choice.

`stat(path)` is `os.stat` (links followed) returning None for a path that does not exist or
cannot be reached; `StaticFile` keeps what it returned, so the file is not stat'ed twice.
"""

from __future__ import annotations

import stat as modes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeGuard, TypeVar
from urllib.parse import quote

from proxy.table.model import Execute as Execute  # the table's `legacy.execute`

_SOURCE_SUFFIXES = (".php", ".phtml", ".phar", ".phps", ".php3", ".php4", ".php5", ".php7")
_PATH_SAFE = "/-._~!$&'()*+,;=:@"


class StatLike(Protocol):
    @property
    def st_mode(self) -> int: ...


S = TypeVar("S", bound=StatLike)


@dataclass(frozen=True, slots=True)
class Site:
    """The document root and its front controller."""

    root: str  # absolute; a trailing `/` is ignored
    index: str = "index.php"
    execute: Execute = Execute.ANY

    @property
    def base(self) -> str:
        return self.root.rstrip("/")


@dataclass(frozen=True, slots=True)
class StaticFile(Generic[S]):
    path: str  # absolute
    stat: S


@dataclass(frozen=True, slots=True)
class Script:
    filename: str  # SCRIPT_FILENAME: absolute
    script_name: str  # SCRIPT_NAME, DOCUMENT_URI: the script's path under the root
    path_info: str  # PATH_INFO: what followed the script's name, or empty


@dataclass(frozen=True, slots=True)
class Redirect:
    location_path: str  # decoded; `location` encodes it

    def location(self, query: bytes = b"") -> bytes:
        """The `Location` value: the path percent-encoded, then the query, as nginx adds it."""
        encoded = quote(self.location_path, safe=_PATH_SAFE, errors="surrogateescape")
        return encoded.encode("ascii") + (b"?" + query if query else b"")


@dataclass(frozen=True, slots=True)
class Refused:
    status: int
    reason: str


Resolution = StaticFile[S] | Script | Redirect | Refused
Stat = Callable[[str], S | None]


def resolve(path: str, site: Site, stat: Stat[S]) -> Resolution[S]:
    """What the request for the decoded, normalised `path` gets under `site`."""
    if not path.startswith("/") or "\0" in path:
        return Refused(400, "not an absolute path")
    segments = path.split("/")
    if any(segment.startswith(".") for segment in segments[2:]) or (
        segments[1].startswith(".") and segments[1] != ".well-known"
    ):
        return Refused(403, "hidden path")
    script = _split_script(segments, site, stat)
    if script is not None:
        return script
    found = stat(site.base + path.rstrip("/")) if path != "/" else stat(site.base)
    if found is not None and modes.S_ISDIR(found.st_mode):
        if not path.endswith("/"):
            return Redirect(path + "/")
        index = _directory_index(path, site, stat)
        if index is not None:
            return index
    elif _is_file(found) and not path.endswith("/") and not is_php_source(path):
        return StaticFile(site.base + path, found)
    return _front_controller(site, stat)


def is_php_source(path: str) -> bool:
    """A name PHP source files carry: never served as a static file."""
    return path.lower().endswith(_SOURCE_SUFFIXES)


def _split_script(segments: list[str], site: Site, stat: Stat[S]) -> Script | None:
    for position in range(1, len(segments)):
        if not segments[position].endswith(".php"):
            continue
        if site.execute is Execute.INDEX and (position != 1 or segments[1] != site.index):
            continue
        script_name = "/".join(segments[: position + 1])
        if _is_file(stat(site.base + script_name)):
            rest = segments[position + 1 :]
            path_info = "/" + "/".join(rest) if rest else ""
            return Script(site.base + script_name, script_name, path_info)
    return None


def _directory_index(path: str, site: Site, stat: Stat[S]) -> Script | None:
    script_name = path + site.index
    if site.execute is Execute.INDEX and script_name != "/" + site.index:
        return None
    if _is_file(stat(site.base + script_name)):
        return Script(site.base + script_name, script_name, "")
    return None


def _front_controller(site: Site, stat: Stat[S]) -> Script | Refused:
    script_name = "/" + site.index
    if _is_file(stat(site.base + script_name)):
        return Script(site.base + script_name, script_name, "")
    return Refused(404, "no front controller")


def _is_file(found: S | None) -> TypeGuard[S]:
    return found is not None and modes.S_ISREG(found.st_mode)
