"""A route that answers itself (`respond`, `redirect`): the gateway replies, no side is called.

This is how nginx's own answers in front of an application carry over: `deny all` (403),
`internal` (404), `return 200 "ok"`, `return 301 https://...$request_uri`. A status of 400 or
more without a body is answered in the gateway's JSON error shape; a body is sent as written,
with its content type; a redirect has an empty body. HEAD gets the head alone.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import quote

from starlette.types import Scope, Send

from proxy import errors, paths
from proxy.clock import DATE, http_date
from proxy.sides.forwarder import Exchange
from proxy.sides.headers import ClientView
from proxy.table import fill
from proxy.table.model import Answer, Redirect, Respond

# what may stay as it is in a Location: the reserved and unreserved characters, and escapes
_LOCATION_SAFE = "!#$%&'()*+,/:;=?@[]~"


def kind(answer: Answer) -> str:
    """The word logs and metrics use for the route's mode."""
    return "redirect" if isinstance(answer, Redirect) else "respond"


async def send_answer(
    answer: Answer,
    captures: dict[str, str],
    scope: Scope,
    send: Send,
    path: str,
    view: ClientView,
    exchange: Exchange,
) -> None:
    if isinstance(answer, Respond) and answer.body is None and answer.status >= 400:
        exchange.status = answer.status
        message = HTTPStatus(answer.status).phrase.lower() if _known(answer.status) else "refused"
        exchange.bytes_out = await errors.send_error(send, answer.status, message, view.request_id)
        return
    headers = [(errors.REQUEST_ID, view.request_id.encode("ascii")), (DATE, http_date())]
    body = b""
    if isinstance(answer, Redirect):
        values = variables(scope, path, view)
        values.update({name: paths.encode(value) for name, value in captures.items()})
        location = quote(fill.render(answer.to, values), safe=_LOCATION_SAFE)
        headers.append((b"location", location.encode("ascii")))
    elif answer.body is not None:
        body = answer.body.encode("utf-8")
        headers.append((b"content-type", answer.content_type.encode("latin-1")))
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    exchange.status = answer.status
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    sent = b"" if scope["method"] == "HEAD" else body
    await send({"type": "http.response.body", "body": sent, "more_body": False})
    exchange.bytes_out = len(sent)


def variables(scope: Scope, path: str, view: ClientView) -> dict[str, str]:
    """A redirect's variables (proxy.table.fill), as they go into a Location."""
    query = scope["query_string"].decode("latin-1")
    raw = scope.get("raw_path") or paths.encode(path).encode("ascii")
    target = raw.decode("latin-1") + (f"?{query}" if query else "")
    return {
        "request_uri": target,
        "uri": paths.encode(path),
        "args": query,
        "is_args": "?" if query else "",
        "host": host_name(view.host),
        "scheme": view.scheme,
    }


def host_name(host: str) -> str:
    """nginx's $host: the Host without its port, lower-cased."""
    if host.startswith("["):
        return host[: host.find("]") + 1].lower() if "]" in host else host.lower()
    return host.partition(":")[0].rstrip(".").lower()


def _known(status: int) -> bool:
    try:
        HTTPStatus(status)
    except ValueError:
        return False
    return True
