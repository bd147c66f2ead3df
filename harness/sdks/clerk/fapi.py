"""The subset of Clerk's Frontend API that clerk-js uses for one signed-in user.

JSON shapes follow what published clerk-js 5.x and 6.x accept (see shared/reference/clerk-js-internals.md, 3.4).
The session always carries ``last_active_token``: without it clerk-js emits an undefined token on every client
update and removes the cookie itself, which would look like the bug and is not.

As a production Frontend API does, every answer sets ``__client_uat`` (the client's last sign-in or sign-out, in
seconds; ``0`` once the session is gone). The handshake endpoint (``/v1/client/handshake``) mints a fresh token
while the session lives and sends the browser back to ``redirect_url`` with a one-time ``__clerk_handshake_nonce``;
the app backend exchanges the nonce for the cookies to set (in production that exchange is a Backend API call with
the secret key; here it is :meth:`ClerkState.take_handshake`).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from harness.sdks.clerk.tokens import ClerkTokenIssuer

USER_ID = "user_mock1"
SESSION_ID = "sess_mock1"
CLIENT_ID = "client_mock1"
PROXY_PATH = "/__clerk"


@dataclass
class ClerkState:
    """The server's truth about the one user: is the session alive, and the tokens it mints."""

    issuer: ClerkTokenIssuer
    revoked: bool = False
    clock: Callable[[], float] = time.time  # the Frontend API's wall clock (harness/clock.py): session dates
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000) - 3_600_000)
    # nonce -> the session token the handshake minted ("" when the client had no session); each is used once
    handshakes: dict[str, str] = field(default_factory=dict)

    @property
    def client_uat(self) -> int:
        """``__client_uat``: when the client last signed in (the user signed in an hour before the run), 0 once its
        session is gone."""
        return 0 if self.revoked else self.created_ms // 1000

    def take_handshake(self, nonce: str) -> str | None:
        """The token a handshake minted for ``nonce`` ("" for signed out); None for an unknown or used nonce."""
        return self.handshakes.pop(nonce, None)


def environment() -> dict[str, Any]:
    # 5.0.0 crashes on Object.entries(undefined) unless user_settings carries attributes and social.
    return {
        "object": "environment", "id": "env_mock",
        "auth_config": {"object": "auth_config", "id": "aac_mock", "single_session_mode": True,
                        "url_based_session_syncing": False},
        "display_config": {"object": "display_config", "id": "dc_mock", "instance_environment_type": "production",
                           "application_name": "Mock", "branded": False, "preferred_sign_in_strategy": "password",
                           "sign_in_url": "/sign-in", "sign_up_url": "/sign-up", "home_url": "/",
                           "after_sign_in_url": "/", "after_sign_up_url": "/", "after_sign_out_one_url": "/",
                           "after_sign_out_all_url": "/", "theme": {}},
        "user_settings": {
            "attributes": {"email_address": {"enabled": True, "required": True, "used_for_first_factor": True,
                                             "first_factors": ["email_code"], "used_for_second_factor": False,
                                             "second_factors": [], "verifications": ["email_code"],
                                             "verify_at_sign_up": True}},
            "social": {}, "saml": {"enabled": False}, "enterprise_sso": {"enabled": False},
            "sign_in": {"second_factor": {"required": False}}, "sign_up": {"captcha_enabled": False,
                                                                           "progressive": True, "mode": "public"},
            "restrictions": {}, "username_settings": {}, "actions": {}, "attack_protection": {},
            "passkey_settings": {}, "password_settings": {},
        },
        "organization_settings": {"enabled": False},
        "maintenance_mode": False,
    }


def user(created_ms: int) -> dict[str, Any]:
    return {"object": "user", "id": USER_ID, "first_name": "Mock", "last_name": None, "username": None,
            "primary_email_address_id": "idn_1", "primary_phone_number_id": None, "primary_web3_wallet_id": None,
            "email_addresses": [{"object": "email_address", "id": "idn_1", "email_address": "mock@example.test",
                                 "verification": {"status": "verified", "strategy": "email_code"},
                                 "linked_to": []}],
            "phone_numbers": [], "web3_wallets": [], "external_accounts": [], "passkeys": [],
            "enterprise_accounts": [], "saml_accounts": [], "organization_memberships": [],
            "public_metadata": {}, "unsafe_metadata": {}, "image_url": "", "has_image": False,
            "two_factor_enabled": False, "password_enabled": False,
            "created_at": created_ms, "updated_at": created_ms}


def session(state: ClerkState, jwt: str) -> dict[str, Any]:
    now = int(state.clock() * 1000)
    return {"object": "session", "id": SESSION_ID, "status": "active",
            "expire_at": now + 7 * 86_400_000, "abandon_at": now + 30 * 86_400_000, "last_active_at": now,
            "last_active_organization_id": None, "actor": None, "tasks": None, "factor_verification_age": [0, -1],
            "user": user(state.created_ms),
            "public_user_data": {"first_name": "Mock", "last_name": None, "identifier": "mock@example.test",
                                 "user_id": USER_ID, "image_url": "", "has_image": False},
            "last_active_token": {"object": "token", "jwt": jwt},
            "created_at": state.created_ms, "updated_at": now}


def client(state: ClerkState, azp: str) -> dict[str, Any]:
    sessions = [] if state.revoked else [session(state, state.issuer.mint(azp))]
    return {"object": "client", "id": CLIENT_ID, "sessions": sessions,
            "last_active_session_id": None if state.revoked else SESSION_ID,
            "sign_in": None, "sign_up": None, "captcha_bypass": False, "cookie_expires_at": None,
            "last_authentication_strategy": None, "created_at": state.created_ms, "updated_at": state.created_ms}


def error_body(status: int, code: str | None = None) -> dict[str, Any]:
    code = code or {401: "authentication_invalid", 403: "forbidden", 404: "resource_not_found",
                    422: "form_param_invalid", 429: "too_many_requests"}.get(status, "internal_clerk_error")
    return {"errors": [{"code": code, "message": code.replace("_", " "), "long_message": f"mock {status} ({code})"}],
            "clerk_trace_id": "mock-trace"}


CLIENT_UAT_COOKIE = "__client_uat"
CLIENT_UAT_MAX_AGE = 365 * 86_400  # one year, as the Frontend API sends it
HANDSHAKE_NONCE = "__clerk_handshake_nonce"


def set_client_uat(response: web.StreamResponse, value: int) -> None:
    # Readable by page scripts (not HttpOnly), one year, for the whole site: what the Frontend API sends.
    response.set_cookie(CLIENT_UAT_COOKIE, str(value), path="/", max_age=CLIENT_UAT_MAX_AGE, samesite="Lax")


def with_client_uat(state: ClerkState, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def answer(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        set_client_uat(response, state.client_uat)
        return response
    answer.__name__ = handler.__name__
    return answer


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))


def routes(state: ClerkState) -> list[web.RouteDef]:
    """aiohttp routes for the Frontend API, mounted under the same-origin proxy path."""

    def origin(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    async def get_environment(request: web.Request) -> web.Response:
        return web.json_response(environment())

    async def get_client(request: web.Request) -> web.Response:
        return web.json_response({"response": client(state, origin(request)), "client": None})

    async def post_tokens(request: web.Request) -> web.Response:
        if state.revoked or request.match_info["sid"] != SESSION_ID:
            # A revoked session: 401, and the client read that follows shows no sessions.
            return web.json_response(error_body(401), status=401)
        return web.json_response({"object": "token", "jwt": state.issuer.mint(origin(request))})

    async def post_touch(request: web.Request) -> web.Response:
        if state.revoked:
            return web.json_response(error_body(401), status=401)
        body = client(state, origin(request))
        return web.json_response({"response": body["sessions"][0], "client": body})

    async def sign_out(request: web.Request) -> web.Response:
        return web.json_response({"response": client(state, origin(request)), "client": None})

    async def get_handshake(request: web.Request) -> web.Response:
        # The Frontend API knows the client by its own long-lived cookie; the mock's one client is alive unless revoked.
        redirect = request.query.get("redirect_url", "")
        if not redirect.startswith(origin(request) + "/"):
            return web.json_response(error_body(422, "form_param_invalid"), status=422)
        nonce = secrets.token_urlsafe(12)
        state.handshakes[nonce] = "" if state.revoked else state.issuer.mint(origin(request))
        return web.Response(status=307, headers={"Location": with_query(redirect, **{HANDSHAKE_NONCE: nonce}),
                                                 "Cache-Control": "no-store"})

    p = PROXY_PATH + "/v1"
    table = [
        web.get(p + "/client/handshake", get_handshake),
        web.route("*", p + "/environment", get_environment),
        web.get(p + "/client", get_client),
        web.post(p + "/client", get_client),
        web.delete(p + "/client/sessions", sign_out),
        web.post(p + "/client/sessions/{sid}/tokens", post_tokens),
        web.post(p + "/client/sessions/{sid}/tokens/{template}", post_tokens),
        web.post(p + "/client/sessions/{sid}/touch", post_touch),
        web.post(p + "/client/sessions/{sid}/end", sign_out),
        web.post(p + "/client/sessions/{sid}/remove", sign_out),
    ]
    return [web.route(r.method, r.path, with_client_uat(state, r.handler)) for r in table]
