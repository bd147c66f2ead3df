"""The oracles on hand-made timelines: every check can pass AND fail, and the outcome follows. No browser."""

from __future__ import annotations

from harness.oracles import judge
from harness.timeline import Timeline

COOKIES = ("__session", "__session_abc")
STEPS = ["signed_in", "offline", "wait_for token_attempt", "online", "reload"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def make() -> tuple[Timeline, Clock]:
    clock = Clock()
    return Timeline(clock=clock), clock


def step(tl: Timeline, clock: Clock, index: int, dt: float = 0.5) -> None:
    clock.now += dt
    tl.emit("runner", "step.start", index=index, name=STEPS[index - 1])


def cookie(tl: Timeline, clock: Clock, op: str, iat: float | None = None, dt: float = 0.01, **extra) -> None:
    clock.now += dt
    for name in COOKIES:
        data = {"name": name, "op": op, "was_present": op == "removed", "online": extra.get("online", True)}
        if iat is not None:
            data["iat"], data["exp"] = int(iat), int(iat) + 60
        tl.emit("page", "cookie", **data)


def signed_in(tl: Timeline, clock: Clock) -> float:
    step(tl, clock, 1)
    iat = clock.now
    cookie(tl, clock, "set", iat=iat)
    return iat


def view(tl: Timeline, clock: Clock, signed: bool, reason: str = "ok") -> None:
    clock.now += 0.01
    tl.emit("mock", "server.view", path="/", signed_in=signed, reason=reason)


def check(j, name):
    return next(c for c in j.checks if c.name == name)


def test_survived_when_nothing_was_removed():
    tl, clock = make()
    signed_in(tl, clock)
    step(tl, clock, 2)
    step(tl, clock, 5)
    view(tl, clock, True)
    tl.emit("browser", "cookie.jar", present=list(COOKIES))
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "survived"
    assert all(c.passed for c in j.checks)


def test_a_removal_lasting_milliseconds_counts_and_a_stale_write_back_is_named():
    tl, clock = make()
    load_iat = signed_in(tl, clock)
    step(tl, clock, 2, dt=9)
    cookie(tl, clock, "removed", online=False)
    cookie(tl, clock, "set", iat=load_iat, dt=0.003)  # the focus-touch writes lastActiveToken back, 3 ms later
    step(tl, clock, 5)
    view(tl, clock, True)  # the server still sees a (stale) token: only the continuous check can tell
    tl.emit("browser", "cookie.jar", present=list(COOKIES))
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "reproduced"
    lost = check(j, "cookie-never-removed")
    assert not lost.passed and lost.step == 2
    assert "written back 3 ms later with a stale token (the load-time token" in lost.detail
    assert not check(j, "write-back-fresh").passed
    assert check(j, "server-sees-session").passed


def test_a_fresh_write_back_is_told_apart():
    tl, clock = make()
    signed_in(tl, clock)
    step(tl, clock, 2, dt=9)
    cookie(tl, clock, "removed", online=False)
    cookie(tl, clock, "set", iat=clock.now + 0.2, dt=0.5)
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "reproduced"
    assert "with a fresh token" in check(j, "cookie-never-removed").detail
    assert check(j, "write-back-fresh").passed


def test_server_view_alone_can_decide():
    tl, clock = make()
    signed_in(tl, clock)
    step(tl, clock, 5)
    view(tl, clock, False, "expired")
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "reproduced" and "expired `__session`" in j.sentence


def test_cookie_missing_from_the_jar_at_the_end():
    tl, clock = make()
    signed_in(tl, clock)
    tl.emit("browser", "cookie.jar", present=[COOKIES[0]])
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "reproduced" and not check(j, "cookie-present-at-end").passed


def test_sdk_view_after_a_reload_with_the_client_read_failing():
    tl, clock = make()
    signed_in(tl, clock)
    step(tl, clock, 5)
    tl.emit("page", "sdk.view", user=None, status="degraded", client_read=503, client_read_path="/v1/client")
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "reproduced"
    assert "while /v1/client answered 503" in check(j, "sdk-sees-user").detail
    tl2, clock2 = make()
    signed_in(tl2, clock2)
    step(tl2, clock2, 5)
    tl2.emit("page", "sdk.view", user="user_1", status="ready", client_read=503)
    j2 = judge(tl2, STEPS, COOKIES)
    assert j2.outcome == "survived" and "restored from the cookie" in check(j2, "sdk-sees-user").detail


def test_get_token_expectation():
    for outcome, passed in (("token", True), ("error", False)):
        tl, clock = make()
        signed_in(tl, clock)
        step(tl, clock, 2)
        tl.emit("runner", "sdk.get_token.call", call="c1", expect="token")
        tl.emit("page", "sdk.get_token", call="c1", outcome=outcome, **({"error": "clerk_offline"}
                                                                        if outcome == "error" else {}))
        j = judge(tl, STEPS, COOKIES)
        assert check(j, "get-token").passed is passed
        assert j.outcome == ("survived" if passed else "reproduced")
    tl, clock = make()
    signed_in(tl, clock)
    tl.emit("runner", "sdk.get_token.call", call="c2", expect="token")
    assert "never settled" in check(judge(tl, STEPS, COOKIES), "get-token").detail


def _revoked(tl: Timeline, clock: Clock) -> None:
    signed_in(tl, clock)
    step(tl, clock, 2)
    tl.emit("mock", "session.revoked")


def test_revocation_then_removal_is_signed_out():
    tl, clock = make()
    _revoked(tl, clock)
    cookie(tl, clock, "removed", dt=4)
    step(tl, clock, 5)
    view(tl, clock, False, "absent")
    tl.emit("browser", "cookie.jar", present=[])
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "signed-out"
    assert check(j, "signed-out-after-revocation").passed and check(j, "browser-stops-presenting").passed


def test_revocation_without_removal_is_stuck():
    tl, clock = make()
    _revoked(tl, clock)
    step(tl, clock, 5)
    view(tl, clock, False, "revoked")
    tl.emit("browser", "cookie.jar", present=list(COOKIES))
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "stuck" and not check(j, "signed-out-after-revocation").passed


def test_revocation_removed_but_written_back_is_stuck():
    tl, clock = make()
    _revoked(tl, clock)
    cookie(tl, clock, "removed", dt=4)
    cookie(tl, clock, "set", iat=clock.now - 30)
    tl.emit("browser", "cookie.jar", present=list(COOKIES))
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "stuck" and "written back" in j.sentence


def test_never_signed_in_is_an_error_not_a_pass():
    tl, clock = make()
    step(tl, clock, 1)
    assert judge(tl, STEPS, COOKIES).outcome == "error"


def test_a_jar_the_watcher_disagrees_with_gives_no_verdict():
    # The watcher says the cookie is there; the browser's jar says it is gone (a removal the page hook cannot see,
    # e.g. a Set-Cookie header). The run must not be called "survived".
    tl, clock = make()
    signed_in(tl, clock)
    step(tl, clock, 5)
    view(tl, clock, True)
    tl.emit("browser", "cookie.jar", present=[])
    tl.emit("browser", "cookie.mismatch", __session={"watcher": True, "jar": False})
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "error"
    assert not check(j, "watcher-matches-jar").passed
    assert "no verdict" in j.sentence


def test_freshness_is_decided_by_when_the_mock_minted_the_token_not_by_iat():
    # The load-time token written back 1 s after sign-in has an iat within a second of the removal: by iat alone it
    # would pass for fresh. Its mint event says it is older than the removal.
    tl, clock = make()
    step(tl, clock, 1)
    tl.emit("mock", "token.minted", jti="tok_1")
    clock.now += 0.01
    iat = clock.now
    for name in COOKIES:
        tl.emit("page", "cookie", name=name, op="set", was_present=False, iat=int(iat), exp=int(iat) + 60,
                jti="tok_1", online=True)
    step(tl, clock, 2, dt=0.5)
    cookie(tl, clock, "removed", online=False)
    clock.now += 0.003
    for name in COOKIES:
        tl.emit("page", "cookie", name=name, op="set", was_present=False, iat=int(iat), exp=int(iat) + 60,
                jti="tok_1", online=False)
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "reproduced"
    assert "stale token (the load-time token" in check(j, "cookie-never-removed").detail
    assert not check(j, "write-back-fresh").passed

    # The same write-back with a token minted after the removal is fresh.
    tl2, clock2 = make()
    step(tl2, clock2, 1)
    cookie(tl2, clock2, "set", iat=clock2.now)
    step(tl2, clock2, 2, dt=0.5)
    cookie(tl2, clock2, "removed", online=False)
    clock2.now += 0.5
    tl2.emit("mock", "token.minted", jti="tok_2")
    for name in COOKIES:
        tl2.emit("page", "cookie", name=name, op="set", was_present=False, iat=int(clock2.now),
                 exp=int(clock2.now) + 60, jti="tok_2", online=True)
    j2 = judge(tl2, STEPS, COOKIES)
    assert "fresh token (minted 0.5 s after the removal)" in check(j2, "cookie-never-removed").detail


def test_a_mock_failure_is_error_with_its_traceback_never_a_verdict():
    tl, clock = make()
    signed_in(tl, clock)
    step(tl, clock, 2)
    tl.emit("mock", "mock.error", method="GET", path="/__clerk/v1/client", error="KeyError: 'x'",
            traceback="Traceback (most recent call last):\n  ...\nKeyError: 'x'")
    cookie(tl, clock, "removed", online=False)  # what the SDK did after a 500 from a broken mock proves nothing
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "error"
    assert "the mock server failed on GET /__clerk/v1/client" in j.sentence and "no verdict" in j.sentence
    assert j.error is not None and "Traceback" in j.error
    assert [c.name for c in j.checks] == ["mock-healthy"] and not j.checks[0].passed


def _write(tl: Timeline, clock: Clock, jti: str, iat: float, oiat: float | None = None, dt: float = 0.5) -> None:
    clock.now += dt
    data = {"name": "__session", "op": "set", "was_present": True, "iat": int(iat), "exp": int(iat) + 60, "jti": jti}
    if oiat is not None:
        data["oiat"] = int(oiat)
    tl.emit("page", "cookie", **data)


def test_the_token_only_moves_forward_and_a_late_older_token_is_caught():
    tl, clock = make()
    load = signed_in(tl, clock)
    step(tl, clock, 2)
    _write(tl, clock, "tok_2", load + 10, oiat=load + 10)
    _write(tl, clock, "tok_3", load + 20, oiat=load + 20)
    tl.emit("browser", "cookie.jar", present=list(COOKIES))
    forward = judge(tl, STEPS, COOKIES)
    assert forward.outcome == "survived" and check(forward, "token-moves-forward").passed
    _write(tl, clock, "tok_2", load + 10, oiat=load + 10)  # a slow response lands late with the older token
    back = judge(tl, STEPS, COOKIES)
    lost = check(back, "token-moves-forward")
    assert back.outcome == "reproduced" and not lost.passed and "10 s older" in lost.detail


def test_tokens_of_the_same_second_are_ordered_by_mint_order():
    tl, clock = make()
    load = signed_in(tl, clock)
    _write(tl, clock, "tok_7", load, oiat=load)
    _write(tl, clock, "tok_6", load, oiat=load)
    j = judge(tl, STEPS, COOKIES)
    lost = check(j, "token-moves-forward")
    assert not lost.passed and "minted earlier in the same second" in lost.detail


def test_oiat_decides_before_iat():
    tl, clock = make()
    load = signed_in(tl, clock)
    _write(tl, clock, "tok_2", load + 30, oiat=load)       # re-issued later from an older origin token
    _write(tl, clock, "tok_3", load + 5, oiat=load + 5)    # a newer origin token, though its iat is earlier
    assert check(judge(tl, STEPS, COOKIES), "token-moves-forward").passed


def test_a_new_check_is_one_registered_function_and_the_outcome_follows_its_role():
    import pytest

    from harness.oracles import CHECKS, Check, check

    @check("api-always-answers", "loss", passes="always", fails="never, in this test")
    def api_always_answers(facts):
        return [Check("api-always-answers", False, "the API refused a signed-in user")]

    try:
        tl, clock = make()
        signed_in(tl, clock)
        tl.emit("browser", "cookie.jar", present=list(COOKIES))
        j = judge(tl, STEPS, COOKIES)
        assert j.outcome == "reproduced" and j.sentence.startswith("the API refused a signed-in user")
        with pytest.raises(ValueError):
            check("api-always-answers", "loss", passes="", fails="")(api_always_answers)
    finally:
        CHECKS.pop("api-always-answers")


def test_every_registered_check_says_when_it_passes_and_why_it_can_fail():
    from typing import get_args

    from harness.oracles import CHECKS
    from harness.oracles.checks import Role

    assert list(CHECKS)[:2] == ["mock-healthy", "session-cookie-written"]  # the gates run first
    for spec in CHECKS.values():
        assert spec.passes and spec.fails and spec.role in get_args(Role)


def _api(tl: Timeline, clock: Clock, signed: bool, token: str = "ok", dt: float = 1.0) -> None:
    clock.now += dt
    tl.emit("mock", "server.view", path="/api/me", document=False, signed_in=signed, decision="signed-in" if signed
            else "signed-out", reason="ok" if signed else "client-uat-but-no-session-token", token=token)


def test_the_api_refusing_a_valid_session_is_reported_as_a_window():
    tl, clock = make()
    signed_in(tl, clock)
    _api(tl, clock, True)
    tl.emit("browser", "cookie.jar", present=list(COOKIES))
    assert check(judge(tl, STEPS, COOKIES), "api-serves-signed-in-user").passed
    step(tl, clock, 2)
    for _ in range(3):
        _api(tl, clock, False, token="absent")
    _api(tl, clock, True, dt=1.8)
    j = judge(tl, STEPS, COOKIES)
    lost = check(j, "api-serves-signed-in-user")
    assert j.outcome == "reproduced" and not lost.passed
    assert lost.detail.startswith("the app was signed out for at least 2.0 s, at most 3.8 s: the API refused 3 "
                                  "calls from")


def test_one_refused_api_call_is_no_window_of_zero_seconds():
    tl, clock = make()
    signed_in(tl, clock)
    _api(tl, clock, True)
    tl.emit("browser", "cookie.jar", present=list(COOKIES))
    step(tl, clock, 2)
    _api(tl, clock, False, token="absent")
    _api(tl, clock, True, dt=1.5)
    lost = check(judge(tl, STEPS, COOKIES), "api-serves-signed-in-user")
    assert not lost.passed and "0.0 s" not in lost.detail
    assert lost.detail.startswith("the app was signed out for at most 1.5 s: the API refused a call at t="), lost.detail


def test_an_api_refusal_of_a_merely_expired_kept_token_is_no_loss():
    tl, clock = make()
    signed_in(tl, clock)
    _api(tl, clock, False, token="expired")
    _api(tl, clock, True)
    tl.emit("browser", "cookie.jar", present=list(COOKIES))
    assert check(judge(tl, STEPS, COOKIES), "api-serves-signed-in-user").passed


def test_a_release_that_never_writes_the_suffixed_cookie_is_not_asked_for_it():
    """Early 5.x (5.0.0) write `__session` only: its absence of `__session_<suffix>` is no loss. A cookie the run
    did see, in a write or in an earlier jar, must still be there at the end."""
    tl, clock = make()
    step(tl, clock, 1)
    clock.now += 0.01
    tl.emit("page", "cookie", name=COOKIES[0], op="set", was_present=False, online=True)
    tl.emit("browser", "cookie.jar", present=[COOKIES[0]])
    step(tl, clock, 5)
    view(tl, clock, True)
    tl.emit("browser", "cookie.jar", present=[COOKIES[0]])
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "survived" and check(j, "cookie-present-at-end").passed

    tl, clock = make()
    step(tl, clock, 1)
    clock.now += 0.01
    tl.emit("page", "cookie", name=COOKIES[0], op="set", was_present=False, online=True)
    tl.emit("browser", "cookie.jar", present=list(COOKIES))  # the twin came by a Set-Cookie header
    step(tl, clock, 5)
    tl.emit("browser", "cookie.jar", present=[COOKIES[0]])
    j = judge(tl, STEPS, COOKIES)
    assert j.outcome == "reproduced" and f"no `{COOKIES[1]}`" in check(j, "cookie-present-at-end").detail


def _kept_without_a_refresh(optional_wait_ran_out: bool):
    tl, clock = make()
    signed_in(tl, clock)
    step(tl, clock, 2)
    step(tl, clock, 3)
    if optional_wait_ran_out:
        clock.now += 15
        tl.emit("runner", "wait.timeout", event="token_attempt", seconds=15.0, count=1, seen=0)
    step(tl, clock, 4)
    step(tl, clock, 5)
    view(tl, clock, True)
    return judge(tl, STEPS, COOKIES)


def test_an_action_that_never_came_decides_nothing_and_the_sentence_says_so():
    """`survived` where the SDK never refreshed offline must not read as "the refresh kept the session"."""
    j = _kept_without_a_refresh(True)
    assert j.outcome == "survived"
    assert ("the SDK made no token attempt within 15 s in step 3 `wait_for token_attempt` (an optional wait: the "
            "timeline went on without it)") in j.sentence
    assert "no token attempt" not in _kept_without_a_refresh(False).sentence
