"""Per run, what the mock server serves in front of the user's app: its own routes, then everything else proxied.

The mock server of a run with an app (:class:`harness.mock.server.MockAuthServer` given a :class:`FrontDoor`) keeps
its SDK routes unchanged (Clerk's Frontend API under ``/__clerk/v1``, GoTrue under ``/auth/v1``) and, instead of the
harness's test page, serves:

* the run's SDK bundle, pinned to the run's version whatever version the app asks for:
  ``/__clerk/npm/@clerk/clerk-js@*/dist/*`` (what a Core 3 Clerk app loads through its proxy), and
  ``/__harness/sdk/<file>`` (for an app that takes its bundle URL from its environment);
  ``/__clerk/npm/@clerk/ui@*/dist/*`` from the cached ``@clerk/ui`` bundle of the session;
* everything else, HTTP and WebSocket (a dev server's hot reload: without it the page never hydrates), proxied to
  the one app it was given, ``Host`` kept (so the app builds its redirects for the front door's origin) and
  ``X-Forwarded-*`` added (a WebSocket's ``Origin`` becomes the app's own: dev servers refuse hot-reload sockets
  from origins they do not trust). It forwards to no other address.

It observes what the app's server did, as the timeline's ``server.view`` (``backend: app``; every sentence made with it
says the view is observed from the app, not decided by the mock):

* for a page load (a document GET), Clerk's debug headers: ``x-clerk-auth-status: signed-out`` (with
  ``x-clerk-auth-reason``) is signed out, a 307 to ``/v1/client/handshake`` is a handshake, a page without either
  is signed in; the load that comes back from a handshake is marked ``after_handshake``. Only for an SDK whose
  session travels with the page (a cookie store);
* for the ``whoami`` path (a page's own call to the app's API): 200 is signed in, anything else is not;
* the app's ``Set-Cookie`` writes of the session store, as ``cookie`` events (``via: Set-Cookie``): the page's
  watcher cannot see them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from harness.mock.tokens import peek
from harness.sdk_protocol import SessionStore
from harness.timeline import Timeline

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "content-length"})
HANDSHAKE_PATH = "/v1/client/handshake"
HANDSHAKE_NONCE = "__clerk_handshake_nonce"
NOTE = "the server's view is observed from the app's own server (its answers through the front door), not decided " \
       "by the mock"
UPSTREAM_TIMEOUT_S = 120.0  # a dev server compiles a page on its first request


@dataclass
class Bundles:
    """Where the run's bundles are on disk: the SDK's ``dist/`` (and its main file), and Clerk UI's."""

    sdk_dist: Path
    sdk_file: str
    clerk_ui_dist: Path | None = None


@dataclass
class FrontDoor:
    """The app half of one run's mock server (see the module docstring)."""

    upstream: str  # the app's origin, http://localhost:PORT
    timeline: Timeline
    store: SessionStore
    bundles: Bundles
    whoami: str | None = None
    observe_pages: bool = True  # the session travels with the page: page loads carry the server's view
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)
    _after_handshake: bool = field(default=False, repr=False)

    description = "the user's app, behind the harness's front door"
    note = NOTE

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/__clerk/npm/@clerk/clerk-js@{v}/dist/{file:.+}", self._sdk_bundle),
                web.get("/__clerk/npm/@clerk/ui@{v}/dist/{file:.+}", self._clerk_ui),
                web.get("/__harness/sdk/{file:.+}", self._sdk_bundle),
                web.route("*", "/{tail:.*}", self.proxy)]

    async def open(self, app: web.Application) -> None:
        self._session = aiohttp.ClientSession(auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
                                              timeout=aiohttp.ClientTimeout(total=UPSTREAM_TIMEOUT_S))

    async def close(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    # -- bundles ------------------------------------------------------------------------------------------------

    async def _sdk_bundle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["file"]
        dist = self.bundles.sdk_dist
        if name == Path(self.bundles.sdk_file).name:
            name = self.bundles.sdk_file
        return _file(dist, name)

    async def _clerk_ui(self, request: web.Request) -> web.StreamResponse:
        if self.bundles.clerk_ui_dist is None:
            raise web.HTTPNotFound()
        return _file(self.bundles.clerk_ui_dist, request.match_info["file"])

    # -- the proxy ------------------------------------------------------------------------------------------------

    def _forward_headers(self, request: web.Request) -> CIMultiDict[str]:
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP)
        headers["X-Forwarded-Host"] = request.host
        headers["X-Forwarded-Proto"] = request.scheme
        headers["X-Forwarded-For"] = request.remote or "127.0.0.1"
        return headers

    async def proxy(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request)
        assert self._session is not None
        body = await request.read()
        try:
            async with self._session.request(request.method, self.upstream + request.path_qs,
                                             headers=self._forward_headers(request), data=body or None,
                                             allow_redirects=False) as upstream:
                payload = await upstream.read()
                headers: CIMultiDict[str] = CIMultiDict(
                    (k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP)
                status = upstream.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            self.timeline.emit("mock", "app.unreachable", method=request.method, path=request.path,
                               error=f"{type(err).__name__}: {err}")
            return web.Response(status=502, text=f"the app did not answer: {err}\n")
        self._observe(request, status, headers)
        return web.Response(status=status, body=payload, headers=headers)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        protocols = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        headers = {k: v for k, v in self._forward_headers(request).items() if not k.lower().startswith("sec-websocket")}
        if "Origin" in request.headers:
            # A dev server lets its hot-reload socket be opened only from origins it trusts (Next.js: localhost, or
            # allowedDevOrigins), and the page's origin is the front door's: the socket is opened as the app's own.
            headers["Origin"] = self.upstream
        target = "ws" + self.upstream.removeprefix("http") + request.path_qs
        try:
            client = await self._session.ws_connect(target, headers=headers, protocols=protocols,
                                                    autoping=False, max_msg_size=0)
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            self.timeline.emit("mock", "app.unreachable", method="GET", path=request.path, websocket=True,
                               error=f"{type(err).__name__}: {err}")
            return web.Response(status=502, text=f"the app's WebSocket did not answer: {err}\n")
        server = web.WebSocketResponse(protocols=protocols, autoping=False, max_msg_size=0)
        await server.prepare(request)

        async def pipe(source: Any, sink: Any) -> None:
            async for msg in source:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    await sink.send_str(msg.data)
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    await sink.send_bytes(msg.data)
                elif msg.type == aiohttp.WSMsgType.PING:
                    await sink.ping(msg.data)
                elif msg.type == aiohttp.WSMsgType.PONG:
                    await sink.pong(msg.data)
                else:
                    break

        tasks = [asyncio.ensure_future(pipe(server, client)), asyncio.ensure_future(pipe(client, server))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await client.close()
            await server.close()
        return server

    # -- observing the app's server ------------------------------------------------------------------------------

    def _observe(self, request: web.Request, status: int, headers: CIMultiDict[str]) -> None:
        self._cookies(request, headers)
        if self.whoami and request.path == self.whoami:
            self._view(request.path, document=False, signed_in=status == 200, status=status,
                       reason="ok" if status == 200 else f"the app answered {status}")
            return
        if not self.observe_pages or not _is_document(request):
            return
        if HANDSHAKE_NONCE in request.query:
            self._after_handshake = True
        location = headers.get("Location", "")
        auth_status = headers.get("x-clerk-auth-status")
        auth_reason = headers.get("x-clerk-auth-reason")
        if 300 <= status < 400 and HANDSHAKE_PATH in location:
            reason = auth_reason or parse_qs(urlsplit(location).query).get("__clerk_hs_reason", ["handshake"])[0]
            self._view(request.path, document=True, signed_in=False, decision="handshake", reason=reason,
                       status=status)
        elif 300 <= status < 400:
            return  # the load goes on elsewhere (e.g. the app's own redirect after a handshake)
        elif status < 300:
            signed_in = auth_status in (None, "signed-in")
            after = self._after_handshake
            self._after_handshake = False
            self._view(request.path, document=True, signed_in=signed_in,
                       decision="signed-in" if signed_in else "signed-out",
                       reason=auth_reason or ("ok" if signed_in else auth_status or "signed-out"), status=status,
                       **({"after_handshake": True} if after else {}))

    def _view(self, path: str, **fields: Any) -> None:
        self.timeline.emit("mock", "server.view", path=path, backend="app", observed=True, **fields)

    def _cookies(self, request: web.Request, headers: CIMultiDict[str]) -> None:
        if self.store.kind != "cookie":
            return
        for line in headers.getall("Set-Cookie", []):
            try:
                jar = SimpleCookie(line)
            except CookieError:
                continue
            for name, morsel in jar.items():
                if name not in self.store.names:
                    continue
                removed = not morsel.value or morsel["max-age"] in ("0", "-1") or _expired(morsel["expires"])
                claims = {} if removed else (peek(morsel.value) or {})
                self.timeline.emit("mock", "cookie", name=name, op="removed" if removed else "set",
                                   was_present=bool(request.cookies.get(name)), via="Set-Cookie",
                                   **({"iat": claims.get("iat"), "exp": claims.get("exp"), "jti": claims.get("jti")}
                                      if claims else {}))


def _is_document(request: web.Request) -> bool:
    """``@clerk/backend``'s test: a GET whose Sec-Fetch-Dest is document/iframe, or without one, accepting HTML."""
    if request.method != "GET":
        return False
    dest = request.headers.get("Sec-Fetch-Dest")
    if dest is not None:
        return dest in ("document", "iframe")
    return request.headers.get("Accept", "").startswith("text/html")


def _expired(expires: str) -> bool:
    if not expires:
        return False
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(expires).timestamp() < time.time()
    except (TypeError, ValueError):
        return False


def _file(root: Path, name: str) -> web.StreamResponse:
    path = (root / name).resolve()
    if not path.is_file() or not path.is_relative_to(root.resolve()):
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "no-store"})
