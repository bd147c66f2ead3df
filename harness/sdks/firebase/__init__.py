"""What is specific to Firebase Auth's browser SDK, the ``firebase`` npm package (modular 9.x and later).

The third adapter. Firebase keeps the signed-in user in IndexedDB by default -- database ``firebaseLocalStorageDb``,
object store ``firebaseLocalStorage``, a record ``{fbase_key, value}`` under ``firebase:authUser:<apiKey>:[DEFAULT]``
-- or, with ``browserLocalPersistence``, in localStorage under the same key. So:

* the session store is that record (:class:`FirebaseSdk`, IndexedDB) or that localStorage key
  (:class:`FirebaseLocalStorageSdk`, registered as ``firebase-local``); the page probe reports every write to it and
  the runner cross-checks it against the browser's own storage after each step;
* the page loads the package's own modular CDN builds (``firebase-app.js``, ``firebase-auth.js``) as ES modules, the
  absolute ``https://www.gstatic.com/firebasejs/<v>/firebase-app.js`` that ``firebase-auth.js`` imports mapped by an
  import map to the local copy (and the app imported through the same URL, so there is one app registry);
* the SDK is pointed at the mock with its own ``connectAuthEmulator(auth, location.origin)``: every Auth REST call
  then goes to ``<origin>/<google host>/<path>``, served by :mod:`harness.sdks.firebase.identitytoolkit`;
* the page starts signed out and ``signed_in`` signs in with ``signInWithEmailAndPassword``; each page load waits for
  the SDK's first ``onAuthStateChanged`` (the end of its start-up, which reloads the persisted user with
  ``accounts:lookup``) and then sends ``getIdToken()`` to ``/api/me`` as a bearer, which the app backend verifies as
  the Admin SDK's ``verifyIdToken(token, true)`` does;
* the app has a service worker holding its shell (page and scripts), as an installed app does, so that a reload
  while offline opens the app and starts the SDK (firebase-js-sdk#7118 is about exactly that start);
* the server ends a session by disabling the user (``USER_DISABLED``), which every release must treat as a sign-out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from aiohttp import web

from harness.mock.backend import CredentialBackend
from harness.sdk_protocol import SessionStore
from harness.sdks.firebase import identitytoolkit
from harness.sdks.firebase.identitytoolkit import API_KEY, EMAIL, PASSWORD, PROJECT_ID, FirebaseAuthState

PACKAGE = "firebase"
BUNDLE_FILE = "firebase-auth.js"  # at the package root (firebase ships no dist/); firebase-app.js beside it
STORAGE_KEY = f"firebase:authUser:{API_KEY}:[DEFAULT]"
DATABASE, OBJECT_STORE = "firebaseLocalStorageDb", "firebaseLocalStorage"
SHELL_WORKER = "/harness-app-shell-sw.js"
# firebase-js-sdk#7118: @firebase/auth 0.21.4 (firebase 9.18.0; 0.21.5 in 9.18.x) made a failed fetch surface as
# auth/internal-error, so start-up cleared the persisted user when offline; 0.21.6 (firebase 9.19.0) undid it.
KNOWN_BUGGY = "9.18.0"
KNOWN_FIXED = "9.19.0"
_APP_URL = "https://www.gstatic.com/firebasejs/{version}/firebase-app.js"


class FirebaseSdk:
    """The Firebase adapter, with the SDK's default persistence: IndexedDB."""

    name = "firebase"
    package = PACKAGE
    bundle_file = BUNDLE_FILE
    known_versions = (KNOWN_BUGGY, KNOWN_FIXED)
    seed_scenario = "firebase-offline-start"
    persistence = "indexedDBLocalPersistence"
    session_store = SessionStore("indexedDB", (STORAGE_KEY,), credential="ID token",
                                 renews_with="value.stsTokenManager.refreshToken", place=(DATABASE, OBJECT_STORE),
                                 identity="value.stsTokenManager.accessToken")
    session_cookies: tuple[str, ...] = ()
    watch_cookies: tuple[str, ...] = ()
    page_carries_session = False  # the page sends the ID token to /api/me itself
    user_view = "`auth.currentUser`"
    client_read_path: str | None = None  # the start-up read is a POST (accounts:lookup); the sdk.token events say it
    token_cache = False  # getIdToken refreshes by the token's expiry only
    serve_token_ttl = 60.0  # the SDK refreshes 30 s before expiry: a refresh comes due within a session
    # The SDK's requests as faults name them. `token` is the refresh grant; `user` the reload of the stored user
    # (accounts:lookup, what start-up runs); `sign_in` the password sign-in.
    request_paths: Mapping[str, str] = {
        "token": "*/securetoken.googleapis.com/v1/token",
        "user": "*/identitytoolkit.googleapis.com/v1/accounts:lookup",
        "sign_in": "*/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword"}
    pins_tokens = False  # the answer's token is minted when it is sent

    def __init__(self, token_ttl: float = 3600.0) -> None:
        self.state = FirebaseAuthState(ttl=token_ttl)

    @property
    def issuer(self) -> FirebaseAuthState:
        return self.state

    @property
    def revoked(self) -> bool:
        return self.state.revoked

    def revoke(self) -> None:
        """The server ends the session as an administrator disabling the user does: USER_DISABLED from now on."""
        self.state.end("disabled")

    def routes(self) -> list[web.RouteDef]:
        return [*identitytoolkit.routes(self.state), web.get(SHELL_WORKER, _shell_worker)]

    def credential(self, request: web.Request) -> str | None:
        """What a Firebase backend verifies: the ID token sent as ``Authorization: Bearer``."""
        value = request.headers.get("Authorization", "")
        return value[7:].strip() or None if value.lower().startswith("bearer ") else None

    def error_body(self, status: int, code: str | None = None) -> dict[str, Any]:
        return identitytoolkit.error_body(status, code)

    # The app's server verifies the bearer ID token as the Admin SDK's verifyIdToken(token, checkRevoked) does.
    backends: tuple[str, ...] = ("firebase-admin",)

    def app_backend(self, name: str) -> CredentialBackend:
        backend = CredentialBackend(self)
        backend.name = name
        backend.description = ("the Firebase Admin SDK's verifyIdToken(idToken, checkRevoked=true): RS256 with the "
                               "project's key, audience, issuer, expiry, and the user neither disabled nor revoked")
        return backend

    def page_head(self, bundle_url: str) -> str:
        """Map the app module's absolute URL to the local copy, start the SDK against the mock, wait for its first
        ``onAuthStateChanged``, then send the ID token to ``/api/me``."""
        base = bundle_url.rsplit("/", 1)[0]
        version = base.rsplit("/", 1)[-1]
        app_url = _APP_URL.format(version=version)
        imports = json.dumps({"imports": {app_url: f"{base}/firebase-app.js"}})
        shell = json.dumps([f"{base}/firebase-app.js", bundle_url])
        config = json.dumps({"apiKey": API_KEY, "projectId": PROJECT_ID})
        return (f'<script type="importmap">{imports}</script>\n'
                '<script type="module">\n'
                f"import {{ initializeApp }} from {json.dumps(app_url)};\n"
                f"import * as fbauth from {json.dumps(bundle_url)};\n"
                "const emit = (kind, data) => window.__harnessEmit && window.__harnessEmit(kind, data);\n"
                "const within = (ms, p) => Promise.race([p, new Promise((r) => setTimeout(() => r('late'), ms))]);\n"
                "window.__harnessLoad = (async () => {\n"
                "  try {\n"
                # The app's service worker keeps its shell, so the app opens offline (as an installed app does).
                "    let shellReady = Promise.resolve();\n"
                "    if ('serviceWorker' in navigator) {\n"
                f"      const shell = JSON.stringify([location.pathname, ...{shell}]);\n"
                f"      navigator.serviceWorker.register({json.dumps(SHELL_WORKER)} + '?shell=' +"
                " encodeURIComponent(shell)).catch(() => {});\n"
                "      shellReady = within(5000, navigator.serviceWorker.ready);\n"
                "    }\n"
                f"    const app = initializeApp({config});\n"
                f"    const auth = fbauth.initializeAuth(app, {{ persistence: fbauth.{self.persistence} }});\n"
                "    fbauth.connectAuthEmulator(auth, location.origin, { disableWarnings: true });\n"
                "    window.__harnessFirebase = { auth, fbauth, states: [] };\n"
                # Every change the SDK announces goes on the timeline; the first one ends its start-up.
                "    const first = await new Promise((resolve) => fbauth.onAuthStateChanged(auth, (user) => {\n"
                "      window.__harnessFirebase.states.push(user ? user.uid : null);\n"
                "      emit('sdk.auth_state', { user: user ? user.uid : null, online: navigator.onLine });\n"
                "      resolve(user);\n"
                "    }));\n"
                "    window.__harnessUser = first ? first.uid : null;\n"
                "    let token = null;\n"
                "    if (first) { try { const t = await within(5000, first.getIdToken()); token = t === 'late' ? null"
                " : t; } catch (e) { /* offline: no fresh token */ } }\n"
                # The app's backend call: a Firebase app authorises it with the ID token (none: signed out).
                "    const headers = token ? { Authorization: 'Bearer ' + token } : {};\n"
                "    try { await fetch('/api/me', { headers, cache: 'no-store' }); } catch (e) { /* offline */ }\n"
                "    await shellReady;\n"
                "    const shown = document.getElementById('sdk-user');\n"
                "    if (shown) shown.textContent = first ? 'signed in as ' + first.uid : 'signed out';\n"
                "    window.__harnessLoaded = 'ok';\n"
                "  } catch (e) { window.__harnessLoaded = 'error: ' + (e && e.message || e); }\n"
                "  window.dispatchEvent(new Event('harness:sdk-loaded'));\n"
                "})();\n"
                "</script>")

    loaded_js = "() => !!window.__harnessLoaded"
    # The SDK's own view: currentUser once its start-up has settled (bounded: a held lookup must not hang the run).
    sdk_state_js = """async () => {
      const loaded = window.__harnessLoaded || null, fb = window.__harnessFirebase;
      if (!fb) return { loaded, status: null, user: null, session: null };
      const settled = new Promise((r) => {
        const off = fb.fbauth.onAuthStateChanged(fb.auth, () => { r(true); setTimeout(() => off()); });
      });
      const late = new Promise((r) => setTimeout(() => r(false), 5000));
      if (!(await Promise.race([settled, late])))
        return { loaded, status: 'onAuthStateChanged did not fire within 5 s', user: null, session: null };
      const u = fb.auth.currentUser;
      let authTime = null;
      try { authTime = u ? JSON.parse(atob(u.stsTokenManager.accessToken.split('.')[1].replace(/-/g, '+')
                                        .replace(/_/g, '/'))).auth_time : null; } catch (e) { authTime = 'unreadable'; }
      return { loaded, status: u ? 'signed-in' : 'signed-out', user: u ? u.uid : null, session: authTime,
               states: fb.states.slice() };
    }"""
    sign_in_js: str | None = f"""async () => {{
      const fb = window.__harnessFirebase;
      try {{
        const cred = await fb.fbauth.signInWithEmailAndPassword(fb.auth, {json.dumps(EMAIL)}, {json.dumps(PASSWORD)});
        return {{ user: cred.user ? cred.user.uid : null }};
      }} catch (e) {{ return {{ error: String(e && (e.code || e.message) || e) }}; }}
    }}"""
    clear_token_cache_js = ("() => { throw new Error('firebase keeps its ID token until 30 s before expiry and has "
                            "no cache to clear; force a refresh with get_token: {skip_cache: true}, or make one due "
                            "with setup.token_ttl'); }")
    # getIdToken(forceRefresh): `skip_cache: true` forces the securetoken refresh, as getToken({skipCache}) does.
    get_token_js = ("async (opts) => { const u = window.__harnessFirebase && window.__harnessFirebase.auth.currentUser;"
                    " if (!u) return { token: null };"
                    " try { return { token: await u.getIdToken(!!(opts && opts.skipCache)) }; }"
                    " catch (e) { return { error: String(e && (e.code || e.message) || e) }; } }")

    init_script = (Path(__file__).parent / "sdk_probe.js").read_text()


class FirebaseLocalStorageSdk(FirebaseSdk):
    """The same SDK with ``browserLocalPersistence``: the user record in localStorage under the same key."""

    name = "firebase-local"
    seed_scenario = "firebase-local-offline-start"
    persistence = "browserLocalPersistence"
    session_store = SessionStore("localStorage", (STORAGE_KEY,), credential="ID token",
                                 renews_with="stsTokenManager.refreshToken",
                                 identity="stsTokenManager.accessToken")


_SHELL_WORKER_JS = (Path(__file__).parent / "app_shell_sw.js").read_text()


async def _shell_worker(request: web.Request) -> web.Response:
    return web.Response(text=_SHELL_WORKER_JS, content_type="application/javascript",
                        headers={"Cache-Control": "no-store"})
