"""The nginx importer: an operator's nginx configuration, read and understood as nginx does.

`load` reads nginx.conf, a site file or an `nginx -T` dump (following includes) into the
frozen `model`; `servers` picks the server block nginx would use for a connection and a Host;
`locations` picks the location nginx would use for a path (exact, longest prefix, `^~`, regexes
in order, nested ones first), on the path as nginx normalises it (`uri`), with PCRE patterns
translated for Python's `re` (`pcre`). `syntax` is the one module that touches crossplane.
Everything here but `load` is pure. This room uses nothing else of proxy/.
"""

from proxy.table.nginx.errors import LoadError, NginxError, ServerChoiceError
from proxy.table.nginx.load import load, load_dump, load_text
from proxy.table.nginx.model import Config, Directive, Listen, Location, Modifier, Server

__all__ = [
    "Config",
    "Directive",
    "Listen",
    "LoadError",
    "Location",
    "Modifier",
    "NginxError",
    "Server",
    "ServerChoiceError",
    "load",
    "load_dump",
    "load_text",
]
