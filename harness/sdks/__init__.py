"""Auth-SDK adapters: everything the harness knows about one SDK lives in one module here.

An adapter says how to obtain a version's bundle (an npm package), what the app page loads, the API routes the mock
serves for it, which cookies mean "signed in", and the page-side snippets that read the SDK's own view. Clerk's
browser SDK is the first (:mod:`harness.sdks.clerk`); another SDK is one more module registered in :data:`SDKS`,
selected by a scenario's ``setup.sdk``.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from harness.mock.tokens import TokenIssuer


class SdkAdapter(Protocol):
    name: str
    package: str  # the npm package whose published versions are tested
    session_cookies: tuple[str, ...]  # the cookies that carry the session (the oracles watch these)
    watch_cookies: tuple[str, ...]  # patterns for the page's cookie watcher ("__session_*")
    issuer: TokenIssuer
    init_script: str  # observation injected before page scripts (token attempts)
    loaded_js: str  # true once the SDK has loaded in the page
    sdk_state_js: str  # the SDK's own view: loaded, status, user, session
    clear_token_cache_js: str
    get_token_js: str
    handshake_path: str  # the auth server's handshake endpoint, same-origin (the app backend redirects to it)
    handshake_nonce_param: str  # the query parameter the handshake comes back with

    @property
    def revoked(self) -> bool: ...  # has the server ended the session?

    def routes(self) -> list[web.RouteDef]: ...
    def page_head(self, bundle_url: str) -> str: ...
    def revoke(self) -> None: ...
    def take_handshake(self, nonce: str) -> str | None: ...  # the token a handshake minted ("" = signed out)
    def client_uat(self) -> int: ...  # the auth server's __client_uat for the one client (0 = signed out)


def sdk_for(name: str, **options: Any) -> SdkAdapter:
    """A fresh adapter (its own signing key and session state) for one run."""
    from harness.sdks.clerk import ClerkSdk

    adapters = {"clerk": ClerkSdk}
    return adapters[name](**options)
