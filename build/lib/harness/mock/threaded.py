"""An aiohttp application served on a loopback port from its own thread and event loop.

Playwright's sync API owns the main thread, so every server the harness runs (the mock auth server, the control
panel) answers from a thread of its own -- the pytest-httpserver model. Subclasses say what to serve by overriding
:meth:`build_app`; this class owns the thread, the loop, the socket and a clean stop.

It listens on a loopback address only (any of 127.0.0.0/8, ::1, localhost), and every application it serves is put
behind a :class:`~harness.mock.guard.Guard` (subclasses tune it in :meth:`guard`): a request whose ``Host`` is not
the address and port actually bound, or a state change from another origin, is refused before any handler runs.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import threading
from typing import Any, Sequence

from aiohttp import web

from harness.errors import HarnessError
from harness.mock.guard import Guard


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ThreadedApp:
    """Serve :meth:`build_app` on ``host:port`` (0: any free port) from a daemon thread."""

    #: what the user calls this server, and the option that picks its port, for one-line errors
    label = "the server"
    port_option = "--port"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, served_as: Sequence[str] = (),
                 public_host: str | None = None, allow_non_loopback: bool = False) -> None:
        if not allow_non_loopback and not is_loopback(host):
            raise HarnessError(f"{self.label} only listens on a loopback address (127.0.0.1, 127.0.0.2, ..., ::1), "
                               f"not {host!r}")
        self.host = host
        self.port = port
        # The host a browser uses to reach it (a remote browser cannot use 127.0.0.1); default: the bound address.
        self.public_host = public_host
        # Other host names the browser reaches it by (Host must be the bound address or one of these).
        self.served_as = tuple(served_as) + ((public_host,) if public_host else ())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    def build_app(self) -> web.Application:
        raise NotImplementedError

    def guard(self) -> Guard:
        """Who may talk to this server (override to require an Origin, carry a token, record refusals)."""
        return Guard(self, names=self.served_as)

    @property
    def url(self) -> str:
        host = self.public_host or self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self) -> "ThreadedApp":
        self._thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)
        self._thread.start()
        self._ready.wait(15)
        err = self._startup_error
        if isinstance(err, OSError) and err.errno == errno.EADDRINUSE:
            raise HarnessError(f"port {self.port} on {self.host} is in use; pick another with {self.port_option}, "
                               "or 0 for any free port") from None
        if err is not None:
            raise HarnessError(f"{self.label} could not start on {self.host}:{self.port}: {err}") from None
        if not self._ready.is_set():
            raise HarnessError(f"{self.label} did not start within 15 s")
        return self

    @property
    def alive(self) -> bool:
        """Serving: its thread runs and its loop turns (False once stopped, or if the thread died)."""
        loop = self._loop
        return (self._thread is not None and self._thread.is_alive() and loop is not None and loop.is_running()
                and not loop.is_closed())

    def stop(self) -> None:
        if self._loop is None or self._thread is None or self._loop.is_closed():
            return
        if self._runner is not None:
            try:
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
            except Exception:  # a stuck connection must not keep a test from ending
                pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop = None

    def __enter__(self) -> "ThreadedApp":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_site())
        except BaseException as err:  # reported to the starting thread
            self._startup_error = err
            if self._runner is not None:  # set up, but never served: release it on its own loop
                try:
                    loop.run_until_complete(self._runner.cleanup())
                except Exception:
                    pass
                self._runner = None
            self._loop = None
            loop.close()
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.close()

    async def _start_site(self) -> None:
        app = self.build_app()
        app.middlewares.insert(0, self.guard().middleware())  # first: a refused request reaches nothing else
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        # Bind the socket ourselves so "port in use" is reported as such, and port 0 gives us the real port back.
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        # Lets a fixed port be reused right after a previous run; a port someone listens on still fails to bind.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
