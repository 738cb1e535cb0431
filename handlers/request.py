"""The incoming request as the legacy application sees it after the framework's middleware.

Query string and body are parsed like PHP (nested keys), trimmed, empty strings turned into
null; `input()` merges body over query for JSON and non-GET requests, as `$request->all()` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson

from handlers import phpish

_Q = re.compile(r"^q\s*=\s*([0-9.]+)$", re.IGNORECASE)
_HOST = re.compile(r"^(\[[^\]]+\]|[^:]+)(?::(\d+))?$")


@dataclass
class ApiRequest:
    method: str
    raw_path: str
    query_string: str
    headers: dict[str, str]
    body_bytes: bytes
    client_ip: str
    scheme: str = "http"
    trusted_proxies: list[str] = field(default_factory=list)
    query: dict[str, Any] = field(init=False)
    body: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.query = phpish.clean(phpish.parse_query(self.query_string))
        self.body = phpish.clean(self._parse_body())

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def is_json(self) -> bool:
        kind = (self.header("content-type") or "").lower()
        return "/json" in kind or "+json" in kind

    def _parse_body(self) -> dict[str, Any]:
        if self.is_json():
            return _decode_json_body(self.body_bytes)
        kind = (self.header("content-type") or "").lower()
        form = kind.startswith("application/x-www-form-urlencoded")
        if form and self.method in ("POST", "PUT", "PATCH", "DELETE"):
            return phpish.parse_query(self.body_bytes.decode("utf-8", "replace"))
        return {}

    def all(self) -> dict[str, Any]:
        if self.is_json() or self.method not in ("GET", "HEAD"):
            return {**self.query, **self.body}
        return self.query

    def input(self, key: str, default: Any = None) -> Any:
        data = self.all()
        return data.get(key, default)

    def bearer_token(self) -> str | None:
        value = self.header("authorization") or ""
        position = value.lower().rfind("bearer ")
        if position < 0:
            return None
        token = value[position + 7 :]
        return token.split(",", 1)[0] if "," in token else token

    def acceptable_types(self) -> list[str]:
        accept = self.header("accept")
        if accept is None or accept.strip() == "":
            return []
        items: list[tuple[str, float, int]] = []
        for index, part in enumerate(p.strip() for p in accept.split(",") if p.strip()):
            bits = [b.strip() for b in part.split(";")]
            quality = 1.0
            for bit in bits[1:]:
                match = _Q.match(bit)
                if match:
                    quality = _php_float(match.group(1))
            items.append((bits[0], quality, index))
        items.sort(key=lambda item: (-item[1], item[2]))
        return [item[0] for item in items]

    def expects_json(self) -> bool:
        types = self.acceptable_types()
        ajax = (self.header("x-requested-with") or "").lower() == "xmlhttprequest"
        pjax = self.header("x-pjax") is not None
        accepts_any = types == [] or types[0] in ("*/*", "*")
        if ajax and not pjax and accepts_any:
            return True
        if not types:
            return False
        first = types[0].lower()
        return "/json" in first or "+json" in first

    def _trusted(self) -> bool:
        return bool(self.trusted_proxies) and (
            "*" in self.trusted_proxies or self.client_ip in self.trusted_proxies
        )

    def ip(self) -> str:
        forwarded = self.header("x-forwarded-for")
        if self._trusted() and forwarded is not None:
            ips = [ip.strip() for ip in forwarded.split(",") if ip.strip()]
            if ips:
                return ips[-1]
        return self.client_ip

    def effective_scheme(self) -> str:
        proto = self.header("x-forwarded-proto")
        if self._trusted() and proto is not None:
            return "https" if proto.split(",")[0].strip().lower() == "https" else "http"
        return self.scheme

    def scheme_and_host(self) -> str:
        scheme = self.effective_scheme()
        host = None
        forwarded_host = self.header("x-forwarded-host")
        if self._trusted() and forwarded_host is not None:
            host = forwarded_host.split(",")[0].strip()
        host = host if host is not None else self.header("host")
        name, port = "localhost", 80
        if host:
            match = _HOST.match(host)
            name = match.group(1) if match else host
            port_text = match.group(2) if match else None
            port = int(port_text) if port_text else (443 if scheme == "https" else 80)
        default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
        return f"{scheme}://{name.lower()}" if default else f"{scheme}://{name.lower()}:{port}"

    def url(self) -> str:
        return (self.scheme_and_host() + self.raw_path).rstrip("/")

    def full_url(self) -> str:
        parts = sorted(p for p in self.query_string.split("&") if p)
        if not parts:
            return self.url()
        return self.url() + ("/?" if self.raw_path == "/" else "?") + "&".join(parts)

    def route_path(self) -> str:
        trimmed = self.path.strip("/")
        return trimmed if trimmed else "/"


def _php_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _decode_json_body(raw: bytes) -> dict[str, Any]:
    """`json_decode($body, true)`: objects become dicts, scalars a one-item list, junk nothing."""
    if raw == b"":
        return {}
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    if isinstance(decoded, dict):
        return decoded
    if isinstance(decoded, list):
        return {str(i): v for i, v in enumerate(decoded)}
    return {} if decoded is None else {"0": decoded}
