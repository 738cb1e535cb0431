"""FastCGI to PHP-FPM, and what a request runs under the application's document root.

The pure layer of the legacy side when it is reached over FastCGI instead of HTTP:

- `records`: the FastCGI/1.0 record codec of the responder role (bytes in, events out);
- `response`: the CGI response head at the start of STDOUT (status, headers, first body bytes);
- `params`: the CGI/1.1 params of a request, as nginx's `fastcgi_params` gives them;
- `resolve`: which static file, script, redirect or refusal a path under the root gets.

None of them does I/O: `resolve` takes the filesystem as an injected `stat`. The connection
pool that carries these records to PHP-FPM lives beside the gateway's HTTP/1.1 client.
"""

from proxy.sides.fastcgi.params import CgiRequest, build_params
from proxy.sides.fastcgi.records import (
    EndRequest,
    FastCGIError,
    ParamTooLarge,
    ProtocolError,
    ProtocolStatus,
    ResponseDecoder,
    Stderr,
    Stdout,
)
from proxy.sides.fastcgi.resolve import (
    Execute,
    Redirect,
    Refused,
    Script,
    Site,
    StaticFile,
    resolve,
)
from proxy.sides.fastcgi.response import Head, HeadParser, MalformedHead

__all__ = [
    "CgiRequest",
    "EndRequest",
    "Execute",
    "FastCGIError",
    "Head",
    "HeadParser",
    "MalformedHead",
    "ParamTooLarge",
    "ProtocolError",
    "ProtocolStatus",
    "Redirect",
    "Refused",
    "ResponseDecoder",
    "Script",
    "Site",
    "StaticFile",
    "Stderr",
    "Stdout",
    "build_params",
    "resolve",
]
