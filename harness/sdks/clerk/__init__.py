"""What is specific to Clerk's browser SDK, ``@clerk/clerk-js``.

Another auth SDK should be one more module shaped like this one: how to obtain a version's bundle, what the page
loads, the API routes the mock serves (``fapi.py``), the tokens it mints (``tokens.py``), how the app's own server
decides (``backend.py``: ``authenticateRequest`` with its handshake), and which cookies mean "signed in".
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Callable, Mapping
from pathlib import Path

from aiohttp import web

from harness.sdk_protocol import cookie_store
from harness.sdks.clerk import fapi
from harness.sdks.clerk.backend import ClerkAppBackend, decider_for
from harness.sdks.clerk.fapi import PROXY_PATH, SESSION_ID, USER_ID, ClerkState
from harness.sdks.clerk.tokens import ClerkTokenIssuer

PACKAGE = "@clerk/clerk-js"
BUNDLE_FILE = "clerk.browser.js"
# A production key for a dotted fake host: clerk-js rejects hosts without a dot, and a production instance needs no
# dev-browser handshake. The same-origin proxy path means no TLS and no CORS.
FAPI_HOST = "clerk.mock.test"
PUBLISHABLE_KEY = "pk_live_" + base64.b64encode(f"{FAPI_HOST}$".encode()).decode()
# The cookie that carries the session token, plus its suffixed twin (base64url(SHA-1(key))[:8]).
COOKIE_SUFFIX = base64.urlsafe_b64encode(hashlib.sha1(PUBLISHABLE_KEY.encode()).digest()).decode()[:8]
SESSION_COOKIES = ("__session", f"__session_{COOKIE_SUFFIX}")
# The bug is in these releases; used as defaults and in docs, never as a verdict.
KNOWN_BUGGY = "6.0.0"
KNOWN_FIXED = "6.1.0"


class ClerkSdk:
    """The Clerk adapter: bundle, page, Frontend API and cookies."""

    name = "clerk"
    package = PACKAGE
    bundle_file = BUNDLE_FILE
    known_versions = (KNOWN_BUGGY, KNOWN_FIXED)
    seed_scenario = "offline-refresh-due"  # the library scenario `harness repro --sdk clerk` plays
    session_cookies: tuple[str, ...] = SESSION_COOKIES
    watch_cookies: tuple[str, ...] = ("__session", "__session_*")
    session_store = cookie_store(SESSION_COOKIES, watch_cookies)
    page_carries_session = True  # the cookie travels with every page request
    sign_in_js: str | None = None  # the mock's client is signed in from the first load
    user_view = "`Clerk.user`"
    client_read_path: str | None = "/v1/client"  # GET /v1/client: a 503 there tells the cookie fallback apart
    token_cache = True  # Clerk.session caches its token: clear_token_cache makes the next getToken a refresh
    serve_token_ttl = 60.0
    # The Frontend API's requests as faults name them (`on: token`), all under the same-origin proxy path.
    request_paths: Mapping[str, str] = {"token": "*/tokens", "client": "*/v1/client", "touch": "*/touch",
                                        "environment": "*/v1/environment", "handshake": "*/v1/client/handshake"}
    pins_tokens = True  # TokenIssuer.pin: a held or delayed answer can carry the token of its arrival
    user_id = USER_ID
    session_id = SESSION_ID

    def __init__(self, token_ttl: float = 60.0) -> None:
        self.state = ClerkState(issuer=ClerkTokenIssuer(user_id=USER_ID, session_id=SESSION_ID, ttl=token_ttl))
        self._backend_clock: Callable[[], float] = time.time

    def set_clocks(self, auth: Callable[[], float], backend: Callable[[], float]) -> None:
        """The Frontend API mints tokens and dates sessions on ``auth``; the app's server decides on ``backend``."""
        self.state.issuer.clock = auth
        self.state.clock = auth
        self._backend_clock = backend

    @property
    def issuer(self) -> ClerkTokenIssuer:
        return self.state.issuer

    def routes(self) -> list[web.RouteDef]:
        return fapi.routes(self.state)

    def page_head(self, bundle_url: str) -> str:
        """The script tags the app page puts in its head to load and start the SDK."""
        return (f'<script src="{bundle_url}" data-clerk-publishable-key="{PUBLISHABLE_KEY}" '
                f'data-clerk-proxy-url="{PROXY_PATH}" crossorigin="anonymous"></script>\n'
                # Clerk.load() is the app's job; rethrowOfflineNetworkErrors stays unset because it masks the bug.
                "<script>window.__harnessLoad = (async () => {\n"
                "  try { await window.Clerk.load({ telemetry: false }); window.__harnessLoaded = 'ok'; }\n"
                "  catch (e) { window.__harnessLoaded = 'error: ' + (e && e.message || e); }\n"
                # The user the app page shows (window.__harnessUser: each adapter's page names it).
                "  window.__harnessUser = window.Clerk && window.Clerk.user ? window.Clerk.user.id : null;\n"
                "  window.dispatchEvent(new Event('harness:sdk-loaded'));\n"
                "})();</script>")

    # What the page reports about the SDK's own view, for oracles ("is Clerk.user set after reload").
    sdk_state_js = ("() => ({loaded: window.__harnessLoaded || null,"
                    " status: window.Clerk && window.Clerk.status || null,"
                    " user: window.Clerk && window.Clerk.user ? window.Clerk.user.id : null,"
                    " session: window.Clerk && window.Clerk.session ? window.Clerk.session.id : null})")
    loaded_js = "() => !!window.__harnessLoaded"
    clear_token_cache_js = "() => { window.Clerk.session && window.Clerk.session.clearCache(); return true; }"
    get_token_js = ("async (opts) => { try { const t = await window.Clerk.session.getToken(opts || {});"
                    " return {token: t || null}; }"
                    " catch (e) { return {error: (e && (e.code || e.message)) || String(e)}; } }")

    init_script = (Path(__file__).parent / "sdk_probe.js").read_text()

    @property
    def revoked(self) -> bool:
        return self.state.revoked

    def credential(self, request: web.Request) -> str | None:
        """The app backend reads ``__session`` from the request, as Clerk's server SDKs do."""
        return request.cookies.get(SESSION_COOKIES[0]) or None

    def error_body(self, status: int, code: str | None = None) -> dict:
        return fapi.error_body(status, code)

    def revoke(self) -> None:
        self.state.revoked = True

    # -- the app's own server: authenticateRequest (with the handshake), or the strict check ----------------------

    backends: tuple[str, ...] = ("clerk", "jwt")  # setup.backend; harness/sdks/clerk/backend.py

    def app_backend(self, name: str) -> ClerkAppBackend:
        return ClerkAppBackend(decider_for(name, self.state.issuer, lambda: self.state.revoked, self._backend_clock),
                               self.state, self._backend_clock)

    def client_uat(self) -> int:
        """The Frontend API's ``__client_uat`` for the one client (0 = signed out)."""
        return self.state.client_uat
