"""Clerk's app backend: how a Clerk app's server decides, from one request's cookies, whether the user is signed in.

The Clerk adapter's answer to :meth:`harness.sdk_protocol.SdkAdapter.app_backend`; the generic mock server asks for
it and never imports this module. Two backends, chosen by a scenario's ``setup.backend``:

- ``clerk`` (the default) decides as ``@clerk/backend``'s ``authenticateRequest`` does -- the function behind
  ``clerkMiddleware`` and every framework SDK -- networklessly (with the instance's public key, as ``jwtKey``). A
  document request whose ``__session`` is missing, expired, not yet valid or older than ``__client_uat``, while
  ``__client_uat`` says the client is signed in, gets a **handshake** (a 307 through the Frontend API, which mints a
  fresh token while the session lives); any other request gets signed-in or signed-out for the same reasons. When
  the browser comes back from the handshake with its nonce, the page answer sets the cookies the handshake minted
  (``resolveHandshake``). This is a Python port; ``tests/test_backend.py`` runs the real ``@clerk/backend`` from npm
  on the same requests and requires the same decisions, so the port cannot drift from it silently.
- ``jwt`` is the strict check a hand-written API server makes: a valid, unexpired ``__session`` of a live session,
  else signed out. No handshake, no ``__client_uat``, no clock skew.

Invariants: a decision depends only on the request's facts and the clock (and, for ``jwt``, the server's knowledge
of a revocation; a networkless Clerk backend cannot know one until the token expires). Which cookies are read: the
unsuffixed ``__session`` and ``__client_uat`` (``authenticateRequest`` does the same while no suffixed
``__client_uat`` exists, and the mock's Frontend API sets only the unsuffixed one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Literal, Protocol
from urllib.parse import urlencode

import jwt
from aiohttp import web

from harness.mock.tokens import peek
from harness.sdk_protocol import BackendAnswer, CookieWrite
from harness.sdks.clerk.fapi import CLIENT_UAT_COOKIE, CLIENT_UAT_MAX_AGE, HANDSHAKE_NONCE, PROXY_PATH, ClerkState
from harness.sdks.clerk.tokens import ClerkTokenIssuer

Outcome = Literal["signed-in", "handshake", "signed-out"]
BackendName = Literal["clerk", "jwt"]
SESSION_COOKIE = "__session"  # the unsuffixed session cookie: what the backend reads and, after a handshake, sets
REDIRECT_COUNT_COOKIE = "__clerk_redirect_count"
HANDSHAKE_PATH = PROXY_PATH + "/v1/client/handshake"  # through the same-origin Frontend API proxy
# authenticateRequest's DEFAULT_CLOCK_SKEW_IN_MS
CLERK_CLOCK_SKEW = 5.0
# HandshakeService.checkAndTrackRedirectLoop: the third handshake in a row (within 2 s each) is a loop.
REDIRECT_LOOP_LIMIT = 3


@dataclass(frozen=True)
class RequestFacts:
    """What a backend reads from one request."""

    method: str = "GET"
    sec_fetch_dest: str | None = None
    accept: str | None = None
    session_token: str | None = None
    client_uat: str | None = None  # the raw cookie value; None: no cookie
    redirect_count: int = 0  # the ``__clerk_redirect_count`` cookie

    @property
    def is_document(self) -> bool:
        """``HandshakeService.isRequestEligibleForHandshake``: a GET that is probably a page, not a fetch."""
        if self.method.upper() != "GET":
            return False
        if self.sec_fetch_dest in ("document", "iframe"):
            return True
        return not self.sec_fetch_dest and (self.accept or "").startswith("text/html")

    @classmethod
    def from_headers(cls, method: str, headers: Any, cookies: Any, session_cookie: str = SESSION_COOKIE
                     ) -> "RequestFacts":
        count = cookies.get(REDIRECT_COUNT_COOKIE, "")
        return cls(method=method, sec_fetch_dest=headers.get("Sec-Fetch-Dest"), accept=headers.get("Accept"),
                   session_token=cookies.get(session_cookie) or None, client_uat=cookies.get(CLIENT_UAT_COOKIE),
                   redirect_count=int(count) if count.isdigit() else 0)

    @classmethod
    def of(cls, request: web.Request) -> "RequestFacts":
        return cls.from_headers(request.method, request.headers, request.cookies)


@dataclass(frozen=True)
class Decision:
    """A backend's answer to one request."""

    outcome: Outcome
    reason: str  # Clerk's reason (``session-token-expired``, ...) or ``ok``; for ``jwt`` the token's state
    token: str  # the token's own state: absent | ok | expired | not-yet-valid | iat-in-the-future | bad-signature
    #             | malformed | revoked
    claims: dict[str, Any] | None = None

    @property
    def signed_in(self) -> bool:
        return self.outcome == "signed-in"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"decision": self.outcome, "reason": self.reason, "token": self.token}
        if self.claims:
            out.update(iat=self.claims.get("iat"), exp=self.claims.get("exp"), sid=self.claims.get("sid"))
        return out


class Decider(Protocol):
    """How one backend decides a request from its facts (``clerk`` or ``jwt``)."""

    name: BackendName
    description: str  # said in every result
    note: str  # added to every verdict sentence made with it ("" for none)

    def decide(self, facts: RequestFacts) -> Decision: ...


def verify_token(issuer: ClerkTokenIssuer, token: str, *, skew: float, now: float) -> tuple[str, dict[str, Any] | None]:
    """The token's state, checked in ``verifyJwt``'s order: decode, signature, then exp, nbf, iat (with ``skew``)."""
    claims = peek(token)
    if claims is None:
        return "malformed", None
    try:
        jwt.decode(token, issuer.public_key, algorithms=["RS256"], issuer=issuer.issuer_url,
                   options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "require": ["sub"]})
    except jwt.InvalidSignatureError:
        return "bad-signature", claims
    except jwt.PyJWTError:
        return "malformed", claims
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if not isinstance(exp, (int, float)) or exp <= now - skew:
        return "expired", claims
    if isinstance(nbf, (int, float)) and nbf > now + skew:
        return "not-yet-valid", claims
    if isinstance(iat, (int, float)) and iat > now + skew:
        return "iat-in-the-future", claims
    return "ok", claims


# The token states authenticateRequest answers with a handshake, and the reason it names.
_HANDSHAKE_REASONS = {"expired": "session-token-expired", "not-yet-valid": "session-token-nbf",
                      "iat-in-the-future": "session-token-iat-in-the-future"}
# The states it answers signed-out, and its reason (TokenVerificationErrorReason strings).
_SIGNED_OUT_REASONS = {"bad-signature": "token-invalid-signature", "malformed": "token-invalid"}


class ClerkBackend:
    """``authenticateRequest`` for a production instance, session token in a cookie, no satellite domains."""

    name: BackendName = "clerk"
    description = "clerk (decides as @clerk/backend authenticateRequest: handshake on page loads)"
    note = ""

    def __init__(self, issuer: ClerkTokenIssuer, clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer
        self._clock = clock

    def decide(self, facts: RequestFacts) -> Decision:
        try:
            client_uat = int(facts.client_uat or "")
        except ValueError:
            client_uat = 0  # Number.parseInt(...) || 0
        token = facts.session_token
        if not client_uat and not token:
            return Decision("signed-out", "session-token-and-uat-missing", "absent")
        if not token:
            return self._maybe_handshake(facts, "client-uat-but-no-session-token", "absent", None)
        state, claims = verify_token(self.issuer, token, skew=CLERK_CLOCK_SKEW, now=self._clock())
        if not client_uat:
            return self._maybe_handshake(facts, "session-token-but-no-client-uat", state, claims)
        if claims is None:
            return Decision("signed-out", "token-invalid", state)
        if isinstance(claims.get("iat"), (int, float)) and claims["iat"] < client_uat:
            # Compared before the signature is checked, as authenticateRequest does.
            return self._maybe_handshake(facts, "session-token-iat-before-client-uat", state, claims)
        if state == "ok":
            return Decision("signed-in", "ok", state, claims)
        if state in _HANDSHAKE_REASONS:
            reason = _HANDSHAKE_REASONS[state]
            if state == "expired":  # it names why it did not refresh the token itself (no refresh-token cookie)
                refresh = "non-eligible-non-get" if facts.method.upper() != "GET" else "non-eligible-no-refresh-cookie"
                reason = f"{reason}-refresh-{refresh}"
            return self._maybe_handshake(facts, reason, state, claims)
        return Decision("signed-out", _SIGNED_OUT_REASONS.get(state, "token-invalid"), state, claims)

    @staticmethod
    def _maybe_handshake(facts: RequestFacts, reason: str, state: str, claims: dict[str, Any] | None) -> Decision:
        """``handleMaybeHandshakeStatus``: only documents handshake, and not a third time in a row."""
        if not facts.is_document or facts.redirect_count >= REDIRECT_LOOP_LIMIT:
            return Decision("signed-out", reason, state, claims)
        return Decision("handshake", reason, state, claims)


class JwtBackend:
    """The strict networkless check of a hand-written API server: valid signature, unexpired, session alive."""

    name: BackendName = "jwt"
    description = "jwt (strict: a valid unexpired __session or signed out; no handshake)"
    note = "backend: jwt, the strict check: an expired token is signed out, no handshake"

    def __init__(self, issuer: ClerkTokenIssuer, revoked: Callable[[], bool],
                 clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer
        self._revoked = revoked
        self._clock = clock  # the app server's wall clock

    def decide(self, facts: RequestFacts) -> Decision:
        check = self.issuer.check(facts.session_token, revoked=self._revoked(), now=self._clock())
        return Decision("signed-in" if check.valid else "signed-out", check.reason, check.reason, check.claims)


BACKENDS: dict[str, str] = {"clerk": ClerkBackend.description, "jwt": JwtBackend.description}


def decider_for(name: str, issuer: ClerkTokenIssuer, revoked: Callable[[], bool],
                clock: Callable[[], float] = time.time) -> Decider:
    """The backend ``name`` decides on ``clock``, the app server's own wall clock (harness/clock.py)."""
    if name == "jwt":
        return JwtBackend(issuer, revoked, clock)
    return ClerkBackend(issuer, clock)


# -- the app's server: page loads (with the handshake) and API calls ------------------------------------------------

class ClerkAppBackend:
    """A Clerk app's server (:class:`harness.sdk_protocol.AppBackend`): each request decided by a :class:`Decider`;
    a page load that must handshake is a 307 through the Frontend API, and the load that comes back with the nonce
    gets the cookies the handshake minted."""

    def __init__(self, decider: Decider, state: ClerkState, clock: Callable[[], float] = time.time) -> None:
        self.decider = decider
        self.state = state
        self._clock = clock  # the app server's wall clock: the handshake's token is checked on it too
        self.name: str = decider.name
        self.description = decider.description
        self.note = decider.note

    def page(self, request: web.Request) -> BackendAnswer:
        facts = RequestFacts.of(request)
        resolved = self._resolve_handshake(request)
        decision = resolved[0] if resolved else self.decider.decide(facts)
        view = self._view(request, decision, facts, after_handshake=resolved is not None)
        if decision.outcome == "handshake":
            return BackendAnswer(view, redirect=self._handshake(request, decision, facts))
        if resolved is None:
            return BackendAnswer(view)
        # The backend's Set-Cookie after a handshake: __client_uat, then the minted __session ("" = signed out).
        return BackendAnswer(view, set_cookies=(
            CookieWrite(CLIENT_UAT_COOKIE, str(self.state.client_uat), max_age=CLIENT_UAT_MAX_AGE),
            CookieWrite(SESSION_COOKIE, resolved[1] or None)))

    def api(self, request: web.Request) -> BackendAnswer:
        """The same decision, but an API route never handshakes: not signed in is a 401."""
        facts = RequestFacts.of(request)
        decision = self.decider.decide(facts)
        return BackendAnswer(self._view(request, decision, facts), status=200 if decision.signed_in else 401)

    def _view(self, request: web.Request, decision: Decision, facts: RequestFacts, after_handshake: bool = False
              ) -> dict[str, Any]:
        """The app backend's verdict on this request, as the timeline's ``server.view`` records it."""
        return {"path": request.path, "backend": self.name, "document": facts.is_document,
                "signed_in": decision.signed_in, "valid": decision.token == "ok", **decision.to_dict(),
                **({"after_handshake": True} if after_handshake else {})}

    def _resolve_handshake(self, request: web.Request) -> tuple[Decision, str] | None:
        """``resolveHandshake``: a page load coming back from the Frontend API with a nonce gets the cookies the
        handshake minted; an unknown or used nonce is ignored (the request is then judged by its cookies)."""
        nonce = request.query.get(HANDSHAKE_NONCE)
        if self.decider.name != "clerk" or not nonce:
            return None
        token = self.state.take_handshake(nonce)
        if token is None:
            return None
        if token == "":
            return Decision("signed-out", "session-token-missing", "absent"), token
        state, claims = verify_token(self.state.issuer, token, skew=CLERK_CLOCK_SKEW, now=self._clock())
        return Decision("signed-in" if state == "ok" else "signed-out", "ok" if state == "ok" else state,
                        state, claims), token

    @staticmethod
    def _handshake(request: web.Request, decision: Decision, facts: RequestFacts) -> web.Response:
        """``buildRedirectToHandshake``: a 307 through the same-origin Frontend API proxy, not cached, counted."""
        params = {"redirect_url": str(request.url), "__clerk_api_version": "2026-05-12",
                  "suffixed_cookies": "false", "__clerk_hs_reason": decision.reason, "format": "nonce"}
        if facts.session_token:
            params["__session"] = facts.session_token  # the token it had, for the Frontend API to see
        response = web.Response(status=307, headers={"Location": f"{HANDSHAKE_PATH}?{urlencode(params)}",
                                                     "Cache-Control": "no-store"})
        response.set_cookie(REDIRECT_COUNT_COOKIE, str(facts.redirect_count + 1), max_age=2, httponly=True,
                            samesite="Lax")
        return response

