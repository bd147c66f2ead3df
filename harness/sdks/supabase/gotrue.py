"""The subset of Supabase Auth (GoTrue) that supabase-js 2.x uses for one email/password user, under ``/auth/v1``.

Shapes follow GoTrue as supabase-js 2.26.0 (gotrue-js 2.31.0) and 2.27.0 (gotrue-js 2.45.0) read it:

* ``POST /token?grant_type=password`` (``{email, password}``) and ``?grant_type=refresh_token``
  (``{refresh_token}``) answer ``{access_token, token_type: "bearer", expires_in, expires_at, refresh_token,
  user}``; gotrue-js keeps the session only when ``access_token``, ``refresh_token`` and ``expires_in`` are there.
* Access tokens are HS256 JWTs signed with the project's JWT secret, claims as GoTrue mints them: ``aud``
  ``authenticated``, ``exp``, ``iat``, ``iss`` (``<url>/auth/v1``), ``sub``, ``email``, ``phone``, ``app_metadata``,
  ``user_metadata``, ``role``, ``aal``, ``amr``, ``session_id``. No ``jti``: GoTrue mints none.
* Refresh tokens rotate: each refresh revokes the token it used and issues its child. A revoked token presented
  again within the reuse interval (GoTrue's default 10 s) gets the current child again; later, it counts as reuse and
  GoTrue revokes the whole session (``Invalid Refresh Token: Already Used``). An unknown or revoked-session token is
  ``400 invalid_grant`` -- the answer that rightly ends the session in every SDK version.
* Token-endpoint errors are OAuth-shaped ``{error, error_description}``; other errors ``{code, error_code, msg}``.
* Every request must carry the project's ``apikey`` header, as Supabase's API gateway requires.

The app backend verifies an access token the way a Supabase server does: signature with the JWT secret, audience,
expiry, and that its ``session_id`` still exists (what ``auth.getUser(jwt)`` asks GoTrue).
"""

from __future__ import annotations

import itertools
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import jwt
from aiohttp import web

from harness.mock.tokens import TokenCheck

AUTH_PATH = "/auth/v1"
EMAIL = "mock@example.test"
PASSWORD = "mock-password"
REUSE_INTERVAL = 10.0  # seconds: GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL's default
AUDIENCE = "authenticated"


@dataclass
class RefreshToken:
    token: str
    session_id: str
    issued_at: float
    revoked_at: float | None = None  # set when it was used (rotated) or its session ended
    child: str | None = None  # the token issued in exchange for this one


@dataclass
class GoTrueState:
    """The server's truth: the user, its sessions, refresh tokens, and the keys the project signs with."""

    ttl: float
    clock: Callable[[], float] = time.time
    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    created_at: float = field(default_factory=lambda: time.time() - 3600)
    sessions: dict[str, bool] = field(default_factory=dict)  # session id -> still alive
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    on_mint: Callable[[str, float], None] | None = None
    _serial: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def anon_key(self) -> str:
        """The project's public API key: an HS256 JWT with role ``anon``, signed with the same secret."""
        return jwt.encode({"iss": "supabase", "ref": "mock", "role": "anon", "iat": int(self.created_at),
                           "exp": int(self.created_at) + 10 * 365 * 86400}, self.jwt_secret, algorithm="HS256")

    @property
    def revoked(self) -> bool:
        """No live session is left (the server ended them)."""
        return bool(self.sessions) and not any(self.sessions.values())

    # -- minting -------------------------------------------------------------------------------------------------

    def user(self) -> dict[str, Any]:
        created = _iso(self.created_at)
        return {"id": self.user_id, "aud": AUDIENCE, "role": "authenticated", "email": EMAIL,
                "email_confirmed_at": created, "phone": "", "confirmed_at": created, "last_sign_in_at": created,
                "app_metadata": {"provider": "email", "providers": ["email"]}, "user_metadata": {},
                "identities": [{"id": self.user_id, "user_id": self.user_id, "provider": "email",
                                "identity_data": {"email": EMAIL, "sub": self.user_id},
                                "last_sign_in_at": created, "created_at": created, "updated_at": created}],
                "created_at": created, "updated_at": created}

    def access_token(self, session_id: str, iss: str) -> tuple[str, int]:
        minted_at = self.clock()
        now = int(minted_at)
        exp = now + int(self.ttl)
        claims = {"aud": AUDIENCE, "exp": exp, "iat": now, "iss": iss, "sub": self.user_id, "email": EMAIL,
                  "phone": "", "app_metadata": {"provider": "email", "providers": ["email"]}, "user_metadata": {},
                  "role": "authenticated", "aal": "aal1", "amr": [{"method": "password", "timestamp": now}],
                  "session_id": session_id}
        token = jwt.encode(claims, self.jwt_secret, algorithm="HS256", headers={"typ": "JWT"})
        if self.on_mint is not None:
            self.on_mint(f"at_{next(self._serial)}", minted_at)
        return token, exp

    def session_body(self, session_id: str, refresh: str, iss: str) -> dict[str, Any]:
        token, exp = self.access_token(session_id, iss)
        return {"access_token": token, "token_type": "bearer", "expires_in": int(self.ttl), "expires_at": exp,
                "refresh_token": refresh, "user": self.user()}

    def new_refresh_token(self, session_id: str) -> str:
        token = secrets.token_urlsafe(16)[:22]
        self.refresh_tokens[token] = RefreshToken(token, session_id, self.clock())
        return token

    # -- grants --------------------------------------------------------------------------------------------------

    def sign_in(self) -> tuple[str, str]:
        session_id = str(uuid.uuid4())
        self.sessions[session_id] = True
        return session_id, self.new_refresh_token(session_id)

    def refresh(self, token: str) -> tuple[str, str] | str:
        """(session id, the refresh token to hand out) or the error description of a 400 invalid_grant."""
        found = self.refresh_tokens.get(token)
        if found is None or not self.sessions.get(found.session_id, False):
            return "Invalid Refresh Token: Refresh Token Not Found"
        now = self.clock()
        if found.revoked_at is not None:
            if found.child is not None and now - found.revoked_at <= REUSE_INTERVAL:
                return found.session_id, self._active_descendant(found)
            self.end_session(found.session_id)  # reuse detected: the whole session goes
            return "Invalid Refresh Token: Already Used"
        found.revoked_at = now
        found.child = self.new_refresh_token(found.session_id)
        return found.session_id, found.child

    def _active_descendant(self, token: RefreshToken) -> str:
        while token.child is not None and token.revoked_at is not None:
            token = self.refresh_tokens[token.child]
        return token.token

    def end_session(self, session_id: str | None = None) -> None:
        """End one session (or all): its refresh tokens stop working and its access tokens stop verifying."""
        for sid in list(self.sessions):
            if session_id is None or sid == session_id:
                self.sessions[sid] = False
        now = self.clock()
        for rt in self.refresh_tokens.values():
            if (session_id is None or rt.session_id == session_id) and rt.revoked_at is None:
                rt.revoked_at = now

    # -- verifying (the app backend and GET /user) ---------------------------------------------------------------

    def check(self, token: str | None, *, revoked: bool = False, now: float | None = None) -> TokenCheck:
        """Verify an access token at ``now`` on the checker's wall clock (default: GoTrue's own ``clock``; the app
        backend passes its own)."""
        if not token:
            return TokenCheck(False, "absent")
        try:
            # Expiry is checked on the state's clock below (the same clock that minted it), not pyjwt's.
            claims = jwt.decode(token, self.jwt_secret, algorithms=["HS256"], audience=AUDIENCE,
                                options={"require": ["exp", "sub", "session_id"], "verify_exp": False,
                                         "verify_iat": False})
        except jwt.InvalidSignatureError:
            return TokenCheck(False, "bad-signature", _peek(token))
        except jwt.PyJWTError:
            return TokenCheck(False, "malformed")
        if int(claims["exp"]) <= (self.clock() if now is None else now):  # leeway 0, as GoTrue's middleware
            return TokenCheck(False, "expired", claims)
        if revoked or not self.sessions.get(claims["session_id"], False):
            return TokenCheck(False, "revoked", claims)
        return TokenCheck(True, "ok", claims)


def _peek(token: str) -> dict[str, Any] | None:
    try:
        return jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError:
        return None


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + "Z"


def bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    return value[7:].strip() or None if value.lower().startswith("bearer ") else None


def oauth_error(description: str, status: int = 400, error: str = "invalid_grant") -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def error_body(status: int, code: str | None = None) -> dict[str, Any]:
    """GoTrue's error shape for a status fault (``msg`` is what gotrue-js shows)."""
    code = code or {400: "validation_failed", 401: "no_authorization", 403: "session_not_found",
                    404: "not_found", 422: "unprocessable_entity", 429: "over_request_rate_limit"}.get(
        status, "unexpected_failure")
    return {"code": status, "error_code": code, "msg": f"mock {status} ({code})"}


def routes(state: GoTrueState) -> list[web.RouteDef]:
    """aiohttp routes for GoTrue under ``/auth/v1`` on the app's own origin (so no CORS is involved)."""

    def issuer(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}{AUTH_PATH}"

    def no_api_key(request: web.Request) -> web.Response | None:
        if request.headers.get("apikey") != state.anon_key:
            return web.json_response({"message": "No API key found in request"}, status=401)
        return None

    async def post_token(request: web.Request) -> web.Response:
        refused = no_api_key(request)
        if refused is not None:
            return refused
        grant = request.query.get("grant_type")
        try:
            body = await request.json()
        except ValueError:
            return oauth_error("Could not read request body", error="invalid_request")
        if grant == "password":
            if body.get("email") != EMAIL or body.get("password") != PASSWORD:
                return oauth_error("Invalid login credentials")
            session_id, refresh = state.sign_in()
            return web.json_response(state.session_body(session_id, refresh, issuer(request)))
        if grant == "refresh_token":
            result = state.refresh(str(body.get("refresh_token") or ""))
            if isinstance(result, str):
                return oauth_error(result)
            session_id, refresh = result
            return web.json_response(state.session_body(session_id, refresh, issuer(request)))
        return oauth_error(f"unsupported_grant_type {grant}", error="unsupported_grant_type")

    async def get_user(request: web.Request) -> web.Response:
        refused = no_api_key(request)
        if refused is not None:
            return refused
        check = state.check(bearer(request))
        if not check.valid:
            status = 403 if check.reason == "revoked" else 401
            return web.json_response({"code": status, "error_code": "bad_jwt", "msg": f"invalid JWT: {check.reason}"},
                                     status=status)
        return web.json_response(state.user())

    async def post_logout(request: web.Request) -> web.Response:
        refused = no_api_key(request)
        if refused is not None:
            return refused
        check = state.check(bearer(request))
        if check.claims and check.claims.get("session_id"):
            scope = request.query.get("scope", "global")
            state.end_session(None if scope == "global" else check.claims["session_id"])
        return web.Response(status=204)

    async def get_settings(request: web.Request) -> web.Response:
        return web.json_response({"external": {"email": True}, "disable_signup": False, "autoconfirm": True})

    p = AUTH_PATH
    return [web.post(p + "/token", post_token), web.get(p + "/user", get_user), web.post(p + "/logout", post_logout),
            web.get(p + "/settings", get_settings)]
