"""Content types as nginx gives them: its `mime.types` table, carried here as data.

Python's `mimetypes` reads the host's /etc/mime.types, so its answer changes with the machine;
nginx answers from the table it ships, with `default_type application/octet-stream` and no
charset. The table below is nginx 1.22's `mime.types`, in nginx's own syntax, parsed once at
import by `parse_types`, the same function a test runs over the installed file to show the two
agree.

The extension is nginx's: what follows the last `.` of the last path segment, unless that dot
opens the segment (`/.hidden` has none), compared without regard to case. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DEFAULT_TYPE = "application/octet-stream"

NGINX_MIME_TYPES = """
types {
    text/html                                html htm shtml;
    text/css                                 css;
    text/xml                                 xml;
    image/gif                                gif;
    image/jpeg                               jpeg jpg;
    application/javascript                   js;
    application/atom+xml                     atom;
    application/rss+xml                      rss;
    text/mathml                              mml;
    text/plain                               txt;
    text/vnd.sun.j2me.app-descriptor         jad;
    text/vnd.wap.wml                         wml;
    text/x-component                         htc;
    image/avif                               avif;
    image/png                                png;
    image/svg+xml                            svg svgz;
    image/tiff                               tif tiff;
    image/vnd.wap.wbmp                       wbmp;
    image/webp                               webp;
    image/x-icon                             ico;
    image/x-jng                              jng;
    image/x-ms-bmp                           bmp;
    font/woff                                woff;
    font/woff2                               woff2;
    application/java-archive                 jar war ear;
    application/json                         json;
    application/mac-binhex40                 hqx;
    application/msword                       doc;
    application/pdf                          pdf;
    application/postscript                   ps eps ai;
    application/rtf                          rtf;
    application/vnd.apple.mpegurl            m3u8;
    application/vnd.google-earth.kml+xml     kml;
    application/vnd.google-earth.kmz         kmz;
    application/vnd.ms-excel                 xls;
    application/vnd.ms-fontobject            eot;
    application/vnd.ms-powerpoint            ppt;
    application/vnd.oasis.opendocument.graphics odg;
    application/vnd.oasis.opendocument.presentation odp;
    application/vnd.oasis.opendocument.spreadsheet ods;
    application/vnd.oasis.opendocument.text  odt;
    application/vnd.openxmlformats-officedocument.presentationml.presentation pptx;
    application/vnd.openxmlformats-officedocument.spreadsheetml.sheet xlsx;
    application/vnd.openxmlformats-officedocument.wordprocessingml.document docx;
    application/vnd.wap.wmlc                 wmlc;
    application/wasm                         wasm;
    application/x-7z-compressed              7z;
    application/x-cocoa                      cco;
    application/x-java-archive-diff          jardiff;
    application/x-java-jnlp-file             jnlp;
    application/x-makeself                   run;
    application/x-perl                       pl pm;
    application/x-pilot                      prc pdb;
    application/x-rar-compressed             rar;
    application/x-redhat-package-manager     rpm;
    application/x-sea                        sea;
    application/x-shockwave-flash            swf;
    application/x-stuffit                    sit;
    application/x-tcl                        tcl tk;
    application/x-x509-ca-cert               der pem crt;
    application/x-xpinstall                  xpi;
    application/xhtml+xml                    xhtml;
    application/xspf+xml                     xspf;
    application/zip                          zip;
    application/octet-stream                 bin exe dll;
    application/octet-stream                 deb;
    application/octet-stream                 dmg;
    application/octet-stream                 iso img;
    application/octet-stream                 msi msp msm;
    audio/midi                               mid midi kar;
    audio/mpeg                               mp3;
    audio/ogg                                ogg;
    audio/x-m4a                              m4a;
    audio/x-realaudio                        ra;
    video/3gpp                               3gpp 3gp;
    video/mp2t                               ts;
    video/mp4                                mp4;
    video/mpeg                               mpeg mpg;
    video/quicktime                          mov;
    video/webm                               webm;
    video/x-flv                              flv;
    video/x-m4v                              m4v;
    video/x-mng                              mng;
    video/x-ms-asf                           asx asf;
    video/x-ms-wmv                           wmv;
    video/x-msvideo                          avi;
}
"""

_COMMENT = re.compile(r"#[^\n]*")


def parse_types(text: str) -> dict[str, str]:
    """Extension → content type from the text of an nginx `types { ... }` block.

    As nginx reads it: `type ext ext ...;` statements, `#` comments, extensions folded to lower
    case, and a repeated extension takes the later type.
    """
    body = _COMMENT.sub("", text)
    inner = body[body.index("{") + 1 : body.rindex("}")]
    types: dict[str, str] = {}
    for statement in inner.split(";"):
        words = statement.split()
        for extension in words[1:]:
            types[extension.lower()] = words[0]
    return types


TYPES: Mapping[str, str] = parse_types(NGINX_MIME_TYPES)
_ENCODED = {extension: kind.encode("ascii") for extension, kind in TYPES.items()}
_DEFAULT = DEFAULT_TYPE.encode("ascii")


def extension(path: str) -> str:
    """nginx's extension of a path: after the last dot of the last segment, not a leading one."""
    slash = path.rfind("/")
    dot = path.rfind(".")
    if dot <= slash + 1:
        return ""
    return path[dot + 1 :]


def content_type(path: str) -> bytes:
    """The `Content-Type` nginx sends for `path` (a URL path or a file path: the last segment
    decides)."""
    return _ENCODED.get(extension(path).lower(), _DEFAULT)
