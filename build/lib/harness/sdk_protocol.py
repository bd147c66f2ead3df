"""The seam between the generic harness and one auth SDK: what an adapter provides, and where a session lives.

This module sits below both the mock server (:mod:`harness.mock`) and the adapters (:mod:`harness.sdks`): the
server, the driver, the steps and the oracles import these types, never an adapter, so adding an SDK touches no
generic module. It holds no behaviour, only shapes:

* :class:`SessionStore` -- where the browser keeps the session (cookies, or a localStorage entry) and the words the
  sentences use for it. The page probe watches every write to it, the runner cross-checks it against the browser's
  own state after each step, and the oracles count a removal of any of its ``names`` as losing the session.
* :class:`TokenAuthority` -- the server's side of the tokens the mock mints: it verifies a credential the way the
  SDK's server library would, and tells the timeline of every token it mints.
* :class:`SdkAdapter` -- everything else that is SDK-specific (bundle, page, routes, error bodies, page snippets).

Invariant: a removal is judged from timeline events of kind :attr:`SessionStore.event_kind` whose ``name`` is one
of :attr:`SessionStore.names`; the store's state after a step is an event of kind :attr:`SessionStore.state_kind`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal, Protocol, TypeGuard

from aiohttp import web

if TYPE_CHECKING:
    from harness.mock.tokens import TokenCheck, TokenIssuer

StoreKind = Literal["cookie", "localStorage"]


@dataclass(frozen=True)
class SessionStore:
    """Where the browser keeps the session, as the page probe and the oracles see it."""

    kind: StoreKind
    names: tuple[str, ...]  # the entries that carry the session: removing any of them loses it
    watch: tuple[str, ...] = ()  # patterns the page watcher reports ("__session_*"); default: ``names``
    credential: str = "the session token"  # what the app backend reads from each request, for sentences

    @property
    def patterns(self) -> tuple[str, ...]:
        return self.watch or self.names

    @property
    def label(self) -> str:
        return f"`{self.names[0]}`"

    @property
    def where(self) -> str:
        """The browser's own record of the store, as a sentence names it."""
        return "cookie jar" if self.kind == "cookie" else "localStorage"

    @property
    def event_kind(self) -> str:
        """Timeline kind of one observed write (``op`` set/removed, ``name``, ``was_present``)."""
        return "cookie" if self.kind == "cookie" else "storage"

    @property
    def state_kind(self) -> str:
        """Timeline kind of the browser's own state after a step (``present``: the names it holds)."""
        return "cookie.jar" if self.kind == "cookie" else "storage.state"

    @property
    def mismatch_kind(self) -> str:
        """Timeline kind of a disagreement between the watcher and the browser's own state."""
        return "cookie.mismatch" if self.kind == "cookie" else "storage.mismatch"


def cookie_store(names: tuple[str, ...] | list[str], watch: tuple[str, ...] = ()) -> SessionStore:
    """The store of an SDK that keeps its session token in cookies (the app backend reads the first one)."""
    names = tuple(names)
    return SessionStore("cookie", names, watch, credential=f"`{names[0]}`" if names else "session cookie")


class TokenAuthority(Protocol):
    """The mock's side of the SDK's tokens: mints them (telling ``on_mint``) and verifies them as a server would."""

    on_mint: Callable[[str, float], None] | None  # (token id, exact mint time)

    def check(self, token: str | None, *, revoked: bool = False) -> "TokenCheck": ...


class SdkAdapter(Protocol):
    """One auth SDK, as the harness drives it. See docs/writing-an-adapter.md."""

    name: str  # the registry name scenarios use in ``setup.sdk``
    package: str  # the npm package whose published versions are tested
    bundle_file: str  # the browser bundle, relative to the package's dist/
    known_versions: tuple[str, str]  # (a version with the founding bug, one without): the default runs
    seed_scenario: str  # the library scenario id of its founding bug (`harness repro --sdk NAME`)
    session_store: SessionStore
    session_cookies: tuple[str, ...]  # the cookies that carry the session (empty for a localStorage store)
    watch_cookies: tuple[str, ...]  # patterns for the page's cookie watcher ("__session_*")
    page_carries_session: bool  # True: the app page request itself carries the credential (a cookie)
    init_script: str  # observation injected before page scripts (token attempts)
    loaded_js: str  # true once the SDK has loaded in the page
    sdk_state_js: str  # the SDK's own view: loaded, status, user, session
    sign_in_js: str | None  # signs in through the SDK's own API when the page loads signed out (None: no need)
    user_view: str  # how a sentence names the SDK's view of the user ("`Clerk.user`")
    clear_token_cache_js: str
    get_token_js: str

    @property
    def issuer(self) -> TokenAuthority: ...  # read-only: adapters expose their state's issuer

    @property
    def revoked(self) -> bool: ...  # has the server ended the session?

    def routes(self) -> list[web.RouteDef]: ...
    def page_head(self, bundle_url: str) -> str: ...
    def revoke(self) -> None: ...
    def credential(self, request: web.Request) -> str | None: ...  # what the app backend verifies
    def error_body(self, status: int, code: str | None = None) -> dict[str, Any]: ...  # a status fault's body


class HandshakingAdapter(SdkAdapter, Protocol):
    """An SDK whose app backend decides as Clerk's does (``authenticateRequest``): page loads whose token is
    missing, expired or outdated handshake through the auth server (harness/mock/backend.py)."""

    handshake_path: str  # the auth server's handshake endpoint, same-origin (the app backend redirects to it)
    handshake_nonce_param: str  # the query parameter the handshake comes back with

    @property
    def issuer(self) -> TokenIssuer: ...  # the app backend verifies RS256 tokens with its public key

    def take_handshake(self, nonce: str) -> str | None: ...  # the token a handshake minted ("" = signed out)
    def client_uat(self) -> int: ...  # the auth server's __client_uat for the one client (0 = signed out)


def is_handshaking(sdk: SdkAdapter) -> TypeGuard[HandshakingAdapter]:
    """Whether the adapter has a handshake (then the app backend decides as Clerk's does)."""
    return bool(getattr(sdk, "handshake_path", None))
