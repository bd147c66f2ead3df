"""The oracles on a session kept in localStorage (Supabase's store): a removal of the key counts like a removal of
``__session``, the store's own state and the cross-check decide the end checks, and a cookie event never stands in
for the store (nor the other way round). Hand-made timelines, no browser."""

from __future__ import annotations

from typing import Callable

import pytest

from harness.oracles import judge
from harness.sdk_protocol import SessionStore
from harness.timeline import Timeline

KEY = "sb-127-auth-token"
STORE = SessionStore("localStorage", (KEY,), credential="access token")
STEPS = ["signed_in", "hide", "offline", "show", "wait_for token_attempt", "online", "reload"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def recorder(step_s: float = 0.1) -> tuple[Timeline, Callable[..., None]]:
    """A timeline on a hand-driven clock, and an ``emit`` that moves it ``step_s`` on per event (None data dropped)."""
    clock = Clock()
    tl = Timeline(clock=clock)

    def emit(source: str, kind: str, **data) -> None:
        clock.now += step_s
        tl.emit(source, kind, **{k: v for k, v in data.items() if v is not None})

    return tl, emit


def run(*writes: str, end_present: bool = True, revoke: bool = False, mismatch: bool = False,
        views: tuple[bool, ...] = (True,)) -> tuple:
    tl, emit = recorder()
    emit("runner", "step.start", index=1, name="signed_in")
    emit("page", "storage", name=KEY, op="set", was_present=False, via="setItem", iat=1000, exp=1008)
    if revoke:
        emit("mock", "session.revoked")
    emit("runner", "step.start", index=4, name="show")
    for op in writes:
        emit("page", "storage", name=KEY, op=op, was_present=True, via="removeItem", online=False)
    emit("runner", "step.start", index=7, name="reload")
    for signed in views:
        emit("mock", "server.view", path="/api/me", signed_in=signed, reason="ok" if signed else "absent")
    emit("browser", "storage.state", present=[KEY] if end_present else [])
    if mismatch:
        emit("browser", "storage.mismatch", **{KEY: {"watcher": False, "browser": True}})
    return judge(tl, STEPS, STORE, user_view="`getSession().session.user`")


def test_a_kept_key_survives():
    j = run()
    assert j.outcome == "survived" and KEY in j.sentence


def test_a_removed_key_reproduces_with_when_and_where():
    j = run("removed", end_present=False, views=(False,))
    assert j.outcome == "reproduced"
    assert j.sentence.startswith(f"`{KEY}` removed at t=") and "step 4 `show`" in j.sentence
    assert "browser offline" in j.sentence
    end = next(c for c in j.checks if c.name == "cookie-present-at-end")
    assert not end.passed and "localStorage" in end.detail
    server = next(c for c in j.checks if c.name == "server-sees-session")
    assert not server.passed and "absent access token" in server.detail


def test_a_removal_undone_at_once_still_reproduces():
    assert run("removed", "set").outcome == "reproduced"


def test_the_store_missing_at_the_end_reproduces_even_without_a_seen_removal():
    assert run(end_present=False).outcome == "reproduced"


def test_a_mismatch_with_the_browsers_localstorage_is_no_verdict():
    j = run(mismatch=True)
    assert j.outcome == "error" and "localStorage disagreed" in j.sentence


def test_revocation_then_removal_is_signed_out_and_a_kept_key_is_stuck():
    assert run("removed", revoke=True, end_present=False, views=(False,)).outcome == "signed-out"
    assert run(revoke=True).outcome == "stuck"


def test_cookie_events_do_not_count_for_a_localstorage_store():
    clock = Clock()
    tl = Timeline(clock=clock)
    tl.emit("runner", "step.start", index=1, name="signed_in")
    tl.emit("page", "cookie", name=KEY, op="set", was_present=False)
    j = judge(tl, STEPS, STORE)
    assert j.outcome == "error" and "never wrote" in j.sentence


def test_another_tabs_echo_of_a_removal_is_not_a_second_removal():
    clock = Clock()
    tl = Timeline(clock=clock)
    tl.emit("runner", "step.start", index=1, name="signed_in")
    tl.emit("page", "storage", name=KEY, op="set", was_present=False, via="setItem")
    clock.now += 1
    tl.emit("page", "storage", name=KEY, op="removed", was_present=True, via="removeItem", tab=1)
    tl.emit("page", "storage", name=KEY, op="removed", was_present=True, via="storage-event", tab=2)
    j = judge(tl, STEPS, STORE)
    assert j.outcome == "reproduced" and "times in all" not in j.sentence


def test_a_bearer_call_begun_before_the_removal_is_not_presenting_after_it():
    """A page reads a bearer token and calls the API with it: a call it began just before the SDK removed the token
    may land just after. Presenting is judged on what the page sends once it has loaded again."""
    def timeline(late_with_token: bool) -> Timeline:
        clock = Clock()
        tl = Timeline(clock=clock)
        tl.emit("runner", "step.start", index=1, name="signed_in")
        tl.emit("page", "storage", name=KEY, op="set", was_present=False, via="setItem")
        clock.now += 1
        tl.emit("mock", "session.revoked")
        clock.now += 0.1
        tl.emit("page", "storage", name=KEY, op="removed", was_present=True, via="removeItem")
        clock.now += 0.03  # the call begun before the removal lands now
        tl.emit("mock", "server.view", path="/api/me", document=False, signed_in=False, reason="revoked")
        clock.now += 0.2
        tl.emit("mock", "request", method="GET", path="/")  # the page loads again
        clock.now += 0.05
        tl.emit("mock", "server.view", path="/api/me", document=False, signed_in=False,
                reason="revoked" if late_with_token else "absent")
        tl.emit("browser", "storage.state", present=[])
        return tl

    assert judge(timeline(False), STEPS, STORE).outcome == "signed-out"
    assert judge(timeline(True), STEPS, STORE).outcome == "stuck"  # still sending it after a reload: stuck


RENEWING = SessionStore("localStorage", (KEY,), credential="access token", renews_with="refresh_token")


def backwards(store: SessionStore, renewals: tuple[str | None, str | None], then: str | None = None):
    """Two tabs' refresh race: a newer token written, then an older one put back, each with its renewal's print;
    ``then``: a third write, older still, with this renewal."""
    tl, emit = recorder()
    emit("runner", "step.start", index=1, name="signed_in")
    emit("page", "storage", name=KEY, op="set", was_present=False, via="setItem", iat=1000, exp=1008, jti="t_1",
         renewal="r1")
    emit("runner", "step.start", index=4, name="show")
    emit("page", "storage", name=KEY, op="set", was_present=True, via="setItem", iat=1010, exp=1018, jti="t_3",
         renewal=renewals[0])
    emit("page", "storage", name=KEY, op="set", was_present=True, via="setItem", iat=1009, exp=1017,
         jti="t_2", renewal=renewals[1], tab=2)
    if then is not None:
        emit("page", "storage", name=KEY, op="set", was_present=True, via="setItem", iat=1005, exp=1013,
             jti="t_0", renewal=then, tab=2)
    emit("runner", "step.start", index=7, name="reload")
    emit("mock", "server.view", path="/api/me", signed_in=True, reason="ok")
    emit("browser", "storage.state", present=[KEY])
    return judge(tl, STEPS, store, user_view="`getSession().session.user`")


def moves_forward(j):
    return next(c for c in j.checks if c.name == "token-moves-forward")


def test_an_older_access_token_with_the_same_refresh_token_is_forgiven_and_said():
    j = backwards(RENEWING, ("r2", "r2"))
    check = moves_forward(j)
    assert check.passed and j.outcome == "survived"
    assert "1 put an older access token back with the same refresh_token" in check.detail


def test_an_older_access_token_with_a_different_refresh_token_is_a_loss():
    j = backwards(RENEWING, ("r2", "r1"))
    check = moves_forward(j)
    assert not check.passed and j.outcome == "reproduced"
    assert "went backwards" in check.detail and "and with a different refresh_token" in check.detail


def test_a_store_that_names_no_renewal_forgives_nothing():
    for renewals in (("r2", "r2"), (None, None)):
        check = moves_forward(backwards(STORE, renewals))
        assert not check.passed and "different" not in check.detail
    unseen = moves_forward(backwards(RENEWING, (None, None)))  # no fingerprint seen: nothing to forgive
    assert not unseen.passed and "no refresh_token seen on both writes to compare" in unseen.detail


def test_after_a_forgiven_write_the_newer_token_stays_the_mark():
    check = moves_forward(backwards(RENEWING, ("r2", "r2"), then="r3"))  # older than t_3 with another refresh token
    assert not check.passed and "(t_3," in check.detail and "and with a different refresh_token" in check.detail


@pytest.mark.parametrize("via, moved_forward", [("storage-event", True), ("setItem", False)])
def test_another_tabs_late_echo_of_an_older_write_is_not_a_step_back(via, moved_forward):
    """Seen in 1 of 30 runs of supabase-two-tabs-offline-return on 2.27.0: tab 2 wrote two tokens in turn; the
    background tab 1 got their `storage` events later, the older last. The store always held the newer token. The
    same order made by tab 1's own setItem calls is a step back, and the check says so."""
    tl, emit = recorder(0.01)
    emit("runner", "step.start", index=1, name="signed_in")
    emit("page", "storage", name=KEY, op="set", was_present=True, via="setItem", iat=1000, jti="t_2", renewal="a",
         tab=2)
    emit("page", "storage", name=KEY, op="set", was_present=True, via="setItem", iat=1001, jti="t_3", renewal="b",
         tab=2)
    emit("runner", "step.start", index=3, name="offline")
    emit("page", "storage", name=KEY, op="set", was_present=True, via=via, iat=1001, jti="t_3", renewal="b", tab=1)
    emit("page", "storage", name=KEY, op="set", was_present=True, via=via, iat=1000, jti="t_2", renewal="a",
         tab=1)  # the older write last
    emit("runner", "step.start", index=7, name="reload")
    emit("mock", "server.view", path="/api/me", signed_in=True, reason="ok")
    emit("browser", "storage.state", present=[KEY])
    check = moves_forward(judge(tl, STEPS, RENEWING, user_view="`getSession().session.user`"))
    assert check.passed is moved_forward, check.detail
