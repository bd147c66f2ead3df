"""The subset of Firebase Auth's REST surface that the ``firebase`` JS SDK (9.x-12.x) uses for one email/password
user, as the Auth emulator exposes it: ``<emulator url>/<google host>/<path>?key=<apiKey>``.

Shapes follow the real service, as the SDK reads them:

* ``POST /identitytoolkit.googleapis.com/v1/accounts:signInWithPassword`` (``{email, password,
  returnSecureToken}``) answers ``{kind, localId, email, displayName, idToken, registered, refreshToken,
  expiresIn}``;
* ``POST /identitytoolkit.googleapis.com/v1/accounts:lookup`` (``{idToken}``) answers ``{kind, users: [{localId,
  email, emailVerified, passwordHash, providerUserInfo, createdAt, lastLoginAt, ...}]}`` -- what the SDK's start-up
  ``reload`` asks, and the request the bugs of firebase-js-sdk#7118 and #5874 turn on;
* ``POST /securetoken.googleapis.com/v1/token`` (form ``grant_type=refresh_token&refresh_token=...``) answers
  ``{access_token, expires_in, token_type, refresh_token, id_token, user_id, project_id}``. Firebase refresh tokens
  do not rotate: the same one comes back.
* Errors are Google's shape ``{"error": {"code", "message", "errors": [...], "status"}}``, ``message`` being the
  code the SDK maps (``USER_DISABLED`` -> ``auth/user-disabled``, ``USER_NOT_FOUND``, ``TOKEN_EXPIRED`` ->
  ``auth/user-token-expired``, ``INVALID_ID_TOKEN``, ``INVALID_REFRESH_TOKEN``); a request without the project's API
  key is ``400 API key not valid``.

ID tokens are RS256 JWTs with a ``kid`` header, signed with the project's key, claims as Firebase mints them:
``iss`` ``https://securetoken.google.com/<project>``, ``aud`` the project id, ``auth_time``, ``user_id``, ``sub``,
``iat``, ``exp``, ``email``, ``email_verified``, ``firebase: {identities, sign_in_provider}``. The client reads them
without checking the signature; :meth:`FirebaseAuthState.check` verifies one as the Admin SDK's ``verifyIdToken(token,
checkRevoked=true)`` does: RS256 with a known ``kid``, audience, issuer, a non-empty ``sub`` of at most 128
characters, ``iat`` and ``auth_time`` not in the future, ``exp`` in the future, then the user: not disabled, not
deleted, and the token not older than the user's ``tokensValidAfterTime``.

The server ends the session (``revoke``) as a console administrator would: by disabling the user, so every lookup and
refresh answers ``USER_DISABLED`` from then on (or, chosen by ``end_how``, by deleting the user or revoking its
refresh tokens).
"""

from __future__ import annotations

import itertools
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.mock.tokens import TokenCheck

IDENTITY = "/identitytoolkit.googleapis.com/v1"
SECURETOKEN = "/securetoken.googleapis.com/v1"
EMAIL = "mock@example.test"
PASSWORD = "mock-password"
PROJECT_ID = "harness-mock"
# A Web API key's shape (39 characters, "AIza" prefix); the SDK names its storage key with it.
API_KEY = "AIzaSyHarnessMockKey0000000000000000000"
EndHow = Literal["disabled", "deleted", "tokens-revoked"]
# Google's canonical status names, for a status fault's body.
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 501: "NOT_IMPLEMENTED",
                503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


@dataclass
class FirebaseAuthState:
    """The server's truth: the project's signing key, the one user, and its refresh tokens."""

    ttl: float
    clock: Callable[[], float] = time.time
    uid: str = field(default_factory=lambda: uuid.uuid4().hex[:28])
    kid: str = field(default_factory=lambda: secrets.token_hex(20))
    created_at: float = field(default_factory=lambda: time.time() - 3600)
    disabled: bool = False
    deleted: bool = False
    tokens_valid_after: float = 0.0  # revokeRefreshTokens moves it: older tokens and all refresh tokens stop
    refresh_tokens: set[str] = field(default_factory=set)
    last_login: float | None = None
    on_mint: Callable[[str, float], None] | None = None
    _key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537,
                                                                                    key_size=2048))
    _serial: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def public_pem(self) -> bytes:
        return self._key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def revoked(self) -> bool:
        return self.disabled or self.deleted or self.tokens_valid_after > 0

    def end(self, how: EndHow = "disabled") -> None:
        """The server ends the session: the user disabled (the default), deleted, or its tokens revoked."""
        if how == "disabled":
            self.disabled = True
        elif how == "deleted":
            self.deleted = True
        else:
            self.tokens_valid_after = self.clock()
            self.refresh_tokens.clear()

    # -- minting -------------------------------------------------------------------------------------------------

    def id_token(self, auth_time: int) -> str:
        minted_at = self.clock()
        now = int(minted_at)
        claims = {"iss": f"https://securetoken.google.com/{PROJECT_ID}", "aud": PROJECT_ID, "auth_time": auth_time,
                  "user_id": self.uid, "sub": self.uid, "iat": now, "exp": now + int(self.ttl), "email": EMAIL,
                  "email_verified": False,
                  "firebase": {"identities": {"email": [EMAIL]}, "sign_in_provider": "password"}}
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})
        if self.on_mint is not None:
            self.on_mint(f"id_{next(self._serial)}", minted_at)
        return token

    def user_record(self) -> dict[str, Any]:
        created = str(int(self.created_at * 1000))
        login = str(int((self.last_login or self.created_at) * 1000))
        return {"localId": self.uid, "email": EMAIL, "emailVerified": False, "passwordHash": "UkVEQUNURUQ=",
                "passwordUpdatedAt": int(self.created_at * 1000),
                "providerUserInfo": [{"providerId": "password", "federatedId": EMAIL, "email": EMAIL,
                                      "rawId": EMAIL}],
                "validSince": str(int(self.tokens_valid_after or self.created_at)), "lastLoginAt": login,
                "createdAt": created, "lastRefreshAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                                                                      time.gmtime(self.clock()))}

    # -- verifying (accounts:lookup and the app backend) -----------------------------------------------------------

    def decode(self, token: str | None) -> tuple[dict[str, Any] | None, str]:
        """The token's claims if its signature, kid, audience and issuer hold (expiry not checked), and why not."""
        if not token:
            return None, "absent"
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256" or header.get("kid") != self.kid:
                return _peek(token), "bad-signature"
            claims = jwt.decode(token, self.public_pem, algorithms=["RS256"], audience=PROJECT_ID,
                                issuer=f"https://securetoken.google.com/{PROJECT_ID}",
                                options={"require": ["exp", "iat", "sub", "auth_time"], "verify_exp": False,
                                         "verify_iat": False})
        except jwt.InvalidSignatureError:
            return _peek(token), "bad-signature"
        except jwt.PyJWTError:
            return None, "malformed"
        if not isinstance(claims.get("sub"), str) or not claims["sub"] or len(claims["sub"]) > 128:
            return None, "malformed"
        return claims, "ok"

    def check(self, token: str | None, *, revoked: bool = False) -> TokenCheck:
        """Admin SDK ``verifyIdToken(token, checkRevoked=true)``."""
        claims, why = self.decode(token)
        if claims is None or why != "ok":
            return TokenCheck(False, why, claims)
        now = self.clock()
        if int(claims["iat"]) > now or int(claims["auth_time"]) > now:
            return TokenCheck(False, "not-yet-valid", claims)
        if int(claims["exp"]) <= now:
            return TokenCheck(False, "expired", claims)
        if revoked or claims["sub"] != self.uid or self.deleted or self.disabled \
                or int(claims["auth_time"]) < int(self.tokens_valid_after):
            return TokenCheck(False, "revoked", claims)
        return TokenCheck(True, "ok", claims)


def _peek(token: str) -> dict[str, Any] | None:
    try:
        return jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError:
        return None


def error_body(status: int, code: str | None = None) -> dict[str, Any]:
    """Google's error shape; ``message`` is what the SDK maps to its ``auth/...`` code."""
    message = code or STATUS_NAMES.get(status, "INTERNAL")
    return {"error": {"code": status, "message": message,
                      "errors": [{"message": message, "domain": "global", "reason": "invalid" if status < 500
                                  else "backendError"}],
                      "status": STATUS_NAMES.get(status, "UNKNOWN")}}


def error(status: int, message: str) -> web.Response:
    return web.json_response(error_body(status, message), status=status)


def routes(state: FirebaseAuthState) -> list[web.RouteDef]:
    """aiohttp routes under the emulator's ``/<google host>/v1`` paths, on the app's own origin."""

    def no_key(request: web.Request) -> web.Response | None:
        if request.query.get("key") != API_KEY:
            return error(400, "API key not valid. Please pass a valid API key.")
        return None

    def user_gone() -> web.Response | None:
        if state.deleted:
            return error(400, "USER_NOT_FOUND")
        if state.disabled:
            return error(400, "USER_DISABLED")
        return None

    async def sign_in(request: web.Request) -> web.Response:
        refused = no_key(request)
        if refused is not None:
            return refused
        body = await request.json()
        if state.deleted or body.get("email") != EMAIL:
            return error(400, "EMAIL_NOT_FOUND")
        if body.get("password") != PASSWORD:
            return error(400, "INVALID_PASSWORD")
        if state.disabled:
            return error(400, "USER_DISABLED")
        state.last_login = state.clock()
        refresh = secrets.token_urlsafe(160)[:218]  # Firebase's refresh tokens are long opaque strings
        state.refresh_tokens.add(refresh)
        return web.json_response({"kind": "identitytoolkit#VerifyPasswordResponse", "localId": state.uid,
                                  "email": EMAIL, "displayName": "", "idToken": state.id_token(int(state.last_login)),
                                  "registered": True, "refreshToken": refresh, "expiresIn": str(int(state.ttl))})

    async def lookup(request: web.Request) -> web.Response:
        refused = no_key(request)
        if refused is not None:
            return refused
        body = await request.json()
        claims, why = state.decode(body.get("idToken"))
        if claims is None or why != "ok" or claims["sub"] != state.uid:
            return error(400, "INVALID_ID_TOKEN")
        gone = user_gone()
        if gone is not None:
            return gone
        if int(claims["exp"]) <= state.clock() or int(claims["auth_time"]) < int(state.tokens_valid_after):
            return error(400, "TOKEN_EXPIRED")
        return web.json_response({"kind": "identitytoolkit#GetAccountInfoResponse", "users": [state.user_record()]})

    async def token(request: web.Request) -> web.Response:
        refused = no_key(request)
        if refused is not None:
            return refused
        form = await request.post()
        if form.get("grant_type") != "refresh_token":
            return error(400, "INVALID_GRANT_TYPE")
        refresh = str(form.get("refresh_token") or "")
        gone = user_gone()
        if gone is not None:
            return gone
        if refresh not in state.refresh_tokens:
            return error(400, "TOKEN_EXPIRED" if state.tokens_valid_after else "INVALID_REFRESH_TOKEN")
        id_token = state.id_token(int(state.last_login or state.clock()))
        return web.json_response({"access_token": id_token, "expires_in": str(int(state.ttl)),
                                  "token_type": "Bearer", "refresh_token": refresh, "id_token": id_token,
                                  "user_id": state.uid, "project_id": PROJECT_ID})

    return [web.post(IDENTITY + "/accounts:signInWithPassword", sign_in),
            web.post(IDENTITY + "/accounts:lookup", lookup), web.post(SECURETOKEN + "/token", token)]
