"""Every server fault kind, checked against the real mock server with a plain HTTP client (no browser; fast).

The client is aiohttp's, on its own event loop in the test thread; the server runs in its thread as in a real run.
A held request is started as a task, the test waits for the mock's ``fault.held`` event, then releases it.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from harness.mock.faults import Fault
from harness.mock.faults.args import FaultArgs, fault_from
from harness.mock.server import MockAuthServer
from harness.sdks.clerk import ClerkSdk
from harness.sdks.clerk.fapi import PROXY_PATH, SESSION_ID
from harness.timeline import Timeline

TOKENS = f"{PROXY_PATH}/v1/client/sessions/{SESSION_ID}/tokens"
CLIENT = f"{PROXY_PATH}/v1/client"
TOUCH = f"{PROXY_PATH}/v1/client/sessions/{SESSION_ID}/touch"


@pytest.fixture
def mock():
    timeline = Timeline()
    sdk = ClerkSdk(token_ttl=60)
    server = MockAuthServer(timeline, sdk, bundle_dist=None, sdk_version="0.0.0")
    with server:
        yield server


@pytest.fixture
def jwt_mock():
    """The strict backend (``setup.backend: jwt``); the default ``clerk`` one is tested in test_backend.py."""
    server = MockAuthServer(Timeline(), ClerkSdk(token_ttl=60), bundle_dist=None, sdk_version="0.0.0", backend="jwt")
    with server:
        yield server


def arm(server: MockAuthServer, **fields: Any) -> Fault:
    """Arm a fault as the `fault` step does (``kind=...`` or ``chain=[...]``), validated for the server's SDK."""
    args = FaultArgs.model_validate(fields, context={"sdk": server.sdk})
    return server.add_fault(fault_from(args, server.sdk))


async def _call(server: MockAuthServer, path: str, method: str = "POST", cookie: str | None = None) -> dict[str, Any]:
    """One request on a fresh connection; returns status and JSON, or how the connection failed."""
    headers = {"Cookie": f"__session={cookie}"} if cookie else {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        try:
            async with session.request(method, server.url + path, headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=10)) as resp:
                status = resp.status
                try:
                    text = await resp.text()
                except aiohttp.ClientPayloadError as err:
                    return {"status": status, "failed": "mid-body", "error": type(err).__name__}
                is_json = resp.content_type == "application/json"
                return {"status": status, "body": json.loads(text) if is_json else text}
        except aiohttp.ServerDisconnectedError as err:
            return {"failed": "before-headers", "error": type(err).__name__}
        except aiohttp.ClientOSError as err:
            return {"failed": "before-headers", "error": type(err).__name__}


def call(server: MockAuthServer, path: str = TOKENS, method: str = "POST", **kw: Any) -> dict[str, Any]:
    return asyncio.run(_call(server, path, method, **kw))


async def _held_then(server: MockAuthServer, release: Any, path: str = TOKENS) -> dict[str, Any]:
    task = asyncio.create_task(_call(server, path))
    while not server.timeline.events("fault.held"):
        await asyncio.sleep(0.01)
    assert not task.done(), "a held request must stay open until it is released"
    release()
    return await task


def statuses(server: MockAuthServer, n: int) -> list[Any]:
    out = []
    for _ in range(n):
        r = call(server)
        out.append(r.get("status") if "failed" not in r else r["failed"])
    return out


# -- one kind at a time ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code,clerk_code", [(429, "too_many_requests"), (500, "internal_clerk_error"),
                                             (503, "internal_clerk_error"), (401, "authentication_invalid")])
def test_status_answers_any_code_with_a_clerk_error_body(mock, code, clerk_code):
    arm(mock, kind="status", path="*/tokens", status=code)
    r = call(mock)
    assert r["status"] == code
    assert r["body"]["errors"][0]["code"] == clerk_code
    fault = mock.timeline.events("fault")[0]
    assert fault.data["kind"] == "status" and fault.data["status"] == code and fault.data["path"] == TOKENS
    # Other paths are untouched.
    assert call(mock, CLIENT, "GET")["status"] == 200


def test_status_on_the_client_read_only(mock):
    arm(mock, kind="status", path="*/v1/client", status=503)
    assert call(mock, CLIENT, "GET")["status"] == 503
    assert call(mock)["status"] == 200  # */v1/client does not match .../tokens


def test_delay_answers_normally_after_the_delay(mock):
    arm(mock, kind="delay", path="*/tokens", delay=0.3)
    r = call(mock)
    assert r["status"] == 200 and r["body"]["jwt"].count(".") == 2
    kinds = [e.kind for e in mock.timeline.events() if e.source == "mock"
             and e.kind not in ("fault.armed", "server.backend", "token.minted")]
    assert kinds == ["request", "fault", "response"]
    assert mock.timeline.events("response")[0].data["after"] == "delay"
    # The answer cannot come before the delay has passed (a lower bound, not a speed measurement).
    req, resp = mock.timeline.events("request")[0], mock.timeline.events("response")[0]
    assert resp.at - req.at >= 0.3


def test_drop_before_headers_keeps_dropping_until_released(mock):
    fault = arm(mock, kind="drop", path="*/tokens")
    # Chromium resends a POST once on a reused connection closed before any byte: a one-shot drop would be hidden.
    assert statuses(mock, 3) == ["before-headers"] * 3
    mock.release(fault.id)
    assert call(mock)["status"] == 200
    assert [e.data["drop_at"] for e in mock.timeline.events("fault")] == ["headers"] * 3


def test_drop_mid_body_sends_headers_then_cuts(mock):
    arm(mock, kind="drop", path="*/tokens", at="body")
    r = call(mock)
    assert r["status"] == 200 and r["failed"] == "mid-body"
    assert mock.timeline.events("fault")[0].data["drop_at"] == "body"


def test_hold_then_release_pass_gives_the_normal_answer(mock):
    fault = arm(mock, kind="hold", path="*/tokens")
    r = asyncio.run(_held_then(mock, lambda: mock.release(fault.id, "pass")))
    assert r["status"] == 200 and r["body"]["jwt"]
    assert mock.timeline.events("response")[-1].data["after"] == "hold"
    assert call(mock)["status"] == 200  # the fault ended with the release


def test_hold_then_release_drop_closes_and_keeps_closing_until_released_again(mock):
    fault = arm(mock, kind="hold", path="*/tokens", times=1)
    r = asyncio.run(_held_then(mock, lambda: mock.release(fault.id, "drop")))
    assert r["failed"] == "before-headers"
    # The browser's silent resend must be closed too, or the SDK would never see the drop.
    assert call(mock)["failed"] == "before-headers"
    released = mock.timeline.events("fault.released")
    assert released[-1].data == {"fault": fault.id, "kind": "hold", "outcome": "drop", "still_dropping": True}
    mock.release(fault.id)
    assert call(mock)["status"] == 200
    assert mock.faults.active() == []


def test_hold_times_holds_only_the_next_n(mock):
    fault = arm(mock, kind="hold", path="*/tokens", times=1)

    async def scenario() -> tuple[dict, dict]:
        first = asyncio.create_task(_call(mock, TOKENS))
        while not mock.timeline.events("fault.held"):
            await asyncio.sleep(0.01)
        second = await _call(mock, TOKENS)  # not held: answered while the first still waits
        assert not first.done()
        mock.release(fault.id)
        return await first, second

    first, second = asyncio.run(scenario())
    assert second["status"] == 200 and first["status"] == 200


def test_hang_is_never_answered_and_its_release_drops(mock):
    fault = arm(mock, kind="hang", path="*/tokens")
    r = asyncio.run(_held_then(mock, lambda: mock.release(fault.id)))
    assert r["failed"] == "before-headers"
    mock.release(fault.id)
    assert call(mock)["status"] == 200


def test_release_all_lets_every_held_request_go(mock):
    arm(mock, kind="hold", path="*/tokens")
    r = asyncio.run(_held_then(mock, lambda: mock.release(None, "pass")))
    assert r["status"] == 200


# -- which calls -----------------------------------------------------------------------------------------------

def test_calls_picks_the_nth_matching_calls(mock):
    arm(mock, kind="status", path="*/tokens", status=503, calls=[2, 4])
    assert statuses(mock, 5) == [200, 503, 200, 503, 200]


def test_times_caps_the_applications(mock):
    arm(mock, kind="status", path="*/tokens", status=500, times=2)
    assert statuses(mock, 4) == [500, 500, 200, 200]


def test_two_faults_make_a_sequence(mock):
    # Every matching fault counts every matching call, even one another fault took.
    arm(mock, kind="status", path="*/tokens", status=429, calls=[1])
    arm(mock, kind="status", path="*/tokens", status=500, calls=[2])
    arm(mock, kind="status", path="*/tokens", status=503, calls=[3])
    assert statuses(mock, 4) == [429, 500, 503, 200]


def test_an_nth_call_drop_keeps_dropping_until_released(mock):
    # `calls: [2]` picks where the drop starts; from there it holds, or Chromium's resend would be answered.
    fault = arm(mock, kind="drop", path="*/tokens", calls=[2])
    assert statuses(mock, 3) == [200, "before-headers", "before-headers"]
    mock.release(fault.id)
    assert statuses(mock, 1) == [200]


def test_method_filter(mock):
    arm(mock, kind="status", path="*/v1/client", method="GET", status=500)
    assert call(mock, CLIENT, "GET")["status"] == 500
    assert call(mock, CLIENT, "POST")["status"] == 200


# -- the session, as the server sees it -----------------------------------------------------------------------------

def test_revocation_makes_tokens_401_and_the_client_sessionless(mock):
    assert call(mock)["status"] == 200
    mock.revoke_session()
    r = call(mock)
    assert r["status"] == 401 and r["body"]["errors"][0]["code"] == "authentication_invalid"
    client = call(mock, CLIENT, "GET")["body"]["response"]
    assert client["sessions"] == [] and client["last_active_session_id"] is None
    assert call(mock, TOUCH)["status"] == 401
    assert mock.timeline.events("session.revoked")


def _view(mock: MockAuthServer, cookie: str | None) -> dict[str, Any]:
    body = call(mock, "/api/me", "GET", cookie=cookie)["body"]
    event = mock.timeline.events("server.view")[-1]
    assert event.data["signed_in"] == body["signed_in"] and event.data["reason"] == body["reason"]
    return body


def test_server_view_valid_token(jwt_mock):
    view = _view(jwt_mock, jwt_mock.sdk.issuer.mint())
    assert view["signed_in"] is True and view["reason"] == "ok" and view["sid"] == SESSION_ID


def test_server_view_absent_token(jwt_mock):
    view = _view(jwt_mock, None)
    assert view["signed_in"] is False and view["reason"] == "absent"


def test_server_view_expired_token(jwt_mock):
    issuer = jwt_mock.sdk.issuer
    real_clock = issuer.clock
    issuer.clock = lambda: real_clock() - 3600  # minted an hour ago, with a 60 s lifetime
    try:
        old = issuer.mint()
    finally:
        issuer.clock = real_clock
    view = _view(jwt_mock, old)
    assert view["signed_in"] is False and view["reason"] == "expired"


def test_server_view_tampered_token(jwt_mock):
    import base64

    header, payload, signature = jwt_mock.sdk.issuer.mint().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["exp"] += 3600  # a browser cannot extend its own token
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    view = _view(jwt_mock, f"{header}.{forged}.{signature}")
    assert view["signed_in"] is False and view["reason"] == "bad-signature"
    view = _view(jwt_mock, "not-a-jwt")
    assert view["signed_in"] is False and view["reason"] == "malformed"


def test_server_view_after_revocation(jwt_mock):
    token = jwt_mock.sdk.issuer.mint()
    jwt_mock.revoke_session()
    view = _view(jwt_mock, token)
    assert view["signed_in"] is False and view["reason"] == "revoked"


def test_a_token_from_another_run_does_not_verify(jwt_mock):
    other = ClerkSdk(token_ttl=60).issuer.mint()
    assert _view(jwt_mock, other)["reason"] == "bad-signature"


def test_every_request_is_on_the_timeline_in_order(mock):
    arm(mock, kind="status", path="*/tokens", status=503, times=1)
    call(mock)
    call(mock)
    events = [(e.kind, e.data.get("status")) for e in mock.timeline.events() if e.source == "mock"
              and e.kind in ("request", "response", "fault")]
    assert events == [("request", None), ("fault", 503), ("request", None), ("response", 200)]
    assert all(e.at <= time.time() for e in mock.timeline.events())


def test_an_unknown_path_is_a_logged_404(mock):
    assert call(mock, "/no-such-page", "GET").get("status") == 404
    assert mock.timeline.events("response")[-1].data["status"] == 404


# -- the mock's own failures -------------------------------------------------------------------------------------

def test_an_exception_in_a_handler_is_a_recorded_500_not_an_unanswered_request(mock, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise KeyError("a bug in the mock")

    monkeypatch.setattr("harness.sdks.clerk.fapi.client", broken)
    answer = call(mock, CLIENT, "GET")
    assert answer["status"] == 500 and answer["body"]["errors"][0]["code"] == "mock_server_error"
    error = mock.timeline.events("mock.error")[-1]
    assert error.data["path"] == CLIENT and "KeyError" in error.data["error"]
    assert "a bug in the mock" in error.data["traceback"] and "Traceback" in error.data["traceback"]
    assert mock.timeline.events("response")[-1].data["status"] == 500  # the request has its answer on the timeline


def test_an_exception_in_a_delayed_answer_is_recorded_too(mock, monkeypatch):
    monkeypatch.setattr("harness.sdks.clerk.fapi.client", lambda *a, **k: 1 / 0)
    arm(mock, kind="delay", path=CLIENT, delay=0.05)
    assert call(mock, CLIENT, "GET")["status"] == 500
    assert "ZeroDivisionError" in mock.timeline.events("mock.error")[-1].data["error"]


# -- tokens as the real Frontend API mints them, and late answers with older tokens -------------------------------

def test_tokens_carry_the_origin_issued_at_header_and_the_session_category(mock):
    import jwt as pyjwt

    token = call(mock)["body"]["jwt"]
    header = pyjwt.get_unverified_header(token)
    claims = pyjwt.decode(token, options={"verify_signature": False})
    assert header["oiat"] == claims["iat"] and header["cat"] == "cl_B7d4PD111AAA" and header["typ"] == "JWT"
    assert claims["v"] == 2 and claims["fva"] == [0, -1] and claims["sts"] == "active"


def _serial(token: str) -> int:
    import jwt as pyjwt

    return int(pyjwt.decode(token, options={"verify_signature": False})["jti"].split("_")[1])


@pytest.mark.parametrize("token,older", [("arrival", True), ("answer", False)])
def test_a_held_answer_carries_the_token_minted_on_arrival_when_asked(mock, token, older):
    arm(mock, kind="hold", path="*/tokens", times=1, token=token)

    async def scenario() -> tuple[dict, dict]:
        held = asyncio.create_task(_call(mock, TOKENS))
        while not mock.timeline.events("fault.held"):
            await asyncio.sleep(0.01)
        fresh = await _call(mock, TOKENS)  # answered at once, while the first waits
        mock.release()
        return await held, fresh

    late, fresh = asyncio.run(scenario())
    assert (_serial(late["body"]["jwt"]) < _serial(fresh["body"]["jwt"])) is older


# -- a drop applies as itself every time, and is never called released unless it was ------------------------------

def test_drop_mid_body_cuts_every_matching_request_mid_body(mock):
    # Before, the 2nd and later matches took the path of a fault released with a drop: closed before the headers.
    arm(mock, kind="drop", path="*/tokens", at="body")
    assert [call(mock).get("failed") for _ in range(3)] == ["mid-body"] * 3
    assert [e.data["drop_at"] for e in mock.timeline.events("fault")] == ["body"] * 3


def test_a_drop_never_released_is_never_labelled_released(mock):
    from harness.report import view

    fault = arm(mock, kind="drop", path="*/tokens")
    assert statuses(mock, 3) == ["before-headers"] * 3
    # Its later applications are the drop itself, not "its fault was released with a drop".
    assert all("after" not in e.data for e in mock.timeline.events("fault"))
    log = view.request_log(mock.timeline.to_list())
    assert [r["answer"] for r in log if r["path"] == TOKENS] == [f"dropped before the headers by fault {fault.id}"] * 3
    mock.stop()  # the run ends with the drop still armed
    assert fault.state == "unreleased" and not fault.released
    assert not mock.timeline.events("fault.released")
    end = mock.timeline.events("fault.unreleased")
    assert [e.data for e in end] == [{"fault": fault.id, "kind": "drop", "was": "armed", "applied": 3}]
    rows = [r.what for r in view.timeline_rows(mock.timeline.to_list(), [], None)]
    assert f"fault {fault.id} (drop) was never released: still armed when the run ended; it applied 3 times" in rows
    assert not any("released (" in row for row in rows)


def test_a_hold_still_dropping_at_the_end_is_not_called_ended(mock):
    from harness.report import view

    fault = arm(mock, kind="hold", path="*/tokens", times=1)
    asyncio.run(_held_then(mock, lambda: mock.release(fault.id, "drop")))
    mock.stop()
    assert [e.data["was"] for e in mock.timeline.events("fault.unreleased")] == ["dropping"]
    rows = [r.what for r in view.timeline_rows(mock.timeline.to_list(), [], None)]
    assert any(f"fault {fault.id} released with a drop" in r and "until released again" in r for r in rows)
    assert any("still dropping after its release with a drop when the run ended" in r for r in rows)


def test_a_request_held_when_the_run_ends_is_dropped_and_says_why(mock):
    arm(mock, kind="hold", path="*/tokens")
    r = asyncio.run(_held_then(mock, mock.stop))
    assert r["failed"] == "before-headers"
    assert mock.timeline.events("fault")[-1].data["after"] == "run-end"


def test_an_nth_call_drop_marks_its_applications_outside_calls_as_repeats(mock):
    arm(mock, kind="drop", path="*/tokens", calls=[2])
    assert statuses(mock, 3) == [200, "before-headers", "before-headers"]
    assert [e.data.get("repeat", False) for e in mock.timeline.events("fault")] == [False, True]


# -- composition: kinds chained on one request ----------------------------------------------------------------------

def test_a_chain_delays_then_cuts_mid_body_every_time(mock):
    from harness.report import view

    fault = arm(mock, path="*/tokens", chain=[{"delay": "300ms"}, {"drop": "body"}])
    for _ in range(2):  # a chain with a drop keeps applying, each time as a whole
        started = time.monotonic()
        r = call(mock)
        assert r["status"] == 200 and r["failed"] == "mid-body"
        assert time.monotonic() - started >= 0.3
    events = [(e.data["kind"], e.data["stage"], e.data.get("delay"), e.data.get("drop_at"))
              for e in mock.timeline.events("fault")]
    assert events == [("delay", 1, 0.3, None), ("drop", 2, None, "body")] * 2
    armed = mock.timeline.events("fault.armed")[0].data
    assert armed == {"fault": fault.id, "kind": "chain", "path": "*/tokens",
                     "chain": [{"kind": "delay", "delay": 0.3}, {"kind": "drop", "drop_at": "body"}]}
    log = [r for r in view.request_log(mock.timeline.to_list()) if r["path"] == TOKENS]
    assert log[0]["answer"] == f"delayed 0.3 s, then dropped mid-body by fault {fault.id}"
    rows = [r.what for r in view.timeline_rows(mock.timeline.to_list(), [], None)]
    assert f"fault {fault.id} armed: delay 0.3 s, then drop mid-body on */tokens" in rows


def test_a_chain_holds_then_answers_its_own_status(mock):
    fault = arm(mock, path="*/tokens", chain=["hold", {"status": 503}])
    r = asyncio.run(_held_then(mock, lambda: mock.release(fault.id, "pass")))
    assert r["status"] == 503 and r["body"]["errors"][0]["code"] == "internal_clerk_error"
    assert [e.kind for e in mock.timeline.events() if e.kind in ("fault", "fault.held")] == ["fault.held", "fault"]
    assert call(mock)["status"] == 200  # released: the chain ended as one fault


def test_a_chain_delays_a_status_so_the_sdk_sees_a_slow_429(mock):
    arm(mock, path="*/tokens", chain=[{"delay": 0.2}, {"status": 429}])
    started = time.monotonic()
    assert call(mock)["status"] == 429 and time.monotonic() - started >= 0.2
    # `wait_for: token_response` counts a status fault's event: a chain's status stage is one.
    from harness.scenario.steps import WAIT_EVENTS

    assert sum(WAIT_EVENTS["token_response"](e) for e in mock.timeline.events()) == 1


def test_a_chain_ending_in_a_normal_answer_says_what_let_it_through(mock):
    arm(mock, path="*/tokens", chain=[{"delay": 0.05}, {"delay": 0.05}])
    assert call(mock)["status"] == 200
    assert mock.timeline.events("response")[-1].data["after"] == "delay"


# -- named requests: the adapter says which path `on: NAME` is ----------------------------------------------------

def test_on_names_the_request_through_the_adapter(mock):
    token = arm(mock, kind="status", status=429, on="token")
    client = arm(mock, kind="status", status=500, on="client", method="GET")
    assert (token.path, client.path) == ("*/tokens", "*/v1/client")
    assert call(mock)["status"] == 429 and call(mock, CLIENT, "GET")["status"] == 500
    assert mock.timeline.events("fault.armed")[0].data["on"] == "token"


def test_no_path_and_no_on_takes_the_token_request(mock):
    assert arm(mock, kind="drop").path == "*/tokens"


def test_on_token_for_supabase_is_gotrue_s_token_endpoint():
    from harness.errors import HarnessError
    from harness.sdks.supabase import SupabaseSdk

    server = MockAuthServer(Timeline(), SupabaseSdk(), bundle_dist=None, sdk_version="0.0.0")
    with server:
        assert arm(server, kind="status", status=503, on="token").path == "*/auth/v1/token"
        assert call(server, "/auth/v1/token?grant_type=refresh_token")["status"] == 503
        # GoTrue mints when it answers: `token: arrival` is refused when the fault is armed, never ignored.
        with pytest.raises(HarnessError, match="token: arrival needs an SDK whose tokens can be pinned"):
            server.add_fault(fault_from(FaultArgs.model_validate({"kind": "hold", "token": "arrival"}), server.sdk))
