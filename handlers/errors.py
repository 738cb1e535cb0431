"""The error tree and how each error becomes a response, exactly as the legacy side renders it.

    ApiError             an HTTP error with a status and a message (404, 401, 403, 400, 405 ...)
    ValidationFailed     422 for JSON clients, a 302 back to the previous page otherwise
    DatabaseUnavailable  503: the database could not be reached (never shows SQL or a trace)

Anything else is a bug and renders as 500 "Server Error".
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from handlers import phpjson

HTTP_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    419: "Page Expired",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Server Error",
    503: "Service Unavailable",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str = "", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class DatabaseUnavailable(ApiError):
    def __init__(self) -> None:
        super().__init__(503, "Service Unavailable")


class ValidationFailed(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        messages = [m for ms in errors.values() for m in ms]
        message = "The given data was invalid."
        if messages:
            message = messages[0]
            rest = len(messages) - 1
            if rest > 0:
                message += f" (and {rest} more {'error' if rest == 1 else 'errors'})"
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Reply:
    """A finished response: status, body bytes, headers."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


def json_reply(data: object, status: int = 200, kind: str = "application/json") -> Reply:
    return Reply(status, phpjson.encode(data), (("content-type", kind),))


def pretty_reply(data: object, status: int) -> Reply:
    return Reply(status, phpjson.encode_pretty(data), (("content-type", "application/json"),))


def redirect_reply(url: str) -> Reply:
    e = html.escape(url, quote=True).replace("&#x27;", "&#039;")
    body = (
        '<!DOCTYPE html>\n<html>\n    <head>\n        <meta charset="UTF-8" />\n'
        f'        <meta http-equiv="refresh" content="0;url=\'{e}\'" />\n\n'
        f"        <title>Redirecting to {e}</title>\n    </head>\n    <body>\n"
        f'        Redirecting to <a href="{e}">{e}</a>.\n    </body>\n</html>'
    )
    headers = (("location", url), ("content-type", "text/html; charset=UTF-8"))
    return Reply(302, body.encode("utf-8"), headers)


_PAGE = """<!DOCTYPE html>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{title}</title>
        <style>
            body {{ font-family: ui-sans-serif, system-ui, sans-serif; background: #f3f4f6; \
color: #374151; }}
            .box {{ display: flex; align-items: center; justify-content: center; \
min-height: 100vh; }}
            .code {{ padding: 0 1rem; border-right: 1px solid #9ca3af; font-size: 1.125rem; }}
            .msg {{ margin-left: 1rem; font-size: 1.125rem; text-transform: uppercase; }}
        </style>
    </head>
    <body>
        <div class="box">
            <div class="code">{status}</div>
            <div class="msg">{shown}</div>
        </div>
    </body>
</html>"""


def html_error_page(status: int, message: str = "") -> Reply:
    title = HTTP_TITLES.get(status, "Error")
    # The 403 page shows the reason; the other pages show the standard title only.
    shown = message if status == 403 and message else title
    body = _PAGE.format(title=_esc(title), status=status, shown=_esc(shown))
    return Reply(status, body.encode("utf-8"), (("content-type", "text/html; charset=UTF-8"),))


def _esc(text: str) -> str:
    return html.escape(text, quote=True).replace("&#x27;", "&#039;")


def render_validation(exc: ValidationFailed, wants_json: bool, back: str) -> Reply:
    if wants_json:
        return json_reply({"message": exc.message, "errors": exc.errors}, 422)
    return redirect_reply(back)


def render_http(status: int, message: str, wants_json: bool, headers: dict[str, str]) -> Reply:
    reply = (
        pretty_reply({"message": message}, status)
        if wants_json
        else html_error_page(status, message)
    )
    extra = tuple((k.lower(), v) for k, v in headers.items())
    own = tuple(h for h in reply.headers if h[0] not in {k for k, _ in extra})
    return Reply(reply.status, reply.body, extra + own)
