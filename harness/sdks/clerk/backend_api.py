"""The Backend API mock: what a Clerk server SDK (``@clerk/backend`` inside ``clerkMiddleware``) calls.

One per session, because the app reads ``CLERK_API_URL`` once, at start. Each live run registers its Clerk state
(:meth:`BackendApiMock.attach`), whose signing key carries a key id of its own: the app caches keys by id, so a run
never verifies with a key of the run before it. It answers:

* ``GET /v1/jwks`` -- every live run's public key (a JWK set);
* ``GET /v1/clients/handshake_payload?nonce=`` -- the ``Set-Cookie`` directives of the handshake that minted the
  nonce, in whichever run it was; exact ``Content-Type: application/json`` (``@clerk/backend`` parses JSON only
  then, and otherwise reads the directives as missing);
* ``GET /v1/users/{id}`` -- the mock's one user; ``POST /v1/testing_tokens`` -- a testing token.

Any other path answers 501 and is recorded (``mock.unhandled`` on every live run's timeline, and
:attr:`BackendApiMock.unhandled`), never silently answered. It listens on loopback behind the usual Guard.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

from aiohttp import web

from harness.mock.threaded import ThreadedApp
from harness.sdks.clerk import COOKIE_SUFFIX, SESSION_COOKIES
from harness.sdks.clerk.fapi import CLIENT_UAT_COOKIE, CLIENT_UAT_MAX_AGE, ClerkState, error_body, user
from harness.timeline import Timeline


def _b64url_int(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk(state: ClerkState) -> dict[str, str]:
    numbers = state.issuer.public_key.public_numbers()
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": state.issuer.key_id,
            "n": _b64url_int(numbers.n), "e": _b64url_int(numbers.e)}


def exact_json(body: Any, status: int = 200) -> web.Response:
    """JSON with ``Content-Type: application/json`` and no charset parameter."""
    return web.Response(body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"})


def directives(token: str, client_uat: int) -> list[str]:
    """The handshake's ``Set-Cookie`` lines: the session token and ``__client_uat``, plain and suffixed."""
    uat = f"{client_uat}; Path=/; Max-Age={CLIENT_UAT_MAX_AGE}; SameSite=Lax"
    if token:
        session = [f"{name}={token}; Path=/; SameSite=Lax" for name in SESSION_COOKIES]
    else:
        session = [f"{name}=; Path=/; Max-Age=0; SameSite=Lax" for name in SESSION_COOKIES]
    return [*session, f"{CLIENT_UAT_COOKIE}={uat}", f"{CLIENT_UAT_COOKIE}_{COOKIE_SUFFIX}={uat}"]


class BackendApiMock(ThreadedApp):
    """The session's Backend API: JWKS, handshake payloads, users, testing tokens for every live run."""

    label = "the Backend API mock"

    port_option = "--backend-api-port"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self._runs: dict[int, tuple[ClerkState, Timeline]] = {}
        self._lock = threading.Lock()
        self.unhandled: list[str] = []  # "GET /v1/..." of every request it could not answer

    def attach(self, state: ClerkState, timeline: Timeline) -> None:
        with self._lock:
            self._runs[id(state)] = (state, timeline)

    def detach(self, state: ClerkState) -> None:
        with self._lock:
            self._runs.pop(id(state), None)

    def _live(self) -> list[tuple[ClerkState, Timeline]]:
        with self._lock:
            return list(self._runs.values())

    def build_app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.get("/v1/jwks", self._jwks),
                        web.get("/v1/clients/handshake_payload", self._handshake_payload),
                        web.get("/v1/users/{user_id}", self._user),
                        web.post("/v1/testing_tokens", self._testing_token),
                        web.route("*", "/{tail:.*}", self._unhandled)])
        return app

    def _emit(self, event: str, **fields: Any) -> None:
        for _, timeline in self._live():
            timeline.emit("mock", event, **fields)

    async def _jwks(self, request: web.Request) -> web.Response:
        keys = [jwk(state) for state, _ in self._live()]
        self._emit("backend_api", method="GET", path=request.path, keys=len(keys))
        return exact_json({"keys": keys})

    async def _handshake_payload(self, request: web.Request) -> web.Response:
        nonce = request.query.get("nonce", "")
        for state, timeline in self._live():
            token = state.take_handshake(nonce)
            if token is not None:
                timeline.emit("mock", "backend_api", method="GET", path=request.path, nonce="found",
                              signed_in=bool(token))
                return exact_json({"directives": directives(token, state.client_uat)})
        self._emit("backend_api", method="GET", path=request.path, nonce="unknown")
        return exact_json(error_body(404, "resource_not_found"), status=404)

    async def _user(self, request: web.Request) -> web.Response:
        live = self._live()
        if not live or request.match_info["user_id"] != live[0][0].issuer.user_id:
            return exact_json(error_body(404, "resource_not_found"), status=404)
        self._emit("backend_api", method="GET", path=request.path)
        return exact_json(user(live[0][0].created_ms))

    async def _testing_token(self, request: web.Request) -> web.Response:
        self._emit("backend_api", method="POST", path=request.path)
        return exact_json({"object": "testing_token", "token": "mock_testing_token",
                           "expires_at": int(time.time()) + 3600})

    async def _unhandled(self, request: web.Request) -> web.Response:
        what = f"{request.method} {request.path}"
        self.unhandled.append(what)
        self._emit("mock.unhandled", method=request.method, path=request.path, server="backend API",
                   note="the Backend API mock does not answer this path; the app's server got a 501")
        return exact_json(error_body(501, "not_implemented_by_mock"), status=501)
