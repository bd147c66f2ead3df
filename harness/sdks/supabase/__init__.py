"""What is specific to Supabase's browser SDK, ``@supabase/supabase-js`` 2.x (its auth part: gotrue-js / auth-js).

The second adapter, and the worked example of docs/writing-an-adapter.md. Unlike Clerk, the session is no cookie:
supabase-js keeps it in localStorage under ``sb-<first label of the host>-auth-token`` (``sb-127-auth-token`` for
the mock on 127.0.0.1), as JSON holding ``access_token``, ``refresh_token`` and ``expires_at``. So:

* the session store is that localStorage key (the page probe watches ``setItem``/``removeItem``/``clear`` and
  ``storage`` events; the runner cross-checks it against the page's own localStorage after each step);
* the page request carries no credential: the app page asks the SDK for the session (``getSession``) and calls its
  backend, ``/api/me``, with the access token as a bearer -- that call is the server's view of each page load;
* the page starts signed out, and ``signed_in`` signs in through the SDK's own ``signInWithPassword``.

A refresh comes due when ``expires_at`` is within gotrue-js's 10 s margin, so scenarios make it due at every page
load and every return to the tab with ``setup.token_ttl`` below 10 s; supabase-js has no token cache to clear.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from aiohttp import web

from harness.mock.backend import CredentialBackend
from harness.sdk_protocol import SessionStore
from harness.sdks.supabase import gotrue
from harness.sdks.supabase.gotrue import EMAIL, PASSWORD, GoTrueState

PACKAGE = "@supabase/supabase-js"
BUNDLE_FILE = "umd/supabase.js"  # relative to the package's dist/; a plain script exposing the global `supabase`
MOCK_HOST = "127.0.0.1"  # the mock's host, whose first label names the storage key
STORAGE_KEY = f"sb-{MOCK_HOST.split('.')[0]}-auth-token"
# gotrue-js 2.31.0 (in 2.26.0) removes the stored session when a refresh on load or on return to the tab fails with a
# network error; 2.45.0 (in 2.27.0) keeps it (supabase/auth-js#141, fixed by supabase/auth-js#710).
KNOWN_BUGGY = "2.26.0"
KNOWN_FIXED = "2.27.0"


class SupabaseSdk:
    """The Supabase adapter: bundle, page, GoTrue routes, and the localStorage session."""

    name = "supabase"
    package = PACKAGE
    bundle_file = BUNDLE_FILE
    known_versions = (KNOWN_BUGGY, KNOWN_FIXED)
    seed_scenario = "supabase-offline-tab-visible"  # the library scenario `harness repro --sdk supabase` plays
    session_store = SessionStore("localStorage", (STORAGE_KEY,), credential="access token",
                                 renews_with="refresh_token")
    session_cookies: tuple[str, ...] = ()
    watch_cookies: tuple[str, ...] = ()
    page_carries_session = False  # the page sends the access token to /api/me itself
    user_view = "`getSession().session.user`"
    client_read_path: str | None = None  # gotrue-js starts from localStorage; no client read to tell apart
    token_cache = False  # a refresh comes due through expires_at only
    serve_token_ttl = 8.0  # below gotrue-js's 10 s margin: every return to the tab, reload and tick refreshes
    # GoTrue's requests as faults name them (`on: token` is the password sign-in and every refresh).
    request_paths: Mapping[str, str] = {"token": "*/auth/v1/token", "user": "*/auth/v1/user",
                                        "logout": "*/auth/v1/logout", "settings": "*/auth/v1/settings"}
    pins_tokens = False  # GoTrue's session body is minted when it is answered: no token to pin on arrival

    def __init__(self, token_ttl: float = 3600.0) -> None:
        self.state = GoTrueState(ttl=token_ttl)
        self._backend_clock: Callable[[], float] = time.time

    def set_clocks(self, auth: Callable[[], float], backend: Callable[[], float]) -> None:
        """GoTrue mints, rotates and checks on ``auth``; the app's server checks the bearer on ``backend``."""
        self.state.clock = auth
        self._backend_clock = backend

    @property
    def issuer(self) -> GoTrueState:
        return self.state

    @property
    def revoked(self) -> bool:
        return self.state.revoked

    def revoke(self) -> None:
        """The server ends every session (as signing the user out everywhere does): refreshes answer 400."""
        self.state.end_session()

    def routes(self) -> list[web.RouteDef]:
        return gotrue.routes(self.state)

    def credential(self, request: web.Request) -> str | None:
        """What a Supabase backend verifies: the access token sent as ``Authorization: Bearer``. The project's anon
        key (what gotrue-js sends as the bearer before there is a session) carries no user: no credential."""
        token = gotrue.bearer(request)
        return None if token == self.state.anon_key else token

    def error_body(self, status: int, code: str | None = None) -> dict[str, Any]:
        return gotrue.error_body(status, code)

    # The app's server verifies the bearer access token, as a Supabase backend does.
    backends: tuple[str, ...] = ("supabase",)

    def app_backend(self, name: str) -> CredentialBackend:
        return CredentialBackend(self, clock=self._backend_clock)

    def page_head(self, bundle_url: str) -> str:
        """Load the bundle, hook the probe onto it, create the client against the mock (the page's own origin),
        then record what the SDK says and what the backend says about this page load."""
        return (f'<script src="{bundle_url}"></script>\n'
                "<script>window.__harnessLoad = (async () => {\n"
                "  try {\n"
                "    if (window.__harnessHookSupabase) window.__harnessHookSupabase(window.supabase);\n"
                f"    const client = window.supabase.createClient(location.origin, {json.dumps(self.state.anon_key)},"
                " {auth: {autoRefreshToken: true, persistSession: true}});\n"
                "    if (window.__harnessHookSupabase) window.__harnessHookSupabase(null, client.auth);\n"
                "    window.__harnessSupabase = client;\n"
                "    const { data } = await client.auth.getSession();\n"
                "    const session = data && data.session;\n"
                "    window.__harnessUser = session && session.user ? session.user.id : null;\n"
                # The app's backend call: a Supabase app authorises it with the access token (none: signed out).
                "    const headers = session ? { Authorization: 'Bearer ' + session.access_token } : {};\n"
                "    try { await fetch('/api/me', { headers, cache: 'no-store' }); } catch (e) { /* offline */ }\n"
                "    window.__harnessLoaded = 'ok';\n"
                "  } catch (e) { window.__harnessLoaded = 'error: ' + (e && e.message || e); }\n"
                "  window.dispatchEvent(new Event('harness:sdk-loaded'));\n"
                "})();</script>")

    loaded_js = "() => !!window.__harnessLoaded"
    # The SDK's own view, fresh from getSession (bounded: a held request must not hang the run).
    sdk_state_js = """async () => {
      const loaded = window.__harnessLoaded || null, client = window.__harnessSupabase;
      if (!client) return { loaded, status: null, user: null, session: null };
      const late = new Promise((r) => setTimeout(() => r({ late: true }), 5000));
      const r = await Promise.race([client.auth.getSession().catch((e) => ({ error: e })), late]);
      if (r.late) return { loaded, status: 'getSession did not settle within 5 s', user: null, session: null };
      const s = r.data && r.data.session;
      let sid = null;
      try { sid = s ? JSON.parse(atob(s.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).session_id
                    : null; } catch (e) { sid = 'unreadable'; }
      return { loaded, status: s ? 'signed-in' : 'signed-out', user: s && s.user ? s.user.id : null, session: sid,
               ...(r.error ? { error: String(r.error.message || r.error) } : {}) };
    }"""
    sign_in_js: str | None = f"""async () => {{
      const {{ data, error }} = await window.__harnessSupabase.auth.signInWithPassword(
        {{ email: {json.dumps(EMAIL)}, password: {json.dumps(PASSWORD)} }});
      return error ? {{ error: String(error.message || error) }} : {{ user: data.user ? data.user.id : null }};
    }}"""
    # supabase-js keeps no token cache: a refresh comes due through expires_at (setup.token_ttl below 10 s).
    clear_token_cache_js = ("() => { throw new Error('supabase-js keeps no token cache; make refreshes due with "
                            "setup.token_ttl below 10 s'); }")
    get_token_js = ("async () => { const { data, error } = await window.__harnessSupabase.auth.getSession();"
                    " if (error) return { error: error.message || String(error) };"
                    " return { token: data.session ? data.session.access_token : null }; }")

    init_script = (Path(__file__).parent / "sdk_probe.js").read_text()
