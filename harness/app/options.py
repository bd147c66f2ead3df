"""The ``--app-*`` options, defined once: the CLI's subcommands and the pytest plugin add them from :data:`APP_OPTIONS`
(:func:`add_cli_options`, :func:`add_pytest_options`); :func:`overrides` reads them back as ``app:`` keys, which
:mod:`harness.app.spec` validates. Only argparse here: the CLI imports it at start.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, Sequence

DEFAULT_TIMEOUT_S = 180.0  # `next dev` compiles its first page on request: minutes on 2 loaded cores


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key or not key.replace("_", "").isalnum():
        raise argparse.ArgumentTypeError(f"--app-env takes KEY=VALUE, not {text!r}")
    return key, value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


APP_OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--app-command", dict(dest="app_command", metavar="CMD", default=None,
                           help="start the app under test with this shell command ({app_port}: a free port); the "
                                "harness's test page is then replaced by the app")),
    ("--app-url", dict(dest="app_url", metavar="URL", default=None,
                       help="the app's URL, polled until it answers (2xx, 3xx, 400-403), like Playwright's webServer")),
    ("--app-cwd", dict(dest="app_cwd", metavar="DIR", default=None, help="folder the app command runs in")),
    ("--app-env", dict(dest="app_env", metavar="K=V", action="append", type=_env_pair, default=None,
                       help="extra environment for the app (repeatable; over the preset's)")),
    ("--app-preset", dict(dest="app_preset", metavar="NAME", default=None,
                          help="fill command, URL and environment for a known kind of app: "
                               "nextjs-clerk, supabase-spa, or clerk (environment only)")),
    ("--reuse-existing-server", dict(dest="app_reuse", action="store_true", default=None,
                                     help="use an app already answering at --app-url instead of starting one")),
    ("--app-timeout", dict(dest="app_timeout", metavar="S", type=_seconds, default=None,
                           help=f"seconds to wait for the app's URL (default {DEFAULT_TIMEOUT_S:g})")),
    ("--backend-api-port", dict(dest="app_backend_api_port", metavar="PORT", type=int, default=None,
                                help="port of the Backend API mock (default: any free one); fix it to reuse an "
                                     "app started by hand with CLERK_API_URL=http://127.0.0.1:PORT")),
    ("--app-server-view", dict(dest="app_server_view", choices=["clerk-headers", "none"], default=None,
                               help="how page loads show the app server's view: clerk-headers (Clerk middleware's "
                                    "x-clerk-auth-* headers and handshakes) or none (default: the preset's)")),
    ("--app-whoami", dict(dest="app_whoami", metavar="PATH", default=None,
                          help="a path of the app answering 200 (signed in) or 401: the app server's view")),
)


def add_cli_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("app under test (your own app instead of the harness's test page)")
    for flag, kwargs in APP_OPTIONS:
        group.add_argument(flag, **kwargs)


def add_pytest_options(add: Callable[..., Any]) -> None:
    """``add`` is a pytest option group's ``addoption``."""
    for flag, kwargs in APP_OPTIONS:
        add(flag, **kwargs)


def overrides(get: Callable[[str], Any]) -> dict[str, Any]:
    """The app keys the options give (``get(dest)``: argparse's getattr or pytest's getoption); empty: none."""
    pairs: Sequence[tuple[str, str]] = get("app_env") or ()
    found = {"command": get("app_command"), "url": get("app_url"), "cwd": get("app_cwd"),
             "preset": get("app_preset"), "reuse_existing_server": get("app_reuse"), "timeout": get("app_timeout"),
             "whoami": get("app_whoami"), "backend_api_port": get("app_backend_api_port"),
             "server_view": get("app_server_view"), "env": dict(pairs) if pairs else None}
    return {k: v for k, v in found.items() if v is not None}
