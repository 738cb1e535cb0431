"""The route table: routing.yaml → RouteTable, and everything derived from a table alone.

`parser` reads the text into the frozen `model` (a route's path keys through `routekeys` and
`fill`); `matcher` compiles the routes once and matches a request in a per-method segment trie,
and the `match:` mappings (exact, prefix, regex) in `patterns` (with `literals` and
`alternation`); `targets` compiles where each side is;
`snapshot` holds the table in force and swaps it atomically; `reload` reads a changed file in a
thread and swaps; `checks` validates a table against the world (does the native app serve its
routes?). Pure where it can be. This room imports no other room of proxy/, only the leaves
(`proxy.logs`).
"""

from proxy.table.model import Mode, Problem, Route, RouteTable, Side, TableError
from proxy.table.parser import default_config_path, load, parse

__all__ = [
    "Mode",
    "Problem",
    "Route",
    "RouteTable",
    "Side",
    "TableError",
    "default_config_path",
    "load",
    "parse",
]
