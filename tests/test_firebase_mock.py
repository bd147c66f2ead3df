"""The mock of Firebase Auth's REST surface answers as the real service does where a verdict depends on it: sign-in,
the user lookup and the token refresh with their shapes; USER_DISABLED, USER_NOT_FOUND, TOKEN_EXPIRED and a bad API
key with Google's error body; ID tokens shaped as Firebase mints them; and the app backend's check, which refuses
what the Admin SDK's ``verifyIdToken(token, checkRevoked=true)`` refuses."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import jwt
import pytest

from harness.mock.server import MockAuthServer
from harness.sdks.firebase import FirebaseSdk
from harness.sdks.firebase.identitytoolkit import (API_KEY, EMAIL, IDENTITY, PASSWORD, PROJECT_ID, SECURETOKEN,
                                                   FirebaseAuthState, error_body)
from harness.timeline import Timeline

Q = f"?key={API_KEY}"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client():
    sdk = FirebaseSdk(token_ttl=3600)
    clock = Clock()
    sdk.state.clock = clock
    server = MockAuthServer(Timeline(), sdk, bundle_dist=None, sdk_version="none").start()
    server.sdk_under_test, server.clock = sdk, clock
    yield server
    server.stop()


def post(server, path, json_body=None, form=None):
    if form is not None:
        data, kind = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    else:
        data, kind = json.dumps(json_body or {}).encode(), "application/json"
    request = urllib.request.Request(server.url + path, data=data, method="POST", headers={"Content-Type": kind})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def sign_in(server):
    status, body = post(server, IDENTITY + "/accounts:signInWithPassword" + Q,
                        {"email": EMAIL, "password": PASSWORD, "returnSecureToken": True})
    assert status == 200
    return body


def error_of(answer):
    status, body = answer
    return status, body["error"]["message"]


def test_sign_in_lookup_and_refresh_have_the_real_shapes(client):
    body = sign_in(client)
    assert {"kind", "localId", "email", "idToken", "registered", "refreshToken", "expiresIn"} <= set(body)
    assert body["expiresIn"] == "3600" and body["registered"] is True
    header = jwt.get_unverified_header(body["idToken"])
    claims = jwt.decode(body["idToken"], options={"verify_signature": False})
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == f"https://securetoken.google.com/{PROJECT_ID}" and claims["aud"] == PROJECT_ID
    assert claims["sub"] == claims["user_id"] == body["localId"]
    assert claims["firebase"] == {"identities": {"email": [EMAIL]}, "sign_in_provider": "password"}
    assert {"auth_time", "iat", "exp"} <= set(claims)
    status, found = post(client, IDENTITY + "/accounts:lookup" + Q, {"idToken": body["idToken"]})
    assert status == 200 and found["users"][0]["localId"] == body["localId"]
    assert found["users"][0]["providerUserInfo"][0]["providerId"] == "password"
    status, refreshed = post(client, SECURETOKEN + "/token" + Q,
                             form={"grant_type": "refresh_token", "refresh_token": body["refreshToken"]})
    assert status == 200 and refreshed["refresh_token"] == body["refreshToken"]  # Firebase's do not rotate
    assert {"access_token", "expires_in", "token_type", "id_token", "user_id", "project_id"} <= set(refreshed)
    assert client.sdk_under_test.issuer.check(refreshed["id_token"]).valid


@pytest.mark.parametrize("how, message", [("disabled", "USER_DISABLED"), ("deleted", "USER_NOT_FOUND")])
def test_a_user_ended_by_the_server_is_refused_everywhere(client, how, message):
    body = sign_in(client)
    client.sdk_under_test.state.end(how)
    assert error_of(post(client, IDENTITY + "/accounts:lookup" + Q, {"idToken": body["idToken"]})) == (400, message)
    assert error_of(post(client, SECURETOKEN + "/token" + Q, form={
        "grant_type": "refresh_token", "refresh_token": body["refreshToken"]})) == (400, message)
    assert client.sdk_under_test.revoked
    assert client.sdk_under_test.issuer.check(body["idToken"]).reason == "revoked"


def test_revoked_refresh_tokens_answer_token_expired(client):
    body = sign_in(client)
    client.clock.now += 5
    client.sdk_under_test.state.end("tokens-revoked")
    assert error_of(post(client, SECURETOKEN + "/token" + Q, form={
        "grant_type": "refresh_token", "refresh_token": body["refreshToken"]})) == (400, "TOKEN_EXPIRED")
    assert error_of(post(client, IDENTITY + "/accounts:lookup" + Q, {"idToken": body["idToken"]})) \
        == (400, "TOKEN_EXPIRED")


def test_a_request_without_the_api_key_is_refused(client):
    status, message = error_of(post(client, IDENTITY + "/accounts:lookup", {"idToken": "x"}))
    assert status == 400 and message.startswith("API key not valid")


def test_a_status_fault_answers_in_googles_shape():
    body = error_body(503)
    assert body["error"]["code"] == 503 and body["error"]["message"] == "UNAVAILABLE"
    assert body["error"]["status"] == "UNAVAILABLE" and body["error"]["errors"]
    assert error_body(400, "USER_DISABLED")["error"]["message"] == "USER_DISABLED"


def test_the_backend_refuses_what_verify_id_token_refuses():
    clock = Clock()
    state = FirebaseAuthState(ttl=60, clock=clock)
    good = state.id_token(auth_time=int(clock()))
    assert state.check(good).valid
    other = FirebaseAuthState(ttl=60)
    assert state.check(other.id_token(auth_time=int(clock()))).reason == "bad-signature"  # another project's key
    claims = jwt.decode(good, options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none")  # what the Auth emulator mints: no server accepts it
    assert state.check(unsigned).reason == "bad-signature"
    assert not state.check(None).valid and state.check("not-a-jwt").reason == "malformed"
    clock.now += 120
    assert state.check(good).reason == "expired"
    clock.now -= 120
    state.end("disabled")
    assert state.check(good).reason == "revoked"
