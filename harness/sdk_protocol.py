"""The seam between the generic harness and one auth SDK: what an adapter provides, and where a session lives.

This module sits below both the mock server (:mod:`harness.mock`) and the adapters (:mod:`harness.sdks`): the
server, the driver, the steps and the oracles import these types, never an adapter, so adding an SDK touches no
generic module. It holds no behaviour, only shapes:

* :class:`SessionStore` -- where the browser keeps the session (cookies, a localStorage entry, or a record in an
  IndexedDB object store) and the words the
  sentences use for it. The page probe watches every write to it, the runner cross-checks it against the browser's
  own state after each step, and the oracles count a removal of any of its ``names`` as losing the session.
* :class:`TokenAuthority` -- the server's side of the tokens the mock mints: it verifies a credential the way the
  SDK's server library would, and tells the timeline of every token it mints.
* :class:`AppBackend` -- the app's own server as an app on this SDK has it: for each page load and API call, its
  view of the user (:class:`BackendAnswer`), and how it answers (a redirect, cookies it sets). The mock server
  records the view and sends the answer; what the backend decides is the adapter's, in its own package (a port of
  the SDK's server library, with a handshake if it has one; or :class:`harness.mock.backend.CredentialBackend`).
* :class:`SdkAdapter` -- everything else that is SDK-specific (bundle, page, routes and their names for faults, error
  bodies, page snippets).

Invariants: a removal is judged from timeline events of kind :attr:`SessionStore.event_kind` whose ``name`` is one
of :attr:`SessionStore.names`; the store's state after a step is an event of kind :attr:`SessionStore.state_kind`.
Every ``server.view`` on the timeline is a :attr:`BackendAnswer.view`, and every session cookie the app backend sets
is a :class:`CookieWrite` the server records (the page's watcher cannot see a ``Set-Cookie``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping, Protocol, runtime_checkable

from aiohttp import web

StoreKind = Literal["cookie", "localStorage", "indexedDB"]


@dataclass(frozen=True)
class SessionStore:
    """Where the browser keeps the session, as the page probe and the oracles see it."""

    kind: StoreKind
    names: tuple[str, ...]  # the entries that carry the session: removing any of them loses it
    watch: tuple[str, ...] = ()  # patterns the page watcher reports ("__session_*"); default: ``names``
    credential: str = "the session token"  # what the app backend reads from each request, for sentences
    # localStorage only: the record's field that renews the session (gotrue-js: "refresh_token"). The watcher then
    # reports a fingerprint of it with each write, and `token-moves-forward` forgives an older access token written
    # back with the same renewal (the SDK reads the record back and refreshes by its expiry: no session is lost).
    renews_with: str | None = None  # a dotted path for a nested field ("stsTokenManager.refreshToken")
    # indexedDB only: (database, object store) whose records, keyed by ``names``, hold the session.
    place: tuple[str, str] | None = None
    # Storage only: the dotted path to the record's token that stands for a write (default: its access_token).
    identity: str | None = None

    @property
    def patterns(self) -> tuple[str, ...]:
        return self.watch or self.names

    @property
    def label(self) -> str:
        return f"`{self.names[0]}`"

    @property
    def where(self) -> str:
        """The browser's own record of the store, as a sentence names it."""
        if self.kind == "indexedDB" and self.place:
            return f"IndexedDB ({self.place[0]}/{self.place[1]})"
        return "cookie jar" if self.kind == "cookie" else self.kind

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


@dataclass(frozen=True)
class TokenCheck:
    """What the app backend concluded from a session token."""

    valid: bool
    reason: str  # "ok" | "absent" | "expired" | "bad-signature" | "malformed" | "not-yet-valid" | "revoked"
    claims: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"valid": self.valid, "reason": self.reason}
        if self.claims:
            out["iat"] = self.claims.get("iat")
            out["exp"] = self.claims.get("exp")
            out["sid"] = self.claims.get("sid")
        return out


class TokenAuthority(Protocol):
    """The mock's side of the SDK's tokens: mints them (telling ``on_mint``) and verifies them as a server would."""

    on_mint: Callable[[str, float], None] | None  # (token id, exact mint time)

    def check(self, token: str | None, *, revoked: bool = False) -> TokenCheck: ...


class ClockedAuthority(TokenAuthority, Protocol):
    """A token authority whose checks can be made on another party's wall clock (the app backend's)."""

    def check(self, token: str | None, *, revoked: bool = False, now: float | None = None) -> "TokenCheck": ...


@runtime_checkable
class ClockedAdapter(Protocol):
    """An adapter whose mock reads the run's clocks (harness/clock.py), so the ``clock`` step can set the auth
    server's and the app backend's wall clocks apart. Optional: a scenario setting them on an adapter without it is
    refused when it is loaded. ``set_clocks`` is called once, before the adapter's app backend is made."""

    def set_clocks(self, auth: Callable[[], float], backend: Callable[[], float]) -> None: ...


@dataclass(frozen=True)
class CookieWrite:
    """A ``Set-Cookie`` the app backend sends with a page (``value`` None: the cookie is removed)."""

    name: str
    value: str | None
    max_age: int | None = None


@dataclass(frozen=True)
class BackendAnswer:
    """The app backend's answer to one request."""

    view: dict[str, Any] | None  # its view (``server.view``: path, backend, document, signed_in, reason, ...);
    #                              None: the request carried no credential to judge (the page asks the SDK)
    redirect: web.StreamResponse | None = None  # sent instead of the page (a handshake's 307)
    status: int = 200  # an API call's status
    set_cookies: tuple[CookieWrite, ...] = ()  # set on the page answer


class AppBackend(Protocol):
    """The app's own server: decides each page load and API call (see :class:`BackendAnswer`)."""

    name: str  # as ``setup.backend`` names it
    description: str  # said in every result
    note: str  # added to every verdict sentence made with it ("" for none): e.g. that it was a strict check

    def page(self, request: web.Request) -> BackendAnswer: ...
    def api(self, request: web.Request) -> BackendAnswer: ...


class SdkAdapter(Protocol):
    """One auth SDK, as the harness drives it. See docs/writing-an-adapter.md."""

    name: str  # the registry name scenarios use in ``setup.sdk``
    package: str  # the npm package whose published versions are tested
    bundle_file: str  # the browser bundle, relative to the package's dist/ (its root if it ships no dist/)
    known_versions: tuple[str, str]  # (a version with the founding bug, one without): the default runs
    seed_scenario: str  # the library scenario id of its founding bug (`harness repro --sdk NAME`)
    session_store: SessionStore
    session_cookies: tuple[str, ...]  # the cookies that carry the session (empty for a localStorage store)
    watch_cookies: tuple[str, ...]  # patterns for the page's cookie watcher ("name_*")
    page_carries_session: bool  # True: the app page request itself carries the credential (a cookie)
    init_script: str  # observation injected before page scripts (token attempts)
    loaded_js: str  # true once the SDK has loaded in the page
    sdk_state_js: str  # the SDK's own view: loaded, status, user, session
    sign_in_js: str | None  # signs in through the SDK's own API when the page loads signed out (None: no need)
    user_view: str  # how a sentence names the SDK's view of the user ("`getSession().session.user`")
    # The SDK's requests by name, as scenarios' faults pick them (``on: token``) -> a glob on the request path. Every
    # adapter names at least ``token`` (its token request: what a fault without path or on takes).
    request_paths: Mapping[str, str]
    pins_tokens: bool  # the mock can mint a token as a request arrives and answer with it later (token: arrival)
    clear_token_cache_js: str
    get_token_js: str
    client_read_path: str | None  # the GET the SDK loads its client state with (a path suffix); None: none
    token_cache: bool  # the SDK caches tokens, so ``clear_token_cache`` makes a refresh due (False: it refuses)
    serve_token_ttl: float  # the token lifetime `harness serve` starts with: a refresh comes due within a session
    backends: tuple[str, ...]  # the app backends ``setup.backend`` may choose; the first is the default

    @property
    def issuer(self) -> TokenAuthority: ...  # read-only: adapters expose their state's issuer

    @property
    def revoked(self) -> bool: ...  # has the server ended the session?

    def routes(self) -> list[web.RouteDef]: ...
    def page_head(self, bundle_url: str) -> str: ...
    def revoke(self) -> None: ...
    def credential(self, request: web.Request) -> str | None: ...  # what the app backend verifies
    def error_body(self, status: int, code: str | None = None) -> dict[str, Any]: ...  # a status fault's body
    def app_backend(self, name: str) -> AppBackend: ...  # one of ``backends``, fresh for a run
