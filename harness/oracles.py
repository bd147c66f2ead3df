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
    """Look at the whole timeline and say what happened to the session.

    The checks, each backed by the events that decide it:

    - ``cookie-never-removed``: no write of a session cookie removed it while the server still held the session,
      however briefly (the watcher sees every ``document.cookie`` write); a write-back after a removal is told apart
      as a fresh token or a stale one (``write-back-fresh``);
    - ``cookie-present-at-end``: the browser's own cookie jar holds, after the last step, every session cookie the
      run ever saw (a release that never writes the suffixed twin is not asked for it);
    - ``server-sees-session``: every page load after sign-in reached the server with a valid ``__session``;
    - ``sdk-sees-user``: ``Clerk.user`` was set after every reload or navigation, also when ``/v1/client`` failed
      and the SDK had to fall back to the cookie;
    - ``get-token``: every ``get_token`` step with ``expect:`` got what it expected;
    - ``watcher-matches-jar``: the cookie watcher and the browser's jar agreed after every step;
    - after ``revoke_session``: ``signed-out-after-revocation``, the browser dropped the cookie and stopped
      presenting it (else the outcome is ``stuck``).
    """
    events = timeline.events()
    cookie_events = [e for e in events if e.kind == "cookie" and e.data.get("name") in session_cookies]
    revoked = next((e for e in events if e.kind == "session.revoked"), None)
    revoked_at = revoked.at if revoked else float("inf")
    first_set = next((e for e in cookie_events if e.data.get("op") == "set"), None)
    minted = {e.data["jti"]: e.at for e in events if e.kind == "token.minted" and "jti" in e.data}
    checks: list[Check] = []

    if first_set is None:
        check = Check("session-cookie-written", False, f"the SDK never wrote {session_cookies[0]}: the run never "
                      "signed in, so nothing it checked could fail")
        return Judgement("error", check.detail, [check])
    signed_in_at = first_set.at

    # 1. Continuous: was a session cookie ever removed while the server still held the session?
    removals = [e for e in cookie_events if e.data.get("op") == "removed" and e.data.get("was_present")]
    early = [e for e in removals if e.at < revoked_at]
    if early:
        first = early[0]
        detail = (f"`{first.data['name']}` removed at t={first.t:.2f} s, {_into(first, timeline)}"
                  f"{_step_name(first.step, steps)}, while the session was valid"
                  f" (browser {'online' if first.data.get('online') else 'offline'}"
                  # the page's own visibility at the removal: a loss in a background tab says so
                  f"{', tab hidden' if first.data.get('visibility') == 'hidden' else ''})")
        back = _write_back(first, cookie_events)
        if back is not None:
            fresh, how = _freshness(back, first, first_set, minted)
            detail += f"; written back {1000 * (back.at - first.at):.0f} ms later with {how}"
        again = [e for e in early if e.data.get("name") == first.data.get("name")]
        if len(again) > 1:
            detail += f"; removed {len(again)} times in all"
        checks.append(Check("cookie-never-removed", False, detail, first.t, first.step))
        # Every write-back after a removal, told apart: a stale token (the SDK's lastActiveToken) is not a recovery.
        for removal in early:
            back = _write_back(removal, cookie_events)
            if back is None:
                continue
            fresh, how = _freshness(back, removal, first_set, minted)
            if not fresh:
                checks.append(Check("write-back-fresh", False, f"`{back.data['name']}` written back at t={back.t:.2f} "
                                    f"s during {_step_name(back.step, steps)} with {how}", back.t, back.step))
                break
        else:
            if any(_write_back(r, cookie_events) for r in early):
                checks.append(Check("write-back-fresh", True, "every write-back after a removal carried a token "
                                    "minted after the removal"))
    else:
        checks.append(Check("cookie-never-removed", True,
                            f"{len(cookie_events)} writes of the session cookies, none removed a valid session"))

    # 2. The browser's own jar after the last step (catches a removal the page's watcher cannot see, e.g. by a
    # Set-Cookie header).
    jars = [e for e in events if e.kind == "cookie.jar"]
    if jars and revoked is None:
        last = jars[-1]
        present = set(last.data.get("present", []))
        # Only cookies this release ever had: early 5.x write `__session` alone, never its suffixed twin.
        had = {e.data.get("name") for e in cookie_events if e.data.get("op") == "set"}
        had |= {n for j in jars for n in j.data.get("present", [])}
        missing = [n for n in session_cookies if n in had and n not in present]
        if missing:
            checks.append(Check("cookie-present-at-end", False, f"the browser's cookie jar had no `{missing[0]}` "
                                f"after {_step_name(last.step, steps)}", last.t, last.step))
        else:
            checks.append(Check("cookie-present-at-end", True, "the browser's cookie jar held the session cookies "
                                "after the last step"))

    # 3. The server's view on each page load after sign-in.
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

    # 4. The SDK's own view after reloads / navigations (with /v1/client failing: the cookie fallback).
    sdk_views = [e for e in events if e.kind == "sdk.view" and e.at > signed_in_at and e.at < revoked_at]
    lost_views = [e for e in sdk_views if not e.data.get("user")]
    fallback = [e for e in sdk_views if _client_failed(e)]
    if lost_views:
        v = lost_views[0]
        how = (f" while /v1/client answered {v.data['client_read']} (the SDK's cookie fallback found no session)"
               if _client_failed(v) else "")
        checks.append(Check("sdk-sees-user", False, f"`Clerk.user` was null after {_step_name(v.step, steps)}{how}",
                            v.t, v.step))
    elif sdk_views:
        how = (f", {len(fallback)} of them with /v1/client failing (restored from the cookie)" if fallback else "")
        checks.append(Check("sdk-sees-user", True, f"`Clerk.user` was set after all {len(sdk_views)} page "
                            f"loads{how}"))

    # 5. getToken results the scenario expects.
    calls = [e for e in events if e.kind == "sdk.get_token.call" and e.data.get("expect")]
    if calls:
        results = {e.data.get("call"): e for e in events if e.kind == "sdk.get_token"}
        wrong = []
        for c in calls:
            got = results.get(c.data["call"])
            if got is None or got.data.get("outcome") != c.data["expect"]:
                wrong.append((c, got))
        if wrong:
            c, got = wrong[0]
            said = "never settled" if got is None else (
                f"gave {got.data.get('outcome')}" + (f" ({got.data['error']})" if got.data.get("error") else ""))
            checks.append(Check("get-token", False, f"getToken during {_step_name(c.step, steps)} {said}, expected "
                                f"{c.data['expect']}", (got or c).t, c.step))
        else:
            checks.append(Check("get-token", True, f"all {len(calls)} getToken calls gave what was expected"))

    # 6. The watcher against the browser's own cookie jar.
    mismatches = [e for e in events if e.kind == "cookie.mismatch"]
    if mismatches:
        m = mismatches[0]
        checks.append(Check("watcher-matches-jar", False, f"the cookie jar disagreed with the watcher at "
                            f"t={m.t:.2f} s: {m.data}", m.t, m.step))
    elif jars:
        checks.append(Check("watcher-matches-jar", True, "the browser's cookie jar agreed with the watcher at "
                            "every step"))

    if mismatches:
        # The watcher missed a write (a Set-Cookie header, the CookieStore API, an expiry): every cookie-based
        # answer above may be wrong, so the run has no verdict rather than a possibly false one.
        return Judgement("error", checks[-1].detail + "; the cookie watcher missed a write, so no verdict", checks)
    lost = [c for c in checks if not c.passed and c.name != "write-back-fresh"]
    if revoked is None:
        if lost:
            return Judgement("reproduced", lost[0].detail, checks)
        return Judgement("survived", "the session survived: " + checks[0].detail, checks)
    if lost:
        return Judgement("reproduced", lost[0].detail, checks)

    # Negative control: after the server ended the session, the browser must drop the cookie and stop presenting it.
    after = [e for e in cookie_events if e.at >= revoked_at]
    removed = next((e for e in after if e.data.get("op") == "removed"), None)
    final_present = bool(after) and after[-1].data.get("op") == "set"
    if jars and jars[-1].at >= revoked_at:
        final_present = any(n in jars[-1].data.get("present", []) for n in session_cookies)
    if removed is None or final_present:
        checks.append(Check("signed-out-after-revocation", False, "the server ended the session but the browser "
                            f"kept its session cookie{' (written back after its removal)' if removed else ''}"))
        return Judgement("stuck", checks[-1].detail, checks)
    checks.append(Check("signed-out-after-revocation", True,
                        f"after the server ended the session, `{removed.data['name']}` was removed at "
                        f"t={removed.t:.2f} s during {_step_name(removed.step, steps)}", removed.t, removed.step))
    late_views = [e for e in events if e.kind == "server.view" and e.at > removed.at]
    presented = [e for e in late_views if e.data.get("reason") != "absent"]
    if presented:
        v = presented[0]
        checks.append(Check("browser-stops-presenting", False, f"after the removal the browser still sent a "
                            f"`__session` ({v.data.get('reason')}) on {v.data.get('path')}", v.t, v.step))
        return Judgement("stuck", checks[-1].detail, checks)
    if late_views:
        checks.append(Check("browser-stops-presenting", True, f"the {len(late_views)} page loads after the removal "
                            "carried no `__session`"))
    return Judgement("signed-out", checks[-2 if late_views else -1].detail, checks)


def _write_back(removal: Event, cookie_events: Sequence[Event]) -> Event | None:
    """The next write that put the same cookie back after ``removal``."""
    return next((e for e in cookie_events if e.at > removal.at and e.data.get("op") == "set"
                 and e.data.get("name") == removal.data.get("name")), None)


def _client_failed(view: Event) -> bool:
    read = view.data.get("client_read")
    return read is not None and not (isinstance(read, int) and read < 400)


def _freshness(written: Event, removed: Event, first_set: Event, minted: dict[str, float]) -> tuple[bool, str]:
    """Fresh: the mock minted it after the removal (its ``token.minted`` event, matched by ``jti``). Stale: an
    older token written back, typically the SDK's ``lastActiveToken`` from page load. Tokens without a known mint
    time fall back to ``iat``, which is whole seconds: one second of slack."""
    iat, exp = written.data.get("iat"), written.data.get("exp")
    if iat is None:
        return False, "a token the harness could not read"
    minted_at = minted.get(written.data.get("jti", ""))
    if minted_at is not None:
        if minted_at > removed.at:
            return True, f"a fresh token (minted {minted_at - removed.at:.1f} s after the removal)"
        age = removed.at - minted_at
    else:
        if iat >= int(removed.at) - 1:
            return True, f"a fresh token (minted about {max(iat - removed.at, 0):.0f} s after the removal)"
        age = removed.at - iat
    same_jti = written.data.get("jti") and written.data.get("jti") == first_set.data.get("jti")
    which = "the load-time token" if same_jti or iat == first_set.data.get("iat") else "an older token"
    expiry = ""
    if exp is not None:
        left = exp - written.at
        expiry = f", already expired {-left:.0f} s" if left <= 0 else f", {left:.0f} s left to live"
    return False, f"a stale token ({which}, minted {age:.1f} s before the removal{expiry})"
