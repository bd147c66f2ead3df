"""Oracles: the questions asked of a run's timeline, and the outcome they add up to.

Each check looks only at timeline events -- cookie writes seen in the page, what the server read from
``__session``, the SDK's view after a reload, the browser's own cookie jar -- so a verdict is always backed by the
events that justify it. The outcome is one of ``survived``, ``reproduced``, ``signed-out``, ``stuck``; whether that
matches what a scenario file expects is decided elsewhere, after the fact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

from harness.timeline import Event, Timeline


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str
    t: float | None = None  # when the deciding event happened (seconds since start)
    step: int | None = None  # during which step (1-based index into the scenario's steps)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Judgement:
    outcome: str
    sentence: str
    checks: list[Check]


def _step_name(step: int | None, steps: Sequence[str]) -> str:
    if step is None or step < 1 or step > len(steps):
        return "before the first step"
    return f"step {step} `{steps[step - 1]}`"


def _into(event: Event, timeline: Timeline) -> str:
    starts = [e for e in timeline.events("step.start") if e.data.get("index") == event.step]
    return f"{event.at - starts[0].at:.1f} s into " if starts else ""


def judge(timeline: Timeline, steps: Sequence[str], session_cookies: Sequence[str]) -> Judgement:
    """Look at the whole timeline and say what happened to the session."""
    events = timeline.events()
    cookie_events = [e for e in events if e.kind == "cookie" and e.data.get("name") in session_cookies]
    revoked = next((e for e in events if e.kind == "session.revoked"), None)
    revoked_at = revoked.at if revoked else float("inf")
    signed_in_at = next((e.at for e in cookie_events if e.data.get("op") == "set"), None)
    checks: list[Check] = []

    if signed_in_at is None:
        check = Check("session-cookie-written", False, f"the SDK never wrote {session_cookies[0]}: the run never "
                      "signed in, so nothing it checked could fail")
        return Judgement("error", check.detail, [check])

    # 1. Continuous: was a session cookie ever removed while the server still held the session?
    removals = [e for e in cookie_events if e.data.get("op") == "removed" and e.data.get("was_present")]
    early = [e for e in removals if e.at < revoked_at]
    if early:
        first = early[0]
        back = next((e for e in cookie_events if e.at > first.at and e.data.get("op") == "set"
                     and e.data.get("name") == first.data.get("name")), None)
        detail = (f"`{first.data['name']}` removed at t={first.t:.2f} s, {_into(first, timeline)}"
                  f"{_step_name(first.step, steps)}, while the session was valid"
                  f" (browser {'online' if first.data.get('online') else 'offline'})")
        if back is not None:
            fresh = _freshness(back, first)
            detail += f"; written back {1000 * (back.at - first.at):.0f} ms later with {fresh}"
        checks.append(Check("cookie-never-removed", False, detail, first.t, first.step))
    else:
        checks.append(Check("cookie-never-removed", True,
                            f"{len(cookie_events)} writes of the session cookies, none removed a valid session"))

    # 2. The server's view on each page load after sign-in.
    views = [e for e in events if e.kind == "server.view" and e.at > signed_in_at]
    bad_views = [e for e in views if not e.data.get("signed_in") and e.at < revoked_at]
    if bad_views:
        v = bad_views[0]
        checks.append(Check("server-sees-session", False,
                            f"the server saw the user signed out ({v.data.get('reason')} `__session`) on "
                            f"{v.data.get('path')} during {_step_name(v.step, steps)}", v.t, v.step))
    elif views and revoked is None:
        checks.append(Check("server-sees-session", True, f"the server saw a valid session on all {len(views)} "
                            "page loads after sign-in"))

    # 3. The SDK's own view after reloads / navigations.
    sdk_views = [e for e in events if e.kind == "sdk.view" and e.at > signed_in_at and e.at < revoked_at]
    lost_views = [e for e in sdk_views if not e.data.get("user")]
    if lost_views:
        v = lost_views[0]
        checks.append(Check("sdk-sees-user", False, f"the SDK showed no user during {_step_name(v.step, steps)}",
                            v.t, v.step))
    elif sdk_views:
        checks.append(Check("sdk-sees-user", True, f"the SDK showed the user in all {len(sdk_views)} checks"))

    # 4. The watcher against the browser's own cookie jar.
    mismatches = [e for e in events if e.kind == "cookie.mismatch"]
    if mismatches:
        m = mismatches[0]
        checks.append(Check("watcher-matches-jar", False, f"the cookie jar disagreed with the watcher at "
                            f"t={m.t:.2f} s: {m.data}", m.t, m.step))
    elif any(e.kind == "cookie.jar" for e in events):
        checks.append(Check("watcher-matches-jar", True, "the browser's cookie jar agreed with the watcher at "
                            "every step"))

    lost = [c for c in checks if not c.passed and c.name != "watcher-matches-jar"]
    if revoked is None:
        if lost:
            return Judgement("reproduced", lost[0].detail, checks)
        return Judgement("survived", "the session survived: " + checks[0].detail, checks)

    # Negative control: after the server ended the session, the browser must drop it.
    if lost:
        return Judgement("reproduced", lost[0].detail, checks)
    after = [e for e in cookie_events if e.at >= revoked_at]
    gone = any(e.data.get("op") == "removed" for e in after)
    final_present = bool(after) and after[-1].data.get("op") == "set"
    late_views = [e for e in events if e.kind == "server.view" and e.at >= revoked_at]
    if gone and not final_present:
        first = next(e for e in after if e.data.get("op") == "removed")
        checks.append(Check("signed-out-after-revocation", True,
                            f"after the server ended the session, `{first.data['name']}` was removed at "
                            f"t={first.t:.2f} s during {_step_name(first.step, steps)}", first.t, first.step))
        if late_views and late_views[-1].data.get("signed_in"):
            checks.append(Check("server-sees-sign-out", False, "the server still accepted the cookie after "
                                "revocation"))
            return Judgement("stuck", checks[-1].detail, checks)
        return Judgement("signed-out", checks[-1].detail, checks)
    checks.append(Check("signed-out-after-revocation", False, "the server ended the session but the browser kept "
                        "its session cookie"))
    return Judgement("stuck", checks[-1].detail, checks)


def _freshness(written: Event, removed: Event) -> str:
    iat = written.data.get("iat")
    if iat is None:
        return "a token we could not read"
    age = removed.at - iat
    stale = iat < removed.at - 1
    return f"a {'stale' if stale else 'fresh'} token (iat {age:.0f} s before the removal)"
