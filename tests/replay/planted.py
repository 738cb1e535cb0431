"""The native handlers with differences planted in a copy of one handler, for replay tests.

handlers/ is never touched: the source of handlers/resources/users.py is read, two lines of the
copy are changed, and the copy is loaded as that module before the app is built (so import
this only in a process of its own: a replay or an exported test run as a child process).
REPLAY_PLANTED=0 loads the copy unchanged: the plant removed, the handlers as they are.

The plants, each a bug a port from PHP makes:

- `email_verified_at` read as a plain string instead of a datetime: the value differs wherever
  it is set (`body.data.attributes.email_verified_at`, and `[*]` of it in lists);
- a user's empty properties as `{}` where PHP's empty array gives `[]`: a type difference at
  `body.data.meta.properties` for `include=properties` on a user without properties.
"""

from __future__ import annotations

import os
import sys
import types

import handlers.resources
from tests.support.services import ROOT

PLANTS = {
    '"email_verified_at": "datetime",': '"email_verified_at": "string",',
    'return {"properties": mapping if mapping else []}': (
        'return {"properties": mapping if mapping else {}}'
    ),
}
FIELDS = (
    "body.data.attributes.email_verified_at",
    "body.data[*].attributes.email_verified_at",
    "body.data.meta.properties",
)


def _load_copy() -> None:
    path = ROOT / "handlers" / "resources" / "users.py"
    source = path.read_text(encoding="utf-8")
    if os.environ.get("REPLAY_PLANTED", "1") != "0":
        for old, new in PLANTS.items():
            if source.count(old) != 1:  # the handler changed: the plant must be moved with it
                raise RuntimeError(f"cannot plant in {path}: {old!r} is not there once")
            source = source.replace(old, new)
    module = types.ModuleType("handlers.resources.users")
    module.__file__ = f"{path} (a planted copy)"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    sys.modules["handlers.resources.users"] = module
    handlers.resources.users = module  # type: ignore[attr-defined]


if "handlers.app" in sys.modules:
    raise RuntimeError("import tests.replay.planted before handlers.app, in a process of its own")
_load_copy()

from handlers.app import create_app  # noqa: E402  (after the copy is in place)

app = create_app()
