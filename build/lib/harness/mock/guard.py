"""Who may talk to a harness server: requests for the address it serves, and state changes from its own pages.

The mock and the control panel listen on loopback, but loopback is within reach of every page the user's own
browser opens. A page on another site can POST a plain form to it (the browser then sends that site as ``Origin``);
a DNS-rebinding page reaches it under a name of its own (the browser sends that name as ``Host``), and could then
read its answers too. So:

* every request must name in ``Host`` an authority the server really serves -- the address and port it was asked
  to listen on (whatever they are: 127.0.0.1, 127.0.0.2, ...), ``localhost`` for a 127.0.0.1/::1 server, and any
  name it was told it is reached by (:attr:`Guard.names`) -- else 403;
* a state-changing request (any method but GET, HEAD, OPTIONS) that carries an ``Origin`` must carry a same-origin
  one; where the policy is ``required`` (the panel, whose only client is its own page) it must carry one, or the
  per-session token its page holds in :data:`TOKEN_HEADER` -- else 403.

A refused request reaches no handler and is answered with one line saying why. Invariant: the check compares
against what the server serves at request time (its port is known only once bound), never a hard-coded address.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Awaitable, Callable, Literal, Protocol

from aiohttp import web
from aiohttp.typedefs import Middleware

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_HEADER = "X-Harness-Token"
OriginPolicy = Literal["required", "if-present"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Served(Protocol):
    """What the guard asks of the server it guards: the address and port it listens on (known once bound)."""

    host: str
    port: int


@dataclass
class Guard:
    """The request check of one server; :meth:`middleware` goes first in its aiohttp application."""

    server: Served
    origin: OriginPolicy = "if-present"
    token: str | None = None  # a state-changing request carrying it needs no Origin
    names: tuple[str, ...] = ()  # other host names the server is reached by (e.g. a name mapped by the browser)
    on_refused: Callable[[web.Request, str], None] | None = None  # e.g. record the refusal on the timeline
    scheme: str = "http"

    def authorities(self) -> frozenset[str]:
        """The ``Host`` values this server answers: ``host:port`` for its address and each name (lower case)."""
        hosts = {self.server.host, *self.names}
        if self.server.host in ("127.0.0.1", "::1", "localhost"):
            hosts.add("localhost")
        out = set()
        for host in hosts:
            host = f"[{host}]" if ":" in host and not host.startswith("[") else host
            out.add(f"{host}:{self.server.port}".lower())
            if self.server.port == 80:  # the default port may be left out of Host
                out.add(host.lower())
        return frozenset(out)

    def refusal(self, request: web.Request) -> str | None:
        """Why ``request`` is refused, in one line; None when it may pass."""
        host = request.headers.get("Host", "").lower()
        allowed = self.authorities()
        if host not in allowed:
            return (f"Host {host or '(none)'!r} is not this server's address ({', '.join(sorted(allowed))}); "
                    "open it by that address")
        if request.method in SAFE_METHODS:
            return None
        origin = request.headers.get("Origin")
        if origin is None:
            if self.origin == "if-present" or self._has_token(request):
                return None
            return (f"a {request.method} without an Origin header (or the session token its page carries) is "
                    "refused; use the panel page")
        if origin.lower() not in {f"{self.scheme}://{a}" for a in allowed}:
            return f"a {request.method} from {origin!r} is refused: only this server's own pages may change its state"
        return None

    def _has_token(self, request: web.Request) -> bool:
        given = request.headers.get(TOKEN_HEADER)
        return self.token is not None and given is not None and hmac.compare_digest(given, self.token)

    def middleware(self) -> Middleware:
        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            reason = self.refusal(request)
            if reason is None:
                return await handler(request)
            if self.on_refused is not None:
                self.on_refused(request, reason)
            return web.Response(status=403, text=f"refused: {reason}\n", headers={"Cache-Control": "no-store"})

        return guard
