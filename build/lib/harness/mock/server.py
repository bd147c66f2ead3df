"""The mock auth server: the SDK's API, the app's own backend, the SDK bundle, and faults, on one loopback port.

It runs aiohttp in its own thread with its own event loop (the pytest-httpserver model), so Playwright's sync API
can drive the browser from the main thread while the server answers. Everything it sees goes on the timeline:
``request`` when a request arrives, ``response`` when it is answered (or ``fault`` when a fault takes it), and
``server.view`` when the app backend reads ``__session`` -- the "does the server still see me signed in" oracle.
How the backend decides is :mod:`harness.mock.backend` (``clerk``: as ``authenticateRequest``, with a handshake on
page loads; ``jwt``: strict). A page load that handshakes has two views: ``handshake`` (the 307 to the Frontend API)
and, when the browser comes back with the nonce, ``after_handshake: true`` with the cookies the backend set; those
``Set-Cookie`` writes of ``__session`` are on the timeline as ``cookie`` events (``via: Set-Cookie``), because the
page's watcher cannot see them.

A request refused by its guard (a foreign ``Host``, or a state change from another origin: see
:mod:`harness.mock.guard`) answers 403 and is recorded as ``request.refused``, never as a ``request``.

A failure of the mock itself is never passed off as the SDK's: any exception a handler raises is caught, recorded as
``mock.error`` (with its traceback), and answered with a 500; the oracles then give the run no verdict (``error``).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from pathlib import Path
from typing import Any, cast

import jinja2
from aiohttp import web

from urllib.parse import urlencode

from harness import resources
from harness.mock.backend import AppBackend, Decision as BackendDecision, RequestFacts, backend_for, verify_token
from harness.mock.faults import Decision, Fault, FaultBook, ReleaseOutcome
from harness.mock.guard import Guard
from harness.mock.threaded import ThreadedApp
from harness.mock.tokens import TokenIssuer, peek
from harness.sdk_protocol import HandshakingAdapter, SdkAdapter, is_handshaking
from harness.timeline import Timeline

class MockAuthServer(ThreadedApp):
    """One run's server. Use as a context manager, or call :meth:`start` and :meth:`stop`."""

    label = "the mock server"

    def __init__(self, timeline: Timeline, sdk: SdkAdapter, *, bundle_dist: Path | None, sdk_version: str,
                 host: str = "127.0.0.1", port: int = 0, bundle_file: str | None = None,
                 backend: str = "clerk", background_api: bool = False, served_as: tuple[str, ...] = (),
                 public_host: str | None = None, allow_non_loopback: bool = False) -> None:
        # A bind address other than loopback is only ever one the user named (--mock-host, for a remote browser).
        super().__init__(host=host, port=port, served_as=served_as, public_host=public_host,
                         allow_non_loopback=allow_non_loopback)
        self.background_api = background_api  # the app page calls /api/me every second
        # Clerk's backend decisions (authenticateRequest, handshake) need an adapter that has a handshake; another
        # SDK's app backend verifies the credential its adapter names (a bearer token for Supabase).
        self.backend: AppBackend | None = backend_for(backend, sdk.issuer, lambda: sdk.revoked) \
            if is_handshaking(sdk) else None
        self.timeline = timeline
        self.sdk = sdk
        self.sdk_version = sdk_version
        self.bundle_dist = bundle_dist
        self.bundle_file = bundle_file or getattr(sdk, "bundle_file", "clerk.browser.js")
        self.faults = FaultBook()

        def on_mint(jti: str, at: float) -> None:
            self.timeline.emit("mock", "token.minted", at=at, jti=jti)

        sdk.issuer.on_mint = on_mint
        self._pages = jinja2.Environment(loader=jinja2.FileSystemLoader(resources.pages_dir()), autoescape=True)

    @property
    def _handshaker(self) -> HandshakingAdapter:
        """The adapter as the app backend's handshake uses it. Only reached when there is a backend, which there is
        only for a handshaking adapter (``__init__``): an invariant the type system cannot follow."""
        return cast(HandshakingAdapter, self.sdk)

    @property
    def bundle_url(self) -> str:
        return f"/sdk/{self.sdk_version}/{self.bundle_file}"

    def start(self) -> "MockAuthServer":
        super().start()
        if self.backend is not None:
            self.timeline.emit("mock", "server.backend", backend=self.backend.name,
                               description=self.backend.description)
        else:
            self.timeline.emit("mock", "server.backend", backend=self.sdk.name,
                               description=f"the {self.sdk.name} adapter's own check of "
                                           f"{self.sdk.session_store.credential}")
        return self

    def guard(self) -> Guard:
        # The SDK's own requests are same-origin (the proxy path), so they carry this server's Origin; clients that
        # are not browsers (the harness's tests, curl) send none and may pass. Refusals go on the timeline.
        return Guard(self, origin="if-present", names=self.served_as, on_refused=self._refused)

    def _refused(self, request: web.Request, reason: str) -> None:
        self.timeline.emit("mock", "request.refused", method=request.method, path=request.path,
                           host=request.headers.get("Host"), origin=request.headers.get("Origin"), reason=reason)

    def stop(self) -> None:
        self.faults.clear()  # held requests are let go before the loop stops
        super().stop()

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self.sdk.routes())
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
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        # The bookkeeping below is the mock's own code too: a failure in it is recorded like a handler's.
        return await self._answer(request, lambda r: self._handle(r, handler), None)

    async def _handle(self, request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.time()
        cookie = self._session_cookie(request)
        claims = peek(cookie)
        req = self.timeline.emit("mock", "request", at=started, method=request.method, path=request.path,
                                 query=request.query_string[:200], session_cookie=cookie is not None,
                                 token_iat=claims.get("iat") if claims else None)
        decision = self.faults.decide(request.method, request.path)
        if decision.fault is not None:
            return await self._apply_fault(request, handler, decision, req.seq)
        try:
            response = await self._answer(request, handler, req.seq)
        except web.HTTPException as exc:  # e.g. a 404; logged, then raised (aiohttp deprecates returning it)
            self.timeline.emit("mock", "response", method=request.method, path=request.path, status=exc.status,
                               ms=round((time.time() - started) * 1000, 1), request=req.seq)
            raise
        self.timeline.emit("mock", "response", method=request.method, path=request.path, status=response.status,
                           ms=round((time.time() - started) * 1000, 1), request=req.seq)
        return response

    async def _apply_fault(self, request: web.Request, handler: Any, decision: Decision,
                           req: int) -> web.StreamResponse:
        fault = decision.fault
        assert fault is not None
        info = {**fault.describe(), "method": request.method, "path": request.path, "request": req}
        if decision.dropping:
            return self._drop(request, info | {"after": "release"})
        if fault.kind in ("hold", "delay") and fault.token == "arrival":
            issuer = self.sdk.issuer
            if isinstance(issuer, TokenIssuer):  # GoTrue (Supabase) has no pin: its tokens are minted when answered
                issuer.pin(f"{request.scheme}://{request.host}")  # the answer carries the token of now
        if decision.wait is not None:
            self.timeline.emit("mock", "fault.held", **info)
            await decision.wait.wait()
            if fault.release_outcome == "drop":
                return self._drop(request, info | {"after": "hold"})
            response = await self._answer(request, handler, req)
            self.timeline.emit("mock", "response", method=request.method, path=request.path,
                               status=response.status, request=req, after=fault.kind)
            return response
        if fault.kind == "status":
            self.timeline.emit("mock", "fault", **info)  # the error shape the SDK parses, from its adapter
            return web.json_response(self.sdk.error_body(fault.status, fault.error_code), status=fault.status)
        if fault.kind == "delay":
            self.timeline.emit("mock", "fault", **info)
            await asyncio.sleep(fault.delay)
            response = await self._answer(request, handler, req)
            self.timeline.emit("mock", "response", method=request.method, path=request.path,
                               status=response.status, request=req, after="delay")
            return response
        if fault.kind == "drop" and fault.at == "body":
            self.timeline.emit("mock", "fault", **info)
            stream = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                             "Content-Length": "4096"})
            await stream.prepare(request)
            await stream.write(b'{"object":"tok')
            await asyncio.sleep(0.05)
            assert request.transport is not None
            request.transport.close()
            return stream
        return self._drop(request, info)

    async def _answer(self, request: web.Request, handler: Any, req: int | None) -> web.StreamResponse:
        """The handler's answer; an exception in it (a bug of the mock) becomes ``mock.error`` and a 500."""
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:  # noqa: BLE001 -- every failure of the mock must be recorded, whatever it is
            self.timeline.emit("mock", "mock.error", method=request.method, path=request.path, request=req,
                               error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
            return web.json_response(self.sdk.error_body(500, "mock_server_error"), status=500)

    def _drop(self, request: web.Request, info: dict[str, Any]) -> web.StreamResponse:
        self.timeline.emit("mock", "fault", **info)
        if request.transport is not None:
            request.transport.close()
        # Nothing reaches the client: the transport is closed before aiohttp writes this.
        return web.Response(status=599)

    def _session_cookie(self, request: web.Request) -> str | None:
        return self.sdk.credential(request)  # the cookie, or a bearer token: the adapter says which

    def _adapter_view(self, request: web.Request) -> dict[str, Any]:
        """An SDK without Clerk's backend: the adapter's own check of the credential, as its server would."""
        check = self.sdk.issuer.check(self._session_cookie(request), revoked=self.sdk.revoked)
        view = {"path": request.path, "backend": self.sdk.name, "document": request.path == "/",
                "signed_in": check.valid, **check.to_dict()}
        self.timeline.emit("mock", "server.view", **view)
        return view

    def _facts(self, request: web.Request) -> RequestFacts:
        return RequestFacts.from_headers(request.method, request.headers, request.cookies, self.sdk.session_cookies[0])

    def _server_view(self, request: web.Request, decision: BackendDecision, facts: RequestFacts,
                     after_handshake: bool = False) -> dict[str, Any]:
        """Record the app backend's verdict on this request (``server.view``) and return it."""
        assert self.backend is not None  # only app pages and API calls judged by a backend get here
        view = {"path": request.path, "backend": self.backend.name, "document": facts.is_document,
                "signed_in": decision.signed_in, "valid": decision.token == "ok", **decision.to_dict(),
                **({"after_handshake": True} if after_handshake else {})}
        self.timeline.emit("mock", "server.view", **view)
        return view

    def _resolve_handshake(self, request: web.Request, facts: RequestFacts) -> tuple[BackendDecision, str] | None:
        """``resolveHandshake``: a page load coming back from the Frontend API with a nonce gets the cookies the
        handshake minted; an unknown or used nonce is ignored (the request is then judged by its cookies)."""
        nonce = request.query.get(self._handshaker.handshake_nonce_param)
        if self.backend is None or self.backend.name != "clerk" or not nonce:
            return None
        token = self._handshaker.take_handshake(nonce)
        if token is None:
            return None
        if token == "":
            return BackendDecision("signed-out", "session-token-missing", "absent"), token
        state, claims = verify_token(self._handshaker.issuer, token, skew=5.0, now=time.time())
        return BackendDecision("signed-in" if state == "ok" else "signed-out", "ok" if state == "ok" else state,
                               state, claims), token

    def _set_session_cookies(self, response: web.StreamResponse, token: str, had_token: bool) -> None:
        """The backend's ``Set-Cookie`` after a handshake, recorded as the cookie write the page cannot see."""
        from harness.sdks.clerk.fapi import set_client_uat

        name = self.sdk.session_cookies[0]
        set_client_uat(response, self._handshaker.client_uat())
        claims = peek(token) or {}
        if token:
            response.set_cookie(name, token, path="/", samesite="Lax")
            self.timeline.emit("mock", "cookie", name=name, op="set", was_present=had_token, via="Set-Cookie",
                               iat=claims.get("iat"), exp=claims.get("exp"), jti=claims.get("jti"))
        else:
            response.del_cookie(name, path="/")
            self.timeline.emit("mock", "cookie", name=name, op="removed", was_present=had_token, via="Set-Cookie")

    def _handshake(self, request: web.Request, decision: BackendDecision, facts: RequestFacts) -> web.Response:
        """``buildRedirectToHandshake``: a 307 through the same-origin Frontend API proxy, not cached, counted."""
        params = {"redirect_url": str(request.url), "__clerk_api_version": "2026-05-12",
                  "suffixed_cookies": "false", "__clerk_hs_reason": decision.reason, "format": "nonce"}
        if facts.session_token:
            params["__session"] = facts.session_token  # the token it had, for the Frontend API to see
        query = urlencode(params)
        response = web.Response(status=307, headers={"Location": f"{self._handshaker.handshake_path}?{query}",
                                                     "Cache-Control": "no-store"})
        response.set_cookie("__clerk_redirect_count", str(facts.redirect_count + 1), max_age=2, httponly=True,
                            samesite="Lax")
        return response

    async def _app_page(self, request: web.Request) -> web.Response:
        if self.backend is None or not self.sdk.page_carries_session:
            # An SDK whose session is not a cookie sends no credential with the page: the page calls /api/me.
            html = self._pages.get_template("app.html").render(
                sdk=self.sdk.name, version=self.sdk_version, background_api=self.background_api,
                view={"path": request.path, "signed_in": None, "reason": "not-sent"},
                sdk_head=jinja2.utils.markupsafe.Markup(self.sdk.page_head(self.bundle_url)))
            return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})
        facts = self._facts(request)
        resolved = self._resolve_handshake(request, facts)
        decision = resolved[0] if resolved else self.backend.decide(facts)
        view = self._server_view(request, decision, facts, after_handshake=resolved is not None)
        if decision.outcome == "handshake":
            return self._handshake(request, decision, facts)
        html = self._pages.get_template("app.html").render(
            sdk=self.sdk.name, version=self.sdk_version, view=view, background_api=self.background_api,
            sdk_head=jinja2.utils.markupsafe.Markup(self.sdk.page_head(self.bundle_url)))
        response = web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})
        if resolved is not None:
            self._set_session_cookies(response, resolved[1], had_token=facts.session_token is not None)
        return response

    async def _no_content(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _api_me(self, request: web.Request) -> web.Response:
        """The app's API: the same decision, but an API route never handshakes -- not signed in is a 401."""
        if self.backend is None:
            return web.json_response(self._adapter_view(request))
        facts = self._facts(request)
        view = self._server_view(request, self.backend.decide(facts), facts)
        return web.json_response(view, status=200 if view["signed_in"] else 401)

    async def _probe_page(self, request: web.Request) -> web.Response:
        # Plain pages without any SDK, for testing the harness's own probes.
        path = resources.pages_dir() / f"probe-{request.match_info['name']}.html"
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(text=path.read_text(), content_type="text/html", headers={"Cache-Control": "no-store"})
