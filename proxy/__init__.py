"""Strangler, the gateway: one ASGI process that stands where nginx stood.

The package is laid out in rooms, one concern each; the import rules between them are checked
by tests/test_architecture.py:

    app.py, dispatch.py    the composition root and the ASGI callable (normalise, match, hand
                           the request to its mode)
    settings, logs, clock, errors, paths
                           leaves every room may use
    table/                 routing.yaml → RouteTable: parse, model, matcher, snapshots, reload,
                           checks; imports no other room
    sides/                 reaching a side: the HTTP/1.1 client, forwarding, header rules,
                           limits, the in-process native caller; imports table/
    modes/                 what a mode does with a request (shadow); uses table/ and sides/
    operator/              what an operator sees: admin surface, dashboard, metrics, flip
                           history, parity reads; reads table/, sides/ and modes/
    cli/                   the `strangler` commands; imported by nothing but the console script
    edge/                  the client-facing HTTP/1.1 server (uvicorn's httptools protocol with
                           nginx's head limits, timeouts, connection bound and Host rules);
                           imports no other room
"""
