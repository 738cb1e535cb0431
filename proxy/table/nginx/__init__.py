"""The nginx importer: an operator's nginx configuration, read and understood as nginx does.

`load` reads nginx.conf, a site file or an `nginx -T` dump (following includes) into the
frozen `model`; `servers` picks the server block nginx would use for a connection and a Host;
`locations` picks the location nginx would use for a path (exact, longest prefix, `^~`, regexes
in order, nested ones first), on the path as nginx normalises it (`uri`), with PCRE patterns
translated for Python's `re` (`pcre`). `syntax` is the one module that touches crossplane.

The importer builds on them: `plan` orders a server's locations as routes whose first match is
nginx's choice; `actions` says what each route does (a side and its path, or an answer),
`upstreams` which side a pass reaches, `legacy` and `phpfpm` the table's blocks around the
routes, `report` the verdict on every directive, `names` and `emit` the text, `importer` puts
it together and `check` compares nginx's choice with a table's, path by path.

Everything here but `load` is pure. This room uses the table's own modules (the model, the
matcher, fill) and the leaf `proxy.paths`, nothing else of proxy/.
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
