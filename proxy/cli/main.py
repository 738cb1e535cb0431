"""`strangler`: serve, check, routes, match.

Each subcommand is a (configure, run) pair in COMMANDS, so later ones (report, noise, gate,
history) are one entry each. Exit codes: 0 done, 1 the table or the request is not good, 2 bad
usage. Bad input never ends in a traceback: problems go to stderr, one a line, as
`file:line: route 'id': reason`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable
from urllib.parse import unquote

from rich.console import Console
from rich.table import Table

from proxy.cli import controls as controlcli
from proxy.cli import export as export_cli
from proxy.cli import flips as flipcli
from proxy.cli import nginx as nginx_cli
from proxy.cli import parity as parity_cli
from proxy.cli import replay as replay_cli
from proxy.table import checks, controls
from proxy.table.matcher import METHODS, compile_table, unreachable_routes
from proxy.table.model import Mode, NoRoute, Problem, Redirect, Route, RouteTable, TableError
from proxy.table.parser import default_config_path, load

Handler = Callable[[argparse.Namespace], int]


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")


def _show(problem: Problem) -> None:
    _err(("warning: " if problem.warning else "") + str(problem))


def _load(path: str | None) -> RouteTable | None:
    """The table, or None once its problems are on stderr."""
    try:
        return load(path if path is not None else default_config_path())
    except TableError as exc:
        for problem in exc.problems:
            _show(problem)
        return None


def _methods_text(route: Route) -> str:
    if route.methods is None:
        return "*"
    return "|".join(method for method in METHODS if method in route.methods)


def _mode_text(route: Route) -> str:
    """The route's mode, or what the gateway answers for a route that answers itself."""
    if route.answer is None:
        return route.mode.value
    return "redirect" if isinstance(route.answer, Redirect) else "respond"


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="route table (default: $STRANGLER_CONFIG, else ./routing.yaml)",
    )


# ---------------------------------------------------------------- serve


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    env = os.environ
    parser.add_argument(
        "--host",
        default=env.get("STRANGLER_HOST") or "127.0.0.1",
        help="address to bind (default: $STRANGLER_HOST, else 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=env.get("STRANGLER_PORT") or "8000",
        help="port to bind (default: $STRANGLER_PORT, else 8000)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=env.get("STRANGLER_WORKERS") or "1",
        help="worker processes (default: $STRANGLER_WORKERS, else 1)",
    )
    parser.add_argument(
        "--tls-cert",
        metavar="FILE",
        help="serve HTTPS with this certificate chain (PEM); needs --tls-key",
    )
    parser.add_argument(
        "--tls-key", metavar="FILE", help="the private key of --tls-cert (PEM, unencrypted)"
    )
    _add_config(parser)


def _serve(args: argparse.Namespace) -> int:
    if args.workers < 1:
        _err("--workers must be at least 1")
        return 2
    if (args.tls_cert is None) != (args.tls_key is None):
        _err("--tls-cert and --tls-key go together")
        return 2
    try:
        # imported here: the server pulls in uvicorn, which other commands never need
        from proxy.cli.serve import serve  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        _err(f"the server cannot start: {exc}")
        return 1
    config = args.config if args.config is not None else str(default_config_path())
    tls = (args.tls_cert, args.tls_key) if args.tls_cert is not None else None
    return int(
        serve(config_path=config, host=args.host, port=args.port, workers=args.workers, tls=tls)
    )


# ---------------------------------------------------------------- check


def _configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="route table (default: as for --config)"
    )
    parser.add_argument(
        "--app-dir",
        default=".",
        metavar="DIR",
        help="directory put first on the import path to find native.app (default: .)",
    )
    parser.add_argument(
        "--no-native",
        action="store_true",
        help="do not import native.app to check that it serves the native and shadow routes",
    )


def _native_coverage(table: RouteTable, app_dir: str) -> list[Problem]:
    # as uvicorn does: the app is found relative to where the command runs, not where it lives
    sys.path.insert(0, app_dir)
    try:
        return checks.check_native_coverage(table)
    finally:
        sys.path.remove(app_dir)


def _check(args: argparse.Namespace) -> int:
    table = _load(args.file)
    if table is None:
        return 1
    findings = [
        Problem(
            table.source,
            route.line,
            f"never matches: route '{earlier.id}' (line {earlier.line}) takes all its requests",
            route.id,
            warning=True,
        )
        for route, earlier in unreachable_routes(table)
    ]
    findings += checks.uncompared_writes(table)
    findings += checks.inert_blocks(table)
    findings += controls.findings(table)
    if not args.no_native:
        findings += _native_coverage(table, args.app_dir)
    for finding in sorted(findings, key=lambda p: p.line):
        _show(finding)
    if any(not finding.warning for finding in findings):
        return 1
    counts = Counter(route.mode for route in table.routes if route.answer is None)
    shown = [mode for mode in Mode if counts[mode] or mode is not Mode.CANARY]
    by_mode = ", ".join(f"{counts[mode]} {mode.value}" for mode in shown)
    if answered := sum(route.answer is not None for route in table.routes):
        by_mode += f", {answered} answered by the gateway"
    print(f"{table.source}: ok, {len(table.routes)} routes ({by_mode})")
    return 0


# ---------------------------------------------------------------- routes


def _configure_routes(parser: argparse.ArgumentParser) -> None:
    _add_config(parser)


def _routes(args: argparse.Namespace) -> int:
    table = _load(args.config)
    if table is None:
        return 1
    view = Table(
        title=f"{table.source} · first match wins",
        caption=f"no match → legacy ({table.legacy.where})",
    )
    for column in ("id", "methods", "path", "mode", "line"):
        view.add_column(column, no_wrap=True, justify="right" if column == "line" else "left")
    for route in table.routes:
        view.add_row(
            route.id,
            _methods_text(route),
            route.template.source,
            _mode_text(route),
            str(route.line),
        )
    console = Console()
    if not console.is_terminal:  # piped: never wrap or cut a path
        console = Console(width=10_000)
    console.print(view)
    return 0


# ---------------------------------------------------------------- match


def _configure_match(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("method", metavar="METHOD", help="HTTP method, e.g. GET")
    parser.add_argument("path", metavar="PATH", help="request path as sent, e.g. /api/v1/users/5")
    _add_config(parser)


def _normalise(target: str) -> str:
    """The path as the gateway matches it; raises ValueError for a path it refuses (400)."""
    raw = target.partition("?")[0].encode("utf-8", "surrogateescape")
    try:
        from proxy.paths import (  # type: ignore[import-not-found,unused-ignore]
            PathRejected,
            normalise,
        )
    except ImportError:
        return _fallback_normalise(raw.decode("utf-8", "surrogateescape"))
    try:
        return str(normalise(raw))
    except PathRejected as exc:
        raise ValueError(str(exc)) from exc


def _fallback_normalise(path: str) -> str:
    # used only while proxy.paths is absent; the gateway itself always uses proxy.paths
    if not path.startswith("/"):
        raise ValueError("the path must start with '/'")
    if any(code in path.lower() for code in ("%2f", "%5c", "%00", "\x00")):
        raise ValueError("an encoded '/', an encoded '\\' or a NUL")
    decoded = unquote(path, errors="strict")  # invalid UTF-8 raises, a ValueError
    parts: list[str] = []
    for part in decoded.split("/")[1:]:
        if part == "..":
            if not parts:
                raise ValueError("the path escapes the root")
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    trailing = "/" if decoded.endswith("/") and parts else ""
    return "/" + "/".join(parts) + trailing


def _match(args: argparse.Namespace) -> int:
    method = args.method.upper()
    if not method.isascii() or not method.replace("-", "").isalpha():
        _err(f"bad method {args.method!r} (expected an HTTP method such as GET)")
        return 2
    table = _load(args.config)
    if table is None:
        return 1
    try:
        path = _normalise(args.path)
    except ValueError as exc:
        _err(f"bad path {args.path!r}: the gateway answers 400 ({exc})")
        return 1
    if path != args.path.partition("?")[0]:
        print(f"path {args.path} is matched as {path}")
    result = compile_table(table).match(method, path)
    if isinstance(result, NoRoute):
        print("no route: legacy")
        return 0
    route = result.route
    params = "".join(f", {name}={value}" for name, value in result.params.items())
    print(
        f"matched route '{route.id}' ({table.source}:{route.line}) {_methods_text(route)} "
        f"{route.template.source} → mode {_mode_text(route)}{params}"
    )
    if route.mode is Mode.CANARY or (route.guard is not None and route.mode is Mode.NATIVE):
        print(_effective(table, route))
    return 0


def _effective(table: RouteTable, route: Route) -> str:
    """The route's effective mode and why: a guard's rollback is read from the parity store."""
    from proxy.operator.controls import rolled_back_why, why

    if route.guard is None or route.mode not in (Mode.NATIVE, Mode.CANARY):
        return f"effective mode {route.mode.value}: {why(route, None)}"
    rollback, problem = controlcli.rollback_of(table, route.id)
    if problem is not None:
        return f"effective mode unknown: the parity store cannot be read ({problem})"
    if rollback is not None:
        return f"effective mode legacy: {rolled_back_why(rollback)} (strangler resume {route.id})"
    return f"effective mode {route.mode.value}: {why(route, None)}; its guard has not tripped"


# ---------------------------------------------------------------- main

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "serve": ("run the gateway", _configure_serve, _serve),
    "check": ("validate a route table without serving it", _configure_check, _check),
    "routes": ("print the route table", _configure_routes, _routes),
    "match": ("show which route a request takes, and why", _configure_match, _match),
    "report": ("the parity of shadow routes", parity_cli.configure_report, parity_cli.run_report),
    "noise": (
        "ignore: rules learned from A/A noise",
        parity_cli.configure_noise,
        parity_cli.run_noise,
    ),
    "reset": (
        "start a route's evidence over (after a fix): reports and gates count from now",
        parity_cli.configure_reset,
        parity_cli.run_reset,
    ),
    "prune": (
        "delete parity data older than an age (run it from cron)",
        parity_cli.configure_prune,
        parity_cli.run_prune,
    ),
    "gate": (
        "is each shadow route ready to flip? exit 1 if any is blocked",
        flipcli.configure_gate,
        flipcli.run_gate,
    ),
    "history": (
        "the flips recorded: route, modes, when, trigger",
        flipcli.configure_history,
        flipcli.run_history,
    ),
    "status": (
        "each route's migration stage, and the evidence for its next step",
        controlcli.configure_status,
        controlcli.run_status,
    ),
    "resume": (
        "lift a guard's rollback of a route, in every gateway sharing the store",
        controlcli.configure_resume,
        controlcli.run_resume,
    ),
    "import-nginx": (
        "a routing.yaml from an nginx server block; --check compares their choices",
        nginx_cli.configure,
        nginx_cli.run,
    ),
    "replay": (
        "send logged or recorded requests to both sides and compare them; exit 1 on differences",
        replay_cli.configure,
        replay_cli.run,
    ),
    "export-tests": (
        "write a pytest test for each difference a replay found",
        export_cli.configure,
        export_cli.run,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="strangler",
        description="A strangler-fig migration gateway: PHP to Python, one route at a time.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (summary, configure, handler) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        configure(sub)
        sub.set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        # a command may take positionals after its options (import-nginx FILE --opt X PATH...)
        trailing: str | None = getattr(args, "trailing", None)
        if extra and (trailing is None or any(e.startswith("-") for e in extra)):
            parser.parse_args(argv)  # reports what is not recognised, as argparse does
        if extra and trailing is not None:
            getattr(args, trailing).extend(extra)
    except SystemExit as exc:  # --help, or a usage error argparse has already printed
        return exc.code if isinstance(exc.code, int) else 1
    if args.command is None:
        parser.print_usage(sys.stderr)
        _err("strangler: a command is required (see strangler --help)")
        return 2
    handler: Handler = args.handler
    return handler(args)
