"""The keys of the legacy side and of its public files: the `legacy:` and `static:` blocks.

Value parsers (pure; ValueError with a reason fit to show an operator), and `legacy_config`,
which puts a block's values together with the environment and says what is wrong between keys.
The table parser reads the blocks with them and reports each problem at its key's line.

The legacy side is reached one way: over HTTP (`url`: a web server that runs PHP) or straight
to PHP-FPM (`fastcgi`). `root` is the application's document root: with `fastcgi` it is where
scripts run from and is required; with `url` it is optional, and its files are answered by the
gateway while every other request goes to the URL (nginx's `try_files $uri @app` before a
`proxy_pass`).

The environment wins over the file, so one table serves every deployment: `LEGACY_URL` reaches
the legacy side over HTTP and `LEGACY_FASTCGI` over FastCGI, whatever the file says (setting
both is an error); `LEGACY_ROOT` replaces `root`. A relative `root` or unix socket in the file
is read against the directory of the table file; in the environment they must be absolute.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any

from proxy.table import units
from proxy.table.model import Execute, FastCGIAddress, LegacyConfig

Parser = Callable[[object], Any]
Found = list[tuple[int, str]]  # (line, reason)

_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]+")
_SUN_PATH = 107  # bytes a unix socket's path may have (sun_path holds 108 with the NUL)
FASTCGI_ONLY = ("index", "execute", "params")


def parse_fastcgi(value: object) -> FastCGIAddress:
    """`unix:/path/to/php-fpm.sock` or `host:port` (`[::1]:9000` for IPv6), as nginx's
    fastcgi_pass writes them."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a FastCGI address ({_EXPECTED})")
    text = value.strip()
    if text.startswith("unix:"):
        path = text[len("unix:") :]
        if not path or "\0" in path:
            raise ValueError(f"bad FastCGI address {value!r}: no socket path after unix:")
        return FastCGIAddress(path=path)
    if text.startswith("/"):
        raise ValueError(f"bad FastCGI address {value!r}: write a socket as unix:{text}")
    if "://" in text:
        raise ValueError(f"bad FastCGI address {value!r}: an HTTP URL goes in legacy.url")
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        valid_host = ":" in host and re.fullmatch(r"[0-9A-Fa-f:.]+", host) is not None
    else:
        valid_host = _HOST.fullmatch(host) is not None
    if not sep or not valid_host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad FastCGI address {value!r} ({_EXPECTED})")
    return FastCGIAddress(host=host, port=int(port))


_EXPECTED = "expected unix:/path/to/php-fpm.sock or host:port, e.g. 127.0.0.1:9000"


def parse_root(value: object) -> str:
    """A directory: absolute, or relative to the table file's directory."""
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise ValueError(f"{value!r} is not a directory path")
    path = value.strip()
    return path.rstrip("/") or "/"


def parse_index(value: object) -> str:
    """The front controller's file name, directly under the root."""
    if not isinstance(value, str) or not value.endswith(".php") or len(value) < 5:
        raise ValueError(f"index {value!r} must name a .php file, e.g. index.php")
    if "/" in value or value.startswith(".") or "\0" in value:
        raise ValueError(f"index {value!r} must be a file name directly under root, e.g. index.php")
    return value


def parse_execute(value: object) -> Execute:
    return units.parse_member(Execute, value)


def parse_params(value: object) -> tuple[tuple[str, str], ...]:
    """`{NAME: value}`: FastCGI params sent with every request, as nginx's fastcgi_param.
    Values are sent as written (no nginx variables); numbers are written out."""
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping of param names to values, got {value!r}")
    params = []
    for name, item in value.items():
        if not isinstance(name, str) or _PARAM_NAME.fullmatch(name) is None:
            raise ValueError(f"bad param name {name!r} (letters, digits and _, e.g. APP_ENV)")
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ValueError(f"param {name}: {item!r} is not a string or a number (quote it)")
        text = str(item)
        if "\0" in text:
            raise ValueError(f"param {name}: the value holds a NUL byte")
        params.append((name, text))
    return tuple(params)


def parse_cache(value: object) -> tuple[tuple[str, str], ...]:
    """`{"/prefix/": "Cache-Control value"}`: the Cache-Control of the files under a URL path
    prefix (the longest matching prefix wins)."""
    if not isinstance(value, dict):
        raise ValueError(
            f'expected a mapping like {{"/build/": "public, max-age=3600"}}, got {value!r}'
        )
    rules = []
    for prefix, header in value.items():
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise ValueError(f"cache prefix {prefix!r} must be a URL path starting with /")
        if not isinstance(header, str) or _HEADER_VALUE.fullmatch(header.strip()) is None:
            raise ValueError(f"cache value for {prefix!r} is not a header value: {header!r}")
        rules.append((prefix, header.strip()))
    return tuple(rules)


LEGACY_KEYS: dict[str, Parser] = {
    "url": units.parse_url,
    "fastcgi": parse_fastcgi,
    "root": parse_root,
    "index": parse_index,
    "execute": parse_execute,
    "params": parse_params,
    "timeout": units.parse_duration,
    "preserve_host": units.parse_bool,
    "pool_size": units.parse_positive_int,
}
STATIC_KEYS: dict[str, Parser] = {"cache": parse_cache}


def legacy_config(
    values: Mapping[str, Any],
    lines: Mapping[str, int],
    block_line: int,
    env: Mapping[str, str],
    directory: str,
) -> tuple[LegacyConfig, Found]:
    """The legacy side from the block's parsed `values`, the `lines` of the keys written (a key
    that failed to parse is written but has no value) and the environment; `directory` is the
    table file's, for relative paths. Returns the config and the problems between keys."""
    found: Found = []
    settings = dict(values)
    fastcgi: FastCGIAddress | None = settings.pop("fastcgi", None)
    if fastcgi is not None and fastcgi.path:
        fastcgi = FastCGIAddress(path=_beside(directory, fastcgi.path))
    if "root" in settings:
        settings["root"] = _beside(directory, settings["root"])
    if "url" in lines and "fastcgi" in lines:
        found.append((lines["fastcgi"], "legacy sets both url and fastcgi; keep one (url: PHP "
                      "over HTTP, fastcgi: straight to PHP-FPM)"))  # fmt: skip
    url_line = lines.get("url", lines.get("fastcgi", block_line))
    fastcgi_line = lines.get("fastcgi", lines.get("url", block_line))
    if env.get("LEGACY_URL") and env.get("LEGACY_FASTCGI"):
        found.append((block_line, "LEGACY_URL and LEGACY_FASTCGI are both set; keep one"))
    elif env.get("LEGACY_URL"):
        fastcgi = None
        settings["url"] = _from_env(env, "LEGACY_URL", units.parse_url, url_line, found)
    elif env.get("LEGACY_FASTCGI"):
        settings.pop("url", None)
        fastcgi = _from_env(env, "LEGACY_FASTCGI", parse_fastcgi, fastcgi_line, found)
        if fastcgi is not None and fastcgi.path and not fastcgi.path.startswith("/"):
            found.append((fastcgi_line, "LEGACY_FASTCGI: the socket path must be absolute"))
    elif "url" not in lines and "fastcgi" not in lines:
        found.append((url_line, "missing legacy url (set legacy.url or LEGACY_URL), or "
                      "legacy.fastcgi (LEGACY_FASTCGI) to reach PHP-FPM"))  # fmt: skip
    if env.get("LEGACY_ROOT"):
        root = _from_env(env, "LEGACY_ROOT", parse_root, lines.get("root", block_line), found)
        if root is not None and not root.startswith("/"):
            found.append((lines.get("root", block_line), "LEGACY_ROOT must be an absolute path"))
        settings["root"] = root
    if fastcgi is not None:
        found += _fastcgi_problems(fastcgi, settings.get("root"), lines, fastcgi_line)
    elif "url" in lines and not env.get("LEGACY_FASTCGI"):
        for key in FASTCGI_ONLY:
            if key in lines:
                reason = (
                    f"legacy.{key} applies to fastcgi only (over url, PHP's own server runs it)"
                )
                found.append((lines[key], reason))
    return dataclasses.replace(LegacyConfig(None, 30.0, fastcgi=fastcgi), **settings), found


def _fastcgi_problems(
    address: FastCGIAddress, root: str | None, lines: Mapping[str, int], line: int
) -> Found:
    found: Found = []
    if root is None and "root" not in lines:
        found.append((line, "legacy.fastcgi needs legacy.root, the document root PHP-FPM runs "
                      "scripts from (or set LEGACY_ROOT)"))  # fmt: skip
    if len(address.path.encode("utf-8")) > _SUN_PATH:
        found.append((line, f"the socket path {address.path!r} is longer than {_SUN_PATH} bytes"))
    return found


def _from_env(env: Mapping[str, str], name: str, parse: Parser, line: int, found: Found) -> Any:
    try:
        return parse(env[name])
    except ValueError as exc:
        found.append((line, f"{name}: {exc}"))
        return None


def _beside(directory: str, path: str) -> str:
    """`path` read against the table file's directory when it is relative."""
    if path.startswith("/"):
        return path
    return posixpath.normpath(posixpath.join(directory, path)) if directory else path
