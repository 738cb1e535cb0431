"""What of a request may be kept for replay: never a credential, never a `redact:` field.

Pure. `keepable` takes the request as the gateway saw it and returns the `Recorded` row to
store, or None when the request cannot be kept without a secret in it:

- headers: Authorization, Cookie and the other credential headers are dropped, as is any
  header whose name looks like a credential (`shadow.redact`) or that a `redact:` path names
  (`headers.<name>`), and the hop-by-hop and gateway-internal ones (a replay sets its own);
- the query: values of credential-looking keys masked (`shadow.redact.redact_query`);
- the body: JSON with credential-looking keys and the `redact:` paths under `body` masked;
  a form (application/x-www-form-urlencoded) with credential-looking keys masked; text with
  credential-looking pairs masked. A body of any other kind (multipart, binary) cannot be
  searched for secrets, so such a request is not kept at all.

A replay sends a kept request as it is, masks included; the operator adds credentials of their
own (`strangler replay --header`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import orjson

from shadow.fieldpath import Pattern, any_covers
from shadow.observation import is_json_type, media_type
from shadow.records import Recorded
from shadow.redact import SECRET_HEADERS, is_secret_key, redact_query, redact_text, redact_tree

# not the request's own: set per connection, per hop, or by the gateway for its sides
_NOT_KEPT = frozenset({
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
    "upgrade", "content-length", "host", "x-request-id", "x-strangler-dry-run",
    "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "forwarded",
})  # fmt: skip
_FORM = "application/x-www-form-urlencoded"


def kept_headers(
    headers: Iterable[tuple[str, str]], redact: Sequence[Pattern] = ()
) -> tuple[tuple[str, str], ...]:
    """The request headers a recording keeps (names lower-cased)."""
    out = []
    for name, value in headers:
        low = name.lower()
        if low in _NOT_KEPT or low in SECRET_HEADERS or is_secret_key(low):
            continue
        if any_covers(redact, ("headers", low)):
            continue
        out.append((low, value))
    return tuple(out)


def kept_body(
    body: bytes, content_type: str | None, redact: Sequence[Pattern] = ()
) -> bytes | None:
    """The body with its secrets masked; None when its kind cannot be searched for them."""
    if not body:
        return b""
    media = media_type(content_type)
    if is_json_type(media):
        try:
            tree = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _text(body)
        masked = redact_tree({"body": tree}, redact)["body"]
        return orjson.dumps(masked)
    if media == _FORM:
        text = _decoded(body)
        return None if text is None else redact_query(text).encode()
    if media.startswith("text/") or not media:
        return _text(body)
    return None


def _decoded(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _text(body: bytes) -> bytes | None:
    text = _decoded(body)
    return None if text is None else redact_text(text).encode()


def kept_target(path: str, query: str) -> str:
    """The request target to keep: the path as sent, the query's credentials masked."""
    return f"{path}?{redact_query(query)}" if query else path


def keepable(
    route: str,
    at: float,
    request_id: str,
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    redact: Sequence[Pattern] = (),
    *,
    status: int | None = None,
    side: str | None = None,
) -> Recorded | None:
    """The row to store for this request, or None when it cannot be kept without a secret."""
    pairs = tuple((n.lower(), v) for n, v in headers)
    content_type = next((v for n, v in pairs if n == "content-type"), None)
    kept = kept_body(body, content_type, redact)
    if kept is None:
        return None
    return Recorded(
        route, at, request_id, method.upper(), kept_target(path, query),
        kept_headers(pairs, redact), kept, status, side,
    )  # fmt: skip
