"""The app backend decides as a real Clerk backend would: one table of requests, checked three ways.

Each case is a request as a browser sends it (cookies, ``Sec-Fetch-Dest``, ``Accept``, method) with the decision
``@clerk/backend``'s ``authenticateRequest`` makes for it. The table is checked against

1. the mock server, over real HTTP (its ``server.view``, and its status: a handshake is a 307 to the Frontend API);
2. the real ``@clerk/backend`` from npm, run by node on the same requests with the same public key
   (``tests/clerk_backend/authenticate.cjs``), so the Python port and the table cannot drift from it silently;

and the handshake itself is followed through the mock Frontend API and back. ``setup.backend: jwt`` keeps the strict
check (tests/test_mock_faults.py).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from harness.mock.server import MockAuthServer
from harness.sdks.clerk import PUBLISHABLE_KEY, ClerkSdk
from harness.sdks.clerk.fapi import PROXY_PATH
from harness.sdks.npm import default_cache_dir
from harness.timeline import Timeline

CLERK_BACKEND = "3.25.0"  # the @clerk/backend release the port was read from and is compared with
JUDGE = Path(__file__).parent / "clerk_backend" / "authenticate.cjs"
DOCUMENT = {"Sec-Fetch-Dest": "document", "Accept": "text/html,application/xhtml+xml"}
OLD_DOCUMENT = {"Accept": "text/html,application/xhtml+xml"}  # a browser that sends no Sec-Fetch-Dest
API = {"Sec-Fetch-Dest": "empty", "Accept": "*/*"}
# It also says why it did not refresh the token itself: no refresh-token cookie.
EXPIRED = "session-token-expired-refresh-non-eligible-no-refresh-cookie"


@dataclass
class Case:
    name: str
    token: str | None  # "valid" | "expired" | "outdated" | "nbf" | "iat-future" | "forged" | "other-run" | "garbage"
    client_uat: str | None  # "signin" (the mock's), "now", "0", or None (no cookie)
    kind: str  # "document" | "old-document" | "api" | "post"
    outcome: str
    reason: str | None  # None: signed in
    extra: dict[str, str] = field(default_factory=dict)


CASES = [
    Case("valid token, document", "valid", "signin", "document", "signed-in", None),
    Case("valid token, api", "valid", "signin", "api", "signed-in", None),
    Case("missing token, client signed in, document", None, "signin", "document", "handshake",
         "client-uat-but-no-session-token"),
    Case("missing token, client signed in, old browser document", None, "signin", "old-document", "handshake",
         "client-uat-but-no-session-token"),
    Case("missing token, client signed in, api", None, "signin", "api", "signed-out",
         "client-uat-but-no-session-token"),
    Case("missing token, client signed in, POST", None, "signin", "post", "signed-out",
         "client-uat-but-no-session-token"),
    Case("expired token, document", "expired", "signin", "document", "handshake", EXPIRED),
    Case("expired token, api", "expired", "signin", "api", "signed-out", EXPIRED),
    Case("outdated token (iat before client_uat), document", "outdated", "now", "document", "handshake",
         "session-token-iat-before-client-uat"),
    Case("outdated token, api", "outdated", "now", "api", "signed-out", "session-token-iat-before-client-uat"),
    Case("token not yet valid, document", "nbf", "signin", "document", "handshake", "session-token-nbf"),
    Case("token issued in the future, document", "iat-future", "signin", "document", "handshake",
         "session-token-iat-in-the-future"),
    Case("client signed out, no token, document", None, "0", "document", "signed-out",
         "session-token-and-uat-missing"),
    Case("no cookies at all, document", None, None, "document", "signed-out", "session-token-and-uat-missing"),
    # After a revocation the Frontend API sets __client_uat=0; a still-valid token alone cannot sign the user in.
    Case("revoked: valid token, client_uat 0, document", "valid", "0", "document", "handshake",
         "session-token-but-no-client-uat"),
    Case("revoked: valid token, client_uat 0, api", "valid", "0", "api", "signed-out",
         "session-token-but-no-client-uat"),
    Case("forged token (bad signature), document", "forged", "signin", "document", "signed-out",
         "token-invalid-signature"),
    Case("token from another run, api", "other-run", "signin", "api", "signed-out", "token-invalid-signature"),
    Case("not a JWT, document", "garbage", "signin", "document", "signed-out", "token-invalid"),
    Case("third handshake in a row is a loop: signed out", "expired", "signin", "document", "signed-out",
         EXPIRED, {"__clerk_redirect_count": "3"}),
]


def _minted(sdk: ClerkSdk, shift: float, **claims: Any) -> str:
    """A token minted ``shift`` seconds from now (negative: in the past), optionally with claims overridden."""
    import jwt as pyjwt

    issuer = sdk.issuer
    real = issuer.clock
    issuer.clock = lambda: real() + shift
    try:
        token = issuer.mint()
    finally:
        issuer.clock = real
    if not claims:
        return token
    payload = {**pyjwt.decode(token, options={"verify_signature": False}), **claims}
    return pyjwt.encode(payload, issuer._key, algorithm="RS256", headers={"kid": "ins_mock"})


def _tokens(sdk: ClerkSdk) -> dict[str, str]:
    valid = sdk.issuer.mint()
    header, payload, _ = valid.split(".")
    now = int(time.time())
    return {"valid": valid, "expired": _minted(sdk, -3600), "outdated": _minted(sdk, -30),
            "nbf": _minted(sdk, 0, nbf=now + 600), "iat-future": _minted(sdk, 0, iat=now + 600, nbf=now - 10),
            "forged": f"{header}.{payload}.{ClerkSdk().issuer.mint().split('.')[2]}",
            "other-run": ClerkSdk().issuer.mint(), "garbage": "not-a-jwt"}


def _request(case: Case, sdk: ClerkSdk, tokens: dict[str, str], base: str) -> dict[str, Any]:
    cookies = dict(case.extra)
    if case.token:
        cookies["__session"] = tokens[case.token]
    if case.client_uat is not None:
        cookies["__client_uat"] = {"signin": str(sdk.client_uat()), "now": str(int(time.time()) - 5)}.get(
            case.client_uat, case.client_uat)
    headers = {"document": DOCUMENT, "old-document": OLD_DOCUMENT, "api": API, "post": DOCUMENT}[case.kind]
    path = "/api/me" if case.kind == "api" else "/"
    headers = {**headers, **({"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {})}
    return {"name": case.name, "url": base + path, "method": "POST" if case.kind == "post" else "GET",
            "headers": headers}


@pytest.fixture
def mock():
    server = MockAuthServer(Timeline(), ClerkSdk(token_ttl=60), bundle_dist=None, sdk_version="0.0.0")
    with server:
        yield server


async def _send(req: dict[str, Any]) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        async with session.request(req["method"], req["url"], headers=req["headers"], allow_redirects=False) as resp:
            await resp.read()
            return resp


def _mock_decisions(mock: MockAuthServer, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for req in requests:
        resp = asyncio.run(_send(req))
        view = mock.timeline.events("server.view")[-1].data
        out.append({"status": view["decision"], "reason": None if view["decision"] == "signed-in" else view["reason"],
                    "http": resp.status, "location": resp.headers.get("Location")})
    return out


@pytest.mark.parametrize("case", [c for c in CASES if c.kind != "post"], ids=lambda c: c.name)
def test_the_mock_backend_decides_each_request_as_the_table_says(mock, case):
    tokens = _tokens(mock.sdk)
    [got] = _mock_decisions(mock, [_request(case, mock.sdk, tokens, mock.url)])
    assert (got["status"], got["reason"]) == (case.outcome, case.reason)
    if case.outcome == "handshake":
        assert got["http"] == 307 and got["location"].startswith(PROXY_PATH + "/v1/client/handshake?")
    elif case.kind == "api":
        assert got["http"] == (200 if case.outcome == "signed-in" else 401)  # an API route never handshakes
    else:
        assert got["http"] == 200


# -- the real @clerk/backend ---------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def clerk_backend() -> Path:
    """A folder whose node_modules holds @clerk/backend (installed once with npm into the harness's cache)."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed to run the real @clerk/backend")
    folder = default_cache_dir() / "node" / f"clerk-backend-{CLERK_BACKEND}"
    if not (folder / "node_modules" / "@clerk" / "backend" / "package.json").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund",
                               "--ignore-scripts", f"@clerk/backend@{CLERK_BACKEND}"],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"npm could not install @clerk/backend@{CLERK_BACKEND}: {done.stderr.strip()[-300:]}")
    return folder


def _judge(folder: Path, sdk: ClerkSdk, base: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    job = {"modules": str(folder), "publishableKey": PUBLISHABLE_KEY, "jwtKey": sdk.issuer.public_pem(),
           "proxyUrl": base + PROXY_PATH, "cases": requests}
    done = subprocess.run(["node", str(JUDGE)], input=json.dumps(job), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_real_clerk_backend_agrees_with_the_table_and_the_mock(mock, clerk_backend):
    tokens = _tokens(mock.sdk)
    requests = [_request(c, mock.sdk, tokens, mock.url) for c in CASES]
    real = _judge(clerk_backend, mock.sdk, mock.url, requests)
    table = [(c.name, c.outcome, c.reason) for c in CASES]
    assert [(r["name"], r["status"], r["reason"]) for r in real] == table
    # The mock on the same requests (POST documents are not app pages here: the table row is the real one's).
    mocked = _mock_decisions(mock, [r for r, c in zip(requests, CASES, strict=True) if c.kind != "post"])
    assert [(m["status"], m["reason"]) for m in mocked] == [(c.outcome, c.reason) for c in CASES if c.kind != "post"]
    # Handshakes go to the same place with the same parameters.
    for r, m in zip([r for r, c in zip(real, CASES, strict=True) if c.kind != "post"], mocked, strict=True):
        if r["status"] != "handshake":
            continue
        theirs, ours = urlsplit(r["location"]), urlsplit(m["location"])
        assert ours.path == theirs.path, r["name"]
        assert parse_qs(ours.query) == parse_qs(theirs.query), r["name"]
        assert any(c.startswith("__clerk_redirect_count=") for c in r["setCookie"])


# -- the handshake, followed ---------------------------------------------------------------------------------------

async def _load_following(url: str, cookies: dict[str, str]) -> tuple[list[int], aiohttp.CookieJar]:
    jar = aiohttp.CookieJar(unsafe=True)  # an IP host: keep its cookies, as a browser does
    jar.update_cookies(cookies, response_url=aiohttp.client.URL(url))
    statuses = []
    async with aiohttp.ClientSession(cookie_jar=jar, connector=aiohttp.TCPConnector(force_close=True)) as session:
        for _ in range(5):
            async with session.get(url, headers=DOCUMENT, allow_redirects=False) as resp:
                statuses.append(resp.status)
                await resp.read()
                if resp.status != 307:
                    return statuses, jar
                url = str(resp.url.join(aiohttp.client.URL(resp.headers["Location"])))
    return statuses, jar


def _jar(jar: aiohttp.CookieJar) -> dict[str, str]:
    return {c.key: c.value for c in jar}


def test_an_expired_token_handshakes_and_comes_back_signed_in_with_a_fresh_cookie(mock):
    expired = _tokens(mock.sdk)["expired"]
    statuses, jar = asyncio.run(_load_following(mock.url + "/", {"__session": expired,
                                                                 "__client_uat": str(mock.sdk.client_uat())}))
    assert statuses == [307, 307, 200]  # app -> Frontend API handshake -> app with the nonce
    views = mock.timeline.events("server.view")
    assert [v.data["decision"] for v in views] == ["handshake", "signed-in"]
    assert views[-1].data.get("after_handshake") is True
    fresh = _jar(jar)["__session"]
    assert fresh != expired and mock.sdk.issuer.check(fresh).valid
    written = mock.timeline.events("cookie")[-1].data
    assert written["op"] == "set" and written["via"] == "Set-Cookie" and written["jti"]


def test_a_handshake_after_revocation_signs_out_and_clears_the_cookies(mock):
    expired = _tokens(mock.sdk)["expired"]
    mock.revoke_session()
    statuses, jar = asyncio.run(_load_following(mock.url + "/", {"__session": expired,
                                                                 "__client_uat": str(int(time.time()) - 3600)}))
    assert statuses == [307, 307, 200]
    last = mock.timeline.events("server.view")[-1].data
    assert last["decision"] == "signed-out" and last["reason"] == "session-token-missing"
    cookies = _jar(jar)
    assert not cookies.get("__session") and cookies.get("__client_uat") == "0"


def test_the_frontend_api_sets_client_uat_itself(mock):
    async def read() -> dict[str, str]:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.get(mock.url + PROXY_PATH + "/v1/client") as resp:
                await resp.read()
            return _jar(session.cookie_jar)

    assert asyncio.run(read())["__client_uat"] == str(mock.sdk.client_uat())
    mock.revoke_session()
    assert asyncio.run(read())["__client_uat"] == "0"


def test_a_used_nonce_is_ignored_and_the_request_judged_by_its_cookies(mock):
    asyncio.run(_load_following(mock.url + "/", {"__client_uat": str(mock.sdk.client_uat())}))
    back = mock.timeline.events("server.view")[-1]
    nonce_url = mock.url + "/?__clerk_handshake_nonce=used-or-made-up"
    resp = asyncio.run(_send({"method": "GET", "url": nonce_url, "headers": DOCUMENT}))
    assert back.data.get("after_handshake") and resp.status == 200
    assert mock.timeline.events("server.view")[-1].data["reason"] == "session-token-and-uat-missing"
