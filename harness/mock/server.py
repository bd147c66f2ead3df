"""The mock auth server: the SDK's API, the app's own backend, the SDK bundle, and faults, on one loopback port.

It runs aiohttp in its own thread with its own event loop (the pytest-httpserver model), so Playwright's sync API
can drive the browser from the main thread while the server answers. Everything it sees goes on the timeline:
``request`` when a request arrives, ``response`` when it is answered (or ``fault`` when a fault takes it), and
``server.view`` when the app backend judges a request's credential -- the "does the server still see me signed in"
oracle. How the backend decides is the adapter's (:meth:`SdkAdapter.app_backend`, chosen by ``setup.backend``):
this server asks it for a :class:`~harness.sdk_protocol.BackendAnswer` on each page load and API call, records its
view, and sends its answer -- a redirect (a handshake), or the page with the cookies the backend sets; those
``Set-Cookie`` writes of the session store are on the timeline as ``cookie`` events (``via: Set-Cookie``), because
the page's watcher cannot see them. It imports no adapter.

A request a fault takes (:mod:`harness.mock.faults`) is the fault's: the server asks its :class:`FaultBook` on every
request and, when one applies, awaits its stages with a few hooks (answer normally, the adapter's error body, close
the connection, the timeline, pin the answer's token); the server knows no fault kind. Faults still armed when the
server stops are recorded as ``fault.unreleased``, never as released.

A request refused by its guard (a foreign ``Host``, or a state change from another origin: see
:mod:`harness.mock.guard`) answers 403 and is recorded as ``request.refused``, never as a ``request``.

A failure of the mock itself is never passed off as the SDK's: any exception a handler raises is caught, recorded as
``mock.error`` (with its traceback), and answered with a 500; the oracles then give the run no verdict (``error``).
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any, Mapping, Protocol

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from harness import resources
from harness.clock import RunClocks
from harness.mock.faults import Fault, FaultBook, ReleaseOutcome
from harness.mock.guard import Guard
from harness.mock.threaded import ThreadedApp
from harness.mock.tokens import TokenIssuer, peek
from harness.sdk_protocol import AppBackend, BackendAnswer, ClockedAdapter, CookieWrite, SdkAdapter
from harness.timeline import Timeline

class FrontDoor(Protocol):
    """What the server needs of a front door to the user's app (:class:`harness.app.front_door.FrontDoor`, a layer
    above: the app room builds on the mock, so the mock names only this shape): routes for everything the mock does
    not serve, opened and closed with the server, and the words its ``server.backend`` event says."""

    description: str
    note: str
    upstream: str

    def routes(self) -> list[web.RouteDef]: ...

    async def open(self, app: web.Application) -> None: ...

    async def close(self, app: web.Application) -> None: ...


class MockAuthServer(ThreadedApp):
    """One run's server. Use as a context manager, or call :meth:`start` and :meth:`stop`."""

    label = "the mock server"

    def __init__(self, timeline: Timeline, sdk: SdkAdapter, *, bundle_dist: Path | None, sdk_version: str,
                 host: str = "127.0.0.1", port: int = 0, bundle_file: str | None = None,
                 backend: str | None = None, background_api: bool = False, served_as: tuple[str, ...] = (),
                 public_host: str | None = None, allow_non_loopback: bool = False,
                 clocks: RunClocks | None = None, front_door: FrontDoor | None = None) -> None:
        # A bind address other than loopback is only ever one the user named (--mock-host, for a remote browser).
        super().__init__(host=host, port=port, served_as=served_as, public_host=public_host,
                         allow_non_loopback=allow_non_loopback)
        self.background_api = background_api  # the app page calls /api/me every second
        clocks = clocks or RunClocks()
        if isinstance(sdk, ClockedAdapter):  # before its backend is made: it reads them
            sdk.set_clocks(clocks.auth_now, clocks.backend_now)
        # The app's own server, as the adapter has it (``backend``: one of its ``backends``; default the first).
        self.backend: AppBackend = sdk.app_backend(backend or sdk.backends[0])
        self.timeline = timeline
        self.sdk = sdk
        self.sdk_version = sdk_version
        self.bundle_dist = bundle_dist
        self.bundle_file = bundle_file or sdk.bundle_file
        self.faults = FaultBook()
        # The parties' wall clocks (harness/clock.py), set by the `clock` step; the adapter reads them (set_clocks).
        self.clocks = clocks
        # The user's app instead of the harness's test page (harness/app/front_door.py): its server decides.
        self.front_door = front_door

        def on_mint(jti: str, at: float) -> None:
            # ``at`` is the auth server's clock; the timeline is on true time.
            if self.clocks.offset("auth") == 0:
                self.timeline.emit("mock", "token.minted", at=at, jti=jti)
            else:
                self.timeline.emit("mock", "token.minted", at=self.clocks.true_of("auth", at), jti=jti, auth_at=at)

        sdk.issuer.on_mint = on_mint
        self._pages = jinja2.Environment(loader=jinja2.FileSystemLoader(resources.pages_dir()), autoescape=True)

    @property
    def bundle_url(self) -> str:
        return f"/sdk/{self.sdk_version}/{self.bundle_file}"

    def start(self) -> "MockAuthServer":
        super().start()
        if self.front_door is not None:
            self.timeline.emit("mock", "server.backend", backend="app", description=self.front_door.description,
                               note=self.front_door.note, upstream=self.front_door.upstream)
            return self
        self.timeline.emit("mock", "server.backend", backend=self.backend.name, description=self.backend.description,
                           note=self.backend.note, credential=self.sdk.session_store.credential)
        return self

    def guard(self) -> Guard:
        # The SDK's own requests are same-origin (the proxy path), so they carry this server's Origin; clients that
        # are not browsers (the harness's tests, curl) send none and may pass. Refusals go on the timeline.
        return Guard(self, origin="if-present", names=self.served_as, on_refused=self._refused)

    def _refused(self, request: web.Request, reason: str) -> None:
        self.timeline.emit("mock", "request.refused", method=request.method, path=request.path,
                           host=request.headers.get("Host"), origin=request.headers.get("Origin"), reason=reason)

    def stop(self) -> None:
        # Held requests are dropped before the loop stops; a fault never released is recorded as such, not as
        # released.
        for fault, was in self.faults.end_run():
            self.timeline.emit("mock", "fault.unreleased", fault=fault.id, kind=fault.kind, was=was,
                               applied=fault.applied)
        super().stop()

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self.sdk.routes())
        if self.front_door is not None:  # the SDK's API stays the mock's; the rest is the app's
            app.add_routes(self.front_door.routes())
            app.on_startup.append(self.front_door.open)
            app.on_cleanup.append(self.front_door.close)
            return app
        app.add_routes([web.get("/", self._app_page), web.get("/app/{tail:.*}", self._app_page),
                        web.get("/api/me", self._api_me), web.get("/probe/{name}", self._probe_page),
                        # Browsers ask for it on every page; a 404 would put an error in every run's console log.
                        web.get("/favicon.ico", self._no_content)])
        if self.bundle_dist is not None:
            app.router.add_static(f"/sdk/{self.sdk_version}/", self.bundle_dist, append_version=False)
        return app

    # -- controls (called from the runner thread) ----------------------------------------------------------------

    def add_fault(self, fault: Fault) -> Fault:
        fault = self.faults.add(fault)
        self.timeline.emit("mock", "fault.armed", **fault.describe())
        return fault

    def release(self, fault_id: str | None = None, outcome: ReleaseOutcome = "pass") -> None:
        for fault in self.faults.release(fault_id, outcome):
            self.timeline.emit("mock", "fault.released", fault=fault.id, kind=fault.kind, outcome=fault.release_outcome,
                               **({"still_dropping": True} if not fault.released else {}))

    def revoke_session(self) -> None:
        """The server ends the session: its tokens answer 401 and the client shows no sessions."""
        self.sdk.revoke()
        self.timeline.emit("mock", "session.revoked")

    # -- request handling ------------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        # The bookkeeping below is the mock's own code too: a failure in it is recorded like a handler's.
        return await self._answer(request, lambda r: self._handle(r, handler), None)

    async def _handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.time()
        cookie = self._session_cookie(request)
        claims = peek(cookie)
        req = self.timeline.emit("mock", "request", at=started, method=request.method, path=request.path,
                                 query=request.query_string[:200], session_cookie=cookie is not None,
                                 token_iat=claims.get("iat") if claims else None)
        taken = self.faults.decide(request.method, request.path)
        if taken is not None:  # the fault's stages answer (or not) through the hooks the server lends them
            return await taken.run(request, _FaultHooks(self, request, handler, req.seq))
        try:
            response = await self._answer(request, handler, req.seq)
        except web.HTTPException as exc:  # e.g. a 404; logged, then raised (aiohttp deprecates returning it)
            self.timeline.emit("mock", "response", method=request.method, path=request.path, status=exc.status,
                               ms=round((time.time() - started) * 1000, 1), request=req.seq)
            raise
        self.timeline.emit("mock", "response", method=request.method, path=request.path, status=response.status,
                           ms=round((time.time() - started) * 1000, 1), request=req.seq)
        return response

    async def _answer(self, request: web.Request, handler: Handler, req: int | None) -> web.StreamResponse:
        """The handler's answer; an exception in it (a bug of the mock) becomes ``mock.error`` and a 500."""
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:  # noqa: BLE001 -- every failure of the mock must be recorded, whatever it is
            self.timeline.emit("mock", "mock.error", method=request.method, path=request.path, request=req,
                               error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
            return web.json_response(self.sdk.error_body(500, "mock_server_error"), status=500)

    def _session_cookie(self, request: web.Request) -> str | None:
        return self.sdk.credential(request)  # the cookie, or a bearer token: the adapter says which

    def _record(self, request: web.Request, answer: BackendAnswer) -> None:
        if answer.view is not None:
            self.timeline.emit("mock", "server.view", **answer.view)

    def _set_cookies(self, request: web.Request, response: web.StreamResponse, writes: tuple[CookieWrite, ...]
                     ) -> None:
        """The backend's ``Set-Cookie``; writes of the session store recorded as the page cannot see them."""
        store = self.sdk.session_store
        for write in writes:
            if write.value:
                response.set_cookie(write.name, write.value, path="/", max_age=write.max_age, samesite="Lax")
            else:
                response.del_cookie(write.name, path="/")
            if store.kind != "cookie" or write.name not in store.names:
                continue
            had = bool(request.cookies.get(write.name))
            claims = peek(write.value) or {}
            token = {"iat": claims.get("iat"), "exp": claims.get("exp"), "jti": claims.get("jti")} if write.value \
                else {}
            self.timeline.emit("mock", "cookie", name=write.name, op="set" if write.value else "removed",
                               was_present=had, via="Set-Cookie", **token)

    async def _app_page(self, request: web.Request) -> web.StreamResponse:
        answer = self.backend.page(request)
        self._record(request, answer)
        if answer.redirect is not None:
            return answer.redirect
        # A page that carries no credential (the page sends the SDK's token to /api/me itself) has no view.
        view = answer.view or {"path": request.path, "signed_in": None, "reason": "not-sent"}
        credential = self.sdk.session_store.credential  # the adapter's words; `name` in backticks is a name
        html = self._pages.get_template("app.html").render(
            sdk=self.sdk.name, version=self.sdk_version, view=view, background_api=self.background_api,
            credential=credential.strip("`"), credential_is_name=credential.startswith("`"),
            sdk_head=jinja2.utils.markupsafe.Markup(self.sdk.page_head(self.bundle_url)))
        response = web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})
        self._set_cookies(request, response, answer.set_cookies)
        return response

    async def _no_content(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _api_me(self, request: web.Request) -> web.StreamResponse:
        """The app's API: the backend's view of the call, answered with its status."""
        answer = self.backend.api(request)
        self._record(request, answer)
        if answer.redirect is not None:
            return answer.redirect
        return web.json_response(answer.view, status=answer.status)

    async def _probe_page(self, request: web.Request) -> web.Response:
        # Plain pages without any SDK, for testing the harness's own probes.
        path = resources.pages_dir() / f"probe-{request.match_info['name']}.html"
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(text=path.read_text(), content_type="text/html", headers={"Cache-Control": "no-store"})


class _FaultHooks:
    """What the server lends a fault for one request it took (:class:`harness.mock.faults.MockHooks`): the normal
    answer, the adapter's error body, closing the connection, the timeline, and pinning the answer's token."""

    def __init__(self, server: MockAuthServer, request: web.Request, handler: Handler, request_seq: int) -> None:
        self._server, self._request, self._handler = server, request, handler
        self.request_seq = request_seq

    async def answer(self, after: str) -> web.StreamResponse:
        request = self._request
        response = await self._server._answer(request, self._handler, self.request_seq)
        self.emit("response", method=request.method, path=request.path, status=response.status,
                  request=self.request_seq, after=after)
        return response

    def error_body(self, status: int, code: str | None) -> Mapping[str, Any]:
        return self._server.sdk.error_body(status, code)

    def close(self) -> web.StreamResponse:
        if self._request.transport is not None:
            self._request.transport.close()
        # Nothing reaches the client: the transport is closed before aiohttp writes this.
        return web.Response(status=599)

    def emit(self, event: str, **fields: Any) -> None:
        self._server.timeline.emit("mock", event, **fields)

    def pin_token(self) -> None:
        issuer = self._server.sdk.issuer
        if not isinstance(issuer, TokenIssuer):  # arming refuses `token: arrival` for such an SDK (pins_tokens)
            raise RuntimeError(f"the {self._server.sdk.name} adapter's tokens cannot be pinned")
        issuer.pin(f"{self._request.scheme}://{self._request.host}")  # the answer carries the token of now
