"""Session JWTs the mock mints and verifies: an RS256 issuer with a key of its own per run, and token peeking.

Signed RS256 with a key made for each run, so a token from one run never verifies in another, and verified the way
a server-side SDK verifies a session token (issuer, signature, expiry, not-before). The browser SDK never checks
signatures; the server does, and the server is what decides whether the user still looks signed in.

:class:`TokenIssuer` mints the claims every session JWT carries (``sub``, ``sid``, ``iat``, ``nbf``, ``exp``,
``iss``, ``azp``, ``jti``); an adapter whose SDK reads more (a header, a category, a version claim) subclasses it
and adds them in :meth:`TokenIssuer.extra_claims` / :meth:`TokenIssuer.extra_headers`, in its own package
(``harness/sdks/<sdk>/tokens.py``). A token can be minted ahead for the request being served
(:meth:`TokenIssuer.pin`): a slow answer then carries the token minted when its request arrived, not a newer one.
"""

from __future__ import annotations

import contextvars
import itertools
import time
from typing import Any, Callable

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.sdk_protocol import TokenCheck  # declared with the protocol that returns it; imported from here too

ISSUER = "https://auth.mock.test"  # an issuer of the adapter's own replaces it (``TokenIssuer.issuer_url``)
KEY_ID = "mock"
# The token minted ahead for the request this asyncio task serves (each request runs in its own task).
_PINNED: contextvars.ContextVar[str | None] = contextvars.ContextVar("pinned_token", default=None)


class TokenIssuer:
    """Mints and verifies session tokens for one run."""

    issuer_url = ISSUER  # the ``iss`` claim, checked on verification
    key_id = KEY_ID  # the ``kid`` header

    def __init__(self, *, user_id: str, session_id: str, ttl: float, clock=time.time) -> None:
        self.user_id = user_id
        self.session_id = session_id
        self.ttl = ttl
        self.clock = clock  # the auth server's wall clock (harness/clock.py): iat, nbf, exp and the default check
        # 2048-bit keys take ~50 ms to make; one per run keeps runs independent.
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public = self._key.public_key()
        self._serial = itertools.count(1)
        # Told of every token minted, with its id and the exact time: ``iat`` is whole seconds, too coarse to say
        # whether a token written back after a removal was minted before or after it.
        self.on_mint: Callable[[str, float], None] | None = None

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def public_pem(self) -> str:
        """The verification key as a server library takes it (PEM, SubjectPublicKeyInfo)."""
        from cryptography.hazmat.primitives import serialization

        return self._public.public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def pin(self, azp: str = "http://127.0.0.1") -> None:
        """Mint a token now and have the next :meth:`mint` in this request's task return it (a ``hold``/``delay``
        with ``token: arrival``)."""
        _PINNED.set(self._mint(azp))

    def mint(self, azp: str = "http://127.0.0.1") -> str:
        pinned = _PINNED.get()
        if pinned is not None:
            _PINNED.set(None)
            return pinned
        return self._mint(azp)

    def _mint(self, azp: str) -> str:
        minted_at = self.clock()
        now = int(minted_at)
        jti = f"tok_{next(self._serial)}"
        claims = {"sub": self.user_id, "sid": self.session_id, "iat": now, "nbf": now - 10,
                  "exp": now + int(self.ttl), "iss": self.issuer_url, "azp": azp, **self.extra_claims(now), "jti": jti}
        token = jwt.encode(claims, self._key, algorithm="RS256",
                           headers={"kid": self.key_id, "typ": "JWT", **self.extra_headers(now)})
        if self.on_mint is not None:
            self.on_mint(jti, minted_at)
        return token

    def extra_claims(self, now: int) -> dict[str, Any]:
        """Claims the SDK's real server adds to a token minted at ``now`` (none here)."""
        return {}

    def extra_headers(self, now: int) -> dict[str, Any]:
        """JWT headers the SDK's real server adds (none here)."""
        return {}

    def check(self, token: str | None, *, revoked: bool = False, now: float | None = None) -> TokenCheck:
        """Verify ``token`` as a server does, with no leeway, at ``now`` on the checker's wall clock (default: this
        issuer's own; an app backend passes its own clock's reading)."""
        if not token:
            return TokenCheck(False, "absent")
        try:
            # Times are checked below on the checker's clock, not PyJWT's wall clock (harness/clock.py).
            claims = jwt.decode(token, self._public, algorithms=["RS256"], issuer=self.issuer_url,
                                options={"require": ["exp", "iat", "sid", "sub"], "verify_exp": False,
                                         "verify_nbf": False, "verify_iat": False})
        except jwt.InvalidSignatureError:
            return TokenCheck(False, "bad-signature", peek(token))
        except jwt.PyJWTError:
            return TokenCheck(False, "malformed")
        at = self.clock() if now is None else now
        if not isinstance(claims["exp"], (int, float)) or claims["exp"] <= at:  # PyJWT's rule, leeway 0
            return TokenCheck(False, "expired", claims)
        nbf, iat = claims.get("nbf"), claims["iat"]
        if (isinstance(nbf, (int, float)) and nbf > at) or (isinstance(iat, (int, float)) and iat > at):
            return TokenCheck(False, "not-yet-valid", claims)
        if revoked or claims.get("sid") != self.session_id:
            return TokenCheck(False, "revoked", claims)
        return TokenCheck(True, "ok", claims)


def peek_header(token: str | None) -> dict[str, Any] | None:
    """The JWT header without checking anything (for a token's ``oiat``)."""
    if not token:
        return None
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None


def peek(token: str | None) -> dict[str, Any] | None:
    """The claims of a JWT without checking anything (for labelling a stored token by its iat/exp)."""
    if not token:
        return None
    try:
        return jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError:
        return None
