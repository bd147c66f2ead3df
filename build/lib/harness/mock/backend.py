"""The app's backend: how it decides, from one request's cookies, whether the user is signed in.

Two backends, chosen by a scenario's ``setup.backend``:

- ``clerk`` (the default) decides as ``@clerk/backend``'s ``authenticateRequest`` does -- the function behind
  ``clerkMiddleware`` and every framework SDK -- networklessly (with the instance's public key, as ``jwtKey``). A
  document request whose ``__session`` is missing, expired, not yet valid or older than ``__client_uat``, while
  ``__client_uat`` says the client is signed in, gets a **handshake** (a 307 through the Frontend API, which mints a
  fresh token while the session lives); any other request gets signed-in or signed-out for the same reasons. This is
  a Python port; ``tests/test_backend_vs_clerk.py`` runs the real ``@clerk/backend`` from npm on the same requests
  and requires the same decisions, so the port cannot drift from it silently.
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

import jwt

from harness.mock.tokens import ISSUER, TokenIssuer, peek

Outcome = Literal["signed-in", "handshake", "signed-out"]
BackendName = Literal["clerk", "jwt"]
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
    def from_headers(cls, method: str, headers: Any, cookies: Any, session_cookie: str) -> "RequestFacts":
        count = cookies.get("__clerk_redirect_count", "")
        return cls(method=method, sec_fetch_dest=headers.get("Sec-Fetch-Dest"), accept=headers.get("Accept"),
                   session_token=cookies.get(session_cookie) or None, client_uat=cookies.get("__client_uat"),
                   redirect_count=int(count) if count.isdigit() else 0)


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


class AppBackend(Protocol):
    name: BackendName
    description: str  # said in every result

    def decide(self, facts: RequestFacts) -> Decision: ...


def verify_token(issuer: TokenIssuer, token: str, *, skew: float, now: float) -> tuple[str, dict[str, Any] | None]:
    """The token's state, checked in ``verifyJwt``'s order: decode, signature, then exp, nbf, iat (with ``skew``)."""
    claims = peek(token)
    if claims is None:
        return "malformed", None
    try:
        jwt.decode(token, issuer.public_key, algorithms=["RS256"], issuer=ISSUER,
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

    def __init__(self, issuer: TokenIssuer, clock: Callable[[], float] = time.time) -> None:
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

    def __init__(self, issuer: TokenIssuer, revoked: Callable[[], bool]) -> None:
        self.issuer = issuer
        self._revoked = revoked

    def decide(self, facts: RequestFacts) -> Decision:
        check = self.issuer.check(facts.session_token, revoked=self._revoked())
        return Decision("signed-in" if check.valid else "signed-out", check.reason, check.reason, check.claims)


BACKENDS: dict[str, str] = {"clerk": ClerkBackend.description, "jwt": JwtBackend.description}


def backend_for(name: str, issuer: TokenIssuer, revoked: Callable[[], bool]) -> AppBackend:
    if name == "jwt":
        return JwtBackend(issuer, revoked)
    return ClerkBackend(issuer)
