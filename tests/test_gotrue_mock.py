"""The mock GoTrue behaves like Supabase Auth where a verdict depends on it: password and refresh grants with
GoTrue's shapes, refresh-token rotation with the reuse interval and reuse detection, revocation, the apikey gate,
and an app backend that verifies the access token as a Supabase server does. Real HTTP over loopback."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import jwt
import pytest

from harness.mock.server import MockAuthServer
from harness.sdks.supabase import SupabaseSdk
from harness.sdks.supabase.gotrue import EMAIL, PASSWORD, REUSE_INTERVAL
from harness.timeline import Timeline


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def gotrue():
    sdk = SupabaseSdk(token_ttl=3600)
    clock = Clock()
    server = MockAuthServer(Timeline(), sdk, bundle_dist=None, sdk_version="none")
    sdk.state.clock = clock  # after the server handed GoTrue the run's auth clock (set_clocks): this test's instead
    server.start()
    yield server, sdk, clock
    server.stop()


def call(server, sdk, method, path, body=None, token=None, apikey=True):
    headers = {"Content-Type": "application/json"}
    if apikey:
        headers["apikey"] = sdk.state.anon_key
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def sign_in(server, sdk):
    return call(server, sdk, "POST", "/auth/v1/token?grant_type=password", {"email": EMAIL, "password": PASSWORD})


def refresh(server, sdk, token):
    return call(server, sdk, "POST", "/auth/v1/token?grant_type=refresh_token", {"refresh_token": token})


def test_password_grant_answers_a_gotrue_session(gotrue):
    server, sdk, _ = gotrue
    status, body = sign_in(server, sdk)
    assert status == 200
    assert {"access_token", "token_type", "expires_in", "expires_at", "refresh_token", "user"} <= set(body)
    assert body["token_type"] == "bearer" and body["user"]["aud"] == "authenticated"
    claims = jwt.decode(body["access_token"], sdk.state.jwt_secret, algorithms=["HS256"], audience="authenticated")
    assert {"sub", "exp", "iat", "role", "session_id", "aal", "amr", "email"} <= set(claims)
    assert "jti" not in claims and claims["role"] == "authenticated"
    assert call(server, sdk, "POST", "/auth/v1/token?grant_type=password",
                                     {"email": EMAIL, "password": "wrong"}) == (
        400, {"error": "invalid_grant", "error_description": "Invalid login credentials"})


def test_requests_without_the_apikey_are_refused(gotrue):
    server, sdk, _ = gotrue
    status, _ = call(server, sdk, "POST", "/auth/v1/token?grant_type=password",
                     {"email": EMAIL, "password": PASSWORD}, apikey=False)
    assert status == 401


def test_refresh_rotates_and_a_reused_token_ends_the_session_after_the_interval(gotrue):
    server, sdk, clock = gotrue
    first = sign_in(server, sdk)[1]["refresh_token"]
    status, body = refresh(server, sdk, first)
    assert status == 200 and body["refresh_token"] != first
    child = body["refresh_token"]
    # Within the reuse interval (two tabs racing), the old token gets the current child again.
    clock.now += REUSE_INTERVAL / 2
    assert refresh(server, sdk, first)[1]["refresh_token"] == child
    # Later, presenting it again is reuse: GoTrue revokes the whole session.
    clock.now += REUSE_INTERVAL
    assert refresh(server, sdk, first) == (400, {"error": "invalid_grant",
                                                 "error_description": "Invalid Refresh Token: Already Used"})
    assert refresh(server, sdk, child)[0] == 400


def test_revocation_ends_refreshes_and_the_backend_stops_accepting_the_token(gotrue):
    server, sdk, _ = gotrue
    body = sign_in(server, sdk)[1]
    assert call(server, sdk, "GET", "/api/me", token=body["access_token"])[1]["signed_in"] is True
    assert call(server, sdk, "GET", "/auth/v1/user", token=body["access_token"])[1]["email"] == EMAIL
    server.revoke_session()
    assert refresh(server, sdk, body["refresh_token"]) == (
        400, {"error": "invalid_grant", "error_description": "Invalid Refresh Token: Refresh Token Not Found"})
    view = call(server, sdk, "GET", "/api/me", token=body["access_token"])[1]
    assert view["signed_in"] is False and view["reason"] == "revoked"
    assert call(server, sdk, "GET", "/auth/v1/user", token=body["access_token"])[0] == 403


def test_logout_ends_the_session(gotrue):
    server, sdk, _ = gotrue
    body = sign_in(server, sdk)[1]
    assert call(server, sdk, "POST", "/auth/v1/logout", token=body["access_token"]) == (204, None)
    assert refresh(server, sdk, body["refresh_token"])[0] == 400


def test_the_backend_checks_signature_and_expiry(gotrue):
    server, sdk, clock = gotrue
    body = sign_in(server, sdk)[1]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "another-secret-of-at-least-32-bytes", algorithm="HS256")
    assert call(server, sdk, "GET", "/api/me", token=forged)[1]["reason"] == "bad-signature"
    assert call(server, sdk, "GET", "/api/me")[1]["reason"] == "absent"
    short = SupabaseSdk(token_ttl=1)
    token = short.state.session_body(short.state.sign_in()[0], "r", "http://x/auth/v1")["access_token"]
    short.state.clock = lambda: clock.now + 10 ** 6
    assert short.state.check(token).reason == "expired"


def test_status_faults_carry_gotrue_error_bodies():
    body = SupabaseSdk().error_body(503)
    assert body["code"] == 503 and body["msg"] and body["error_code"]


def test_the_anon_key_is_no_user_credential(gotrue):
    server, sdk, _ = gotrue
    view = call(server, sdk, "GET", "/api/me", token=sdk.state.anon_key)[1]
    assert view["signed_in"] is False and view["reason"] == "absent"
