"""Mask credentials before anything is stored.

Always masked: the Authorization, Proxy-Authorization, Cookie and Set-Cookie headers; any key,
anywhere in a JSON body or a query string, whose name looks like a credential (password, token,
secret, api key, session, ...; case-insensitive, `-` read as `_`); in text bodies, credential-
looking `key=value` and `"key": "value"` pairs and the values of password/token `<input>`s; and
the field paths configured under `redact:`. Text redaction is best effort (free text has no
schema); JSON keys and headers are exact. Masking keeps the shape (the key stays, its value
becomes `[redacted]`), so a redacted sample still shows where the two sides differ.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from shadow.fieldpath import Pattern, any_covers

MASK = "[redacted]"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
# strong words mask wherever they appear (accessToken, db_password); weak ones only as a whole
# word between `_` (so `author` and `passage` stay readable, `auth` and `pass` do not)
_SECRET_KEY = re.compile(
    r"password|passwd|passphrase|token|secret|api_?key|credential|private_?key|cookie|authorization"
    r"|(?:^|_)(?:pass|pwd|auth|session|sessionid|sid|otp|csrf|xsrf)(?:_|$)",
    re.IGNORECASE,
)
_TEXT_PAIR = re.compile(
    r"""(?P<key>["']?[\w-]*(?:pass(?:word|wd)?|token|secret|api[_-]?key|session)[\w-]*["']?)"""
    r"""(?P<sep>\s*[:=]\s*)(?P<quote>["']?)(?P<value>[^"'&\s,;}<]+)""",
    re.IGNORECASE,
)

# an HTML <input> whose name or type says credential: its value attribute is masked
_INPUT_TAG = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_INPUT_SECRET = re.compile(
    r"""\b(?:type\s*=\s*["']?password|name\s*=\s*["']?[\w-]*(?:pass|token|secret|key|csrf))""",
    re.IGNORECASE,
)
_INPUT_VALUE = re.compile(r"""(\bvalue\s*=\s*)("[^"]*"|'[^']*'|[^\s>]*)""", re.IGNORECASE)


def is_secret_key(key: str) -> bool:
    return _SECRET_KEY.search(key.replace("-", "_")) is not None


def redact_tree(tree: Any, patterns: Sequence[Pattern] = ()) -> Any:
    """A lifted tree ({status, headers, body}) with credentials and configured paths masked."""
    return _walk(tree, (), patterns)


def _walk(node: Any, path: tuple[str | int, ...], patterns: Sequence[Pattern]) -> Any:
    if path and any_covers(patterns, path):
        return MASK
    if isinstance(node, dict):
        return {
            k: MASK if _masked_key(path, k) else _walk(v, (*path, k), patterns)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_walk(v, (*path, i), patterns) for i, v in enumerate(node)]
    if isinstance(node, str):
        return redact_text(node)
    return node


def _masked_key(path: tuple[str | int, ...], key: Any) -> bool:
    if not isinstance(key, str):
        return False
    if path == ("headers",):
        return key.lower() in SECRET_HEADERS or is_secret_key(key)
    return is_secret_key(key)


def redact_text(text: str) -> str:
    """Credential-looking pairs in free text (an HTML page, a form echo, a URL)."""
    if "=" not in text and ":" not in text:
        return text
    text = _TEXT_PAIR.sub(lambda m: f"{m['key']}{m['sep']}{m['quote']}{MASK}", text)
    return _INPUT_TAG.sub(_mask_input, text) if "<" in text else text


def _mask_input(tag: re.Match[str]) -> str:
    if not _INPUT_SECRET.search(tag[0]):
        return tag[0]
    return _INPUT_VALUE.sub(lambda m: f'{m[1]}"{MASK}"', tag[0])


def redact_query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, MASK if is_secret_key(k) else v) for k, v in pairs], safe="[]")
