"""The checks: each a small registered function over a run's :class:`~harness.oracles.facts.Facts`.

A check answers one question and returns its :class:`Check` results (none when the question does not arise, e.g.
no page load after sign-in). Its registration says what it means, for the generated oracle reference in
docs/writing-scenarios.md, and its ``role`` -- how :mod:`harness.oracles.outcome` weighs it:

- ``gate``: without it nothing else means anything (a failure is ``error``, and later checks do not run);
- ``harness``: a failure of the harness's own instruments (``error``);
- ``loss``: the user lost the session although it was valid (``reproduced``);
- ``note``: describes a loss already counted (never decides);
- ``revocation``: after the server ended the session, did the browser drop it (``signed-out``, else ``stuck``);
- ``bound``: a limit the scenario set (``expect_requests``) was exceeded: the outcome stays what the session's fate
  says, the sentence says so, and the run no longer matches its claim.

Checks run in registration order; a new one is a function and a ``@check(...)`` line.
"""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Literal, Sequence

from harness.oracles.facts import Facts, PageLoad
from harness.registry import Registry
from harness.timeline import Event

Role = Literal["gate", "harness", "loss", "note", "revocation", "bound"]


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str
    t: float | None = None  # when the deciding event happened (seconds since start)
    step: int | None = None  # during which step (1-based index into the scenario's steps)
    error: str | None = None  # for a harness failure: what failed, with its traceback

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["error"] is None:
            del out["error"]
        return out


CheckFn = Callable[[Facts], Iterable[Check]]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    role: Role
    passes: str  # when it passes, for the reference
    fails: str  # why it can fail, for the reference
    run: CheckFn


CHECKS: Registry[CheckSpec] = Registry("check")


def check(name: str, role: Role, *, passes: str, fails: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS.add(name, CheckSpec(name, role, passes, fails, fn))
        return fn
    return register


# -- gates -----------------------------------------------------------------------------------------------------------

@check("mock-healthy", "gate", passes="no handler of the mock raised",
       fails="a handler of the mock itself raised (`mock.error` on the timeline, answered 500): the outcome is "
             "`error`, with the traceback in the result's `error`")
def mock_healthy(facts: Facts) -> Iterable[Check]:
    errors = facts.of("mock.error")
    if not errors:
        return []
    first = errors[0]
    more = f" ({len(errors)} failures in all)" if len(errors) > 1 else ""
    detail = (f"the mock server failed on {first.data.get('method')} {first.data.get('path')} at t={first.t:.2f} s "
              f"during {facts.step_name(first.step)}: {first.data.get('error')}{more}; a harness bug, so no verdict")
    return [Check("mock-healthy", False, detail, first.t, first.step,
                  error=detail + "\n" + str(first.data.get("traceback", "")))]


@check("session-cookie-written", "gate", passes="the SDK wrote the session cookie (the run signed in)",
       fails="the run never signed in, so nothing it checked could fail (`error`)")
def session_cookie_written(facts: Facts) -> Iterable[Check]:
    if facts.first_set is not None:
        return []
    return [Check("session-cookie-written", False, f"the SDK never wrote {facts.store_entries[0]}: the run never "
                  "signed in, so nothing it checked could fail")]


# -- the cookie --------------------------------------------------------------------------------------------------------

def removals_that_count(facts: Facts) -> tuple[list[Event], list[Event]]:
    """(removals of a valid session before any revocation, removals of a token that had already expired)."""
    removals = [e for e in facts.store_writes if e.data.get("op") == "removed" and e.data.get("was_present")]
    expired = [e for e in removals if _removed_an_expired_token(e, facts)]
    return [e for e in removals if e.at < facts.revoked_at and e not in expired], expired


@check("cookie-never-removed", "loss",
       passes="no write removed a still-valid session store entry (a session cookie, or the localStorage key) while "
              "the server held the session; "
              "removing a token that had already expired (kept through a long offline period) is no loss",
       fails="a removal, however brief: the page's `document.cookie` setter and `localStorage` writes are watched, "
             "so a removal undone 1 ms later still counts")
def cookie_never_removed(facts: Facts) -> Iterable[Check]:
    early, expired = removals_that_count(facts)
    if not early:
        note = (f" ({len(expired)} removed a token that had already expired, which is no loss)" if expired else "")
        what = "the session cookies" if facts.store.kind == "cookie" else facts.store.label
        return [Check("cookie-never-removed", True, f"{len(facts.store_writes)} writes of {what}, none "
                      f"removed a valid session{note}")]
    first = early[0]
    detail = (f"`{first.data['name']}` removed at t={first.t:.2f} s, {facts.into(first)}{facts.step_name(first.step)}"
              f", while the session was valid (browser {'online' if first.data.get('online') else 'offline'}"
              # the page's own visibility at the removal: a loss in a background tab says so
              f"{', tab hidden' if first.data.get('visibility') == 'hidden' else ''})")
    back = _write_back(first, facts.store_writes)
    if back is not None:
        _, how = _freshness(back, first, facts)
        by = " by the server (Set-Cookie)" if back.source == "mock" else ""
        detail += f"; written back{by} {1000 * (back.at - first.at):.0f} ms later with {how}"
    # another tab's `storage` event echoes a removal already counted in the tab that made it
    again = [e for e in early if e.data.get("name") == first.data.get("name") and e.data.get("via") != "storage-event"]
    if len(again) > 1:
        detail += f"; removed {len(again)} times in all"
    return [Check("cookie-never-removed", False, detail, first.t, first.step)]


@check("write-back-fresh", "note", passes="every write-back after a removal carried a token minted after it",
       fails="the SDK wrote back a stale token (its `lastActiveToken`, e.g. the load-time JWT); the sentence says "
             "how old, and whether already expired")
def write_back_fresh(facts: Facts) -> Iterable[Check]:
    early, _ = removals_that_count(facts)
    pairs = [(r, _write_back(r, facts.store_writes)) for r in early]
    backs = [(r, b) for r, b in pairs if b is not None]
    for removal, back in backs:
        fresh, how = _freshness(back, removal, facts)
        if not fresh:
            return [Check("write-back-fresh", False, f"`{back.data['name']}` written back at t={back.t:.2f} s during "
                          f"{facts.step_name(back.step)} with {how}", back.t, back.step)]
    if backs:
        return [Check("write-back-fresh", True, "every write-back after a removal carried a token minted after "
                      "the removal")]
    return []


@check("token-moves-forward", "loss",
       passes="every write of the session (before a revocation) carries a token at least as new as the one it "
              "replaces: newer by `oiat` (origin issued-at), then by the order the mock minted them. A store that "
              "renews with a field of its record (`renews_with`) may write an older access token back with the same "
              "renewal: the SDK refreshes from it, so nothing is lost (the detail counts these). Another tab's "
              "`storage` event is an echo of a write already counted, not a write of its own",
       fails="a slow response landing late, or another tab's stale write, put an older token back (a user feels it "
             "as a 401); for a store that renews with its record, only when the renewal differs too")
def token_moves_forward(facts: Facts) -> Iterable[Check]:
    newest: dict[str, tuple[tuple[float, int], Event]] = {}
    writes = forgiven = 0
    for event in facts.store_writes:
        if event.at >= facts.revoked_at or event.data.get("op") != "set":
            continue
        if event.data.get("via") == "storage-event":
            # Another tab's notice of a write its own tab already reported (its setItem): delivered when this tab
            # runs -- late, and out of order, in a throttled background tab -- so its order says nothing of what
            # the store holds (a flip of supabase-two-tabs-offline-return on 2.27.0, 1 in 30, was such an echo).
            continue
        key = _token_age_key(event, facts)
        if key is None:
            continue
        writes += 1
        name = str(event.data.get("name"))
        before = newest.get(name)
        if before is not None and key < before[0]:
            if _same_renewal(facts, event, before[1]):
                forgiven += 1
                continue  # the record still renews as the newer one did: the newer token stays the mark
            return [_went_backwards(facts, name, event, key, before)]
        newest[name] = (key, event)
    if writes < 2:
        return []
    detail = f"all {writes} token writes moved the session token forward (by origin issue time, then mint order)"
    if forgiven:
        detail = (f"{writes - forgiven} of {writes} token writes moved the session token forward; {forgiven} put an "
                  f"older access token back with the same {facts.store.renews_with} (the SDK refreshes from it: "
                  "no session lost)")
    return [Check("token-moves-forward", True, detail)]


def _same_renewal(facts: Facts, event: Event, before: Event) -> bool:
    """Whether a store that renews with its record wrote the same renewal both times (fingerprints, never tokens)."""
    if facts.store.renews_with is None:
        return False
    mine, theirs = event.data.get("renewal"), before.data.get("renewal")
    return isinstance(mine, str) and mine == theirs


def _went_backwards(facts: Facts, name: str, event: Event, key: tuple[float, int],
                    before: tuple[tuple[float, int], Event]) -> Check:
    older = f"{before[0][0] - key[0]:.0f} s older" if key[0] < before[0][0] else "minted earlier in the same second"
    renewal = ""
    if facts.store.renews_with is not None:
        prints = (event.data.get("renewal"), before[1].data.get("renewal"))
        renewal = (f", and with a different {facts.store.renews_with}" if all(isinstance(x, str) for x in prints)
                   else f" (no {facts.store.renews_with} seen on both writes to compare)")
    return Check("token-moves-forward", False,
                 f"`{name}` went backwards at t={event.t:.2f} s during {facts.step_name(event.step)}: the token "
                 f"written ({event.data.get('jti') or 'iat ' + str(event.data.get('iat'))}) is {older} than the one "
                 f"it replaced ({before[1].data.get('jti') or before[1].data.get('iat')}, written at "
                 f"t={before[1].t:.2f} s){renewal}", event.t, event.step)


@check("cookie-present-at-end", "loss", passes="the browser's own cookie jar holds the session cookies after the "
       "last step", fails="a removal the watcher cannot see (a `Set-Cookie` header)")
def cookie_present_at_end(facts: Facts) -> Iterable[Check]:
    jars = facts.of(facts.store.state_kind)
    if not jars or facts.revoked is not None:
        return []
    last = jars[-1]
    missing = [n for n in facts.written if n not in set(last.data.get("present", []))]
    if missing:
        return [Check("cookie-present-at-end", False, f"the browser's {facts.store.where} had no `{missing[0]}` "
                      f"after {facts.step_name(last.step)}", last.t, last.step)]
    return [Check("cookie-present-at-end", True, f"the browser's {facts.store.where} held the session after the "
                  "last step")]


# -- the server and the SDK ------------------------------------------------------------------------------------------

@check("server-sees-session", "loss",
       passes="the server saw the user signed in on every page load after sign-in: directly, or after a handshake "
              "(an extra round trip, reported in the detail and the sentence, not a sign-out)",
       fails="the load ended signed out: the app backend (the adapter's, as `setup.backend` chose it) found no "
             "valid credential, or a handshake came back signed out")
def server_sees_session(facts: Facts) -> Iterable[Check]:
    loads = facts.loads()
    bad = [load for load in loads if load.outcome == "signed-out" and load.final.at < facts.revoked_at]
    if bad:
        v = bad[0].final
        return [Check("server-sees-session", False,
                      f"the server saw the user signed out ({why(v, facts.store.credential)}) on "
                      f"{v.data.get('path')} during {facts.step_name(v.step)}", v.t, v.step)]
    if loads and facts.revoked is None:
        return [Check("server-sees-session", True, f"the server saw the user {_loads_summary(loads)}")]
    return []


@check("sdk-sees-user", "loss",
       passes="the SDK's own view (the adapter's `user_view`) had the user after every `reload`/`navigate` — also "
              "when its client read failed and it restored the session from its store", fails="the SDK came up "
              "signed out")
def sdk_sees_user(facts: Facts) -> Iterable[Check]:
    views = [e for e in facts.of("sdk.view") if facts.signed_in_at < e.at < facts.revoked_at]
    # An SDK that failed to load at all (5.30.0 on a /v1/client 503: no cookie fallback yet) shows no user, but
    # did not sign anyone out: the session is still there for the next load. That is said, not counted as a loss.
    failed = [e for e in views if str(e.data.get("loaded", "")).startswith("error")]
    lost = [e for e in views if not e.data.get("user") and e not in failed]
    if lost:
        v = lost[0]
        how = (f" while {v.data.get('client_read_path', 'its client read')} answered {v.data['client_read']} (the "
               "SDK's fallback to its stored session found none)"
               if _client_failed(v) else "")
        return [Check("sdk-sees-user", False, f"{facts.user_view} was null after {facts.step_name(v.step)}{how}",
                      v.t, v.step)]
    if views:
        fallback = [e for e in views if _client_failed(e)]
        how = f", {len(fallback)} of them with /v1/client failing (restored from the cookie)" if fallback else ""
        if failed:
            f = failed[0]
            return [Check("sdk-sees-user", True, f"{facts.user_view} was set after every page load on which the SDK "
                          f"loaded; after {facts.step_name(f.step)} it failed to load at all ({f.data.get('loaded')}), "
                          "which signs nobody out")]
        return [Check("sdk-sees-user", True, f"{facts.user_view} was set after all {len(views)} page loads{how}")]
    return []


@check("api-serves-signed-in-user", "loss",
       passes="every call the page made to the app's API (`api_call`, `setup.background_api`) while the session was "
              "valid was answered signed in (a call that failed offline reached no server and is not counted; nor is "
              "a refusal of a kept token that had merely expired)",
       fails="the API refused the user although the session was valid (its credential gone or outdated): the "
             "detail says for how long and how many calls")
def api_serves_signed_in_user(facts: Facts) -> Iterable[Check]:
    calls = [e for e in facts.of("server.view") if e.data.get("document") is False
             and facts.signed_in_at < e.at < facts.revoked_at]
    if not calls:
        return []
    windows = refused_windows(calls)
    if not windows:
        return [Check("api-serves-signed-in-user", True, f"the API answered all {len(calls)} calls from the page "
                      "signed in")]
    first, last, count, until = windows[0]
    # Between the last refusal and the next signed-in answer the API's state is not known: both bounds are given
    # (a lower bound only when the refusals span a measurable time: one refusal is no "at least 0.0 s").
    span = last.at - first.at
    upper = f"at most {until.at - first.at:.1f} s" if until else "to the end of the run"
    bounds = f"for at least {span:.1f} s, {upper}" if span >= 0.05 else (
        f"for {upper}" if until else "from then " + upper)
    calls_text = f"{count} calls from t={first.t:.2f} s ({facts.step_name(first.step)}) to t={last.t:.2f} s" \
        if count > 1 else f"a call at t={first.t:.2f} s ({facts.step_name(first.step)})"
    more = f"; {len(windows)} such windows in all" if len(windows) > 1 else ""
    return [Check("api-serves-signed-in-user", False,
                  f"the app was signed out {bounds}: the API refused {calls_text} "
                  f"({why(first, facts.store.credential)}) "
                  f"though the session was valid{more}", first.t, first.step)]


def refused_windows(calls: Sequence[Event]) -> list[tuple[Event, Event, int, Event | None]]:
    """Runs of refused API calls: (first refusal, last refusal, how many, the next call answered signed in)."""
    windows: list[tuple[Event, Event, int, Event | None]] = []
    run: list[Event] = []
    for call in calls:
        refused = not call.data.get("signed_in") and call.data.get("token") != "expired"
        if refused:
            run.append(call)
        elif run:
            windows.append((run[0], run[-1], len(run), call if call.data.get("signed_in") else None))
            run = []
    if run:
        windows.append((run[0], run[-1], len(run), None))
    return windows


@check("get-token", "loss", passes="every `get_token` with `expect:` got that (`token`, `error` or `empty`)",
       fails="the app's own `getToken` call failed or came back empty")
def get_token(facts: Facts) -> Iterable[Check]:
    calls = [e for e in facts.of("sdk.get_token.call") if e.data.get("expect")]
    if not calls:
        return []
    results = {e.data.get("call"): e for e in facts.of("sdk.get_token")}
    for c in calls:
        got = results.get(c.data["call"])
        if got is None or got.data.get("outcome") != c.data["expect"]:
            said = "never settled" if got is None else (
                f"gave {got.data.get('outcome')}" + (f" ({got.data['error']})" if got.data.get("error") else ""))
            return [Check("get-token", False, f"getToken during {facts.step_name(c.step)} {said}, expected "
                          f"{c.data['expect']}", (got or c).t, c.step)]
    return [Check("get-token", True, f"all {len(calls)} getToken calls gave what was expected")]


@check("watcher-matches-jar", "harness", passes="the watcher and the browser's jar agreed after every step",
       fails="the watcher missed a write, so every cookie-based answer may be wrong (`error`, no verdict)")
def watcher_matches_jar(facts: Facts) -> Iterable[Check]:
    mismatches = facts.of(facts.store.mismatch_kind)
    if mismatches:
        m = mismatches[0]
        return [Check("watcher-matches-jar", False,
                      f"the {facts.store.where} disagreed with the watcher at t={m.t:.2f} s: "
                      f"{m.data}; the cookie watcher missed a write, so no verdict", m.t, m.step)]
    if facts.of(facts.store.state_kind):
        return [Check("watcher-matches-jar", True, f"the browser's {facts.store.where} agreed with the watcher at "
                      "every step")]
    return []


@check("flips-fired", "harness",
       passes="every network flip a step armed (`online`/`offline` with `when:`) was made on its trigger and landed "
              "where the step asked (`landed:`), or was disarmed by an `optional` wait",
       fails="a flip's trigger never came, the flip could not be made, it found the browser in its state already (it "
             "changed nothing), or it landed on the other side of the page's failed fetch than `landed:` asked: the "
             "timeline the scenario describes did not happen (`error`, no verdict)")
def flips_fired(facts: Facts) -> Iterable[Check]:
    armed = facts.of("network.flip.armed")
    if not armed:
        return []
    resolved = {e.data.get("flip") for e in facts.of("network.flip") + facts.of("network.flip.disarmed")}
    failed = {e.data.get("flip"): e for e in facts.of("network.flip.error")}
    made = {e.data.get("flip"): e for e in facts.of("network.flip")}
    unchanged = {f: e for f, e in made.items() if e.data.get("changed") is False}
    for arm in armed:
        flip = arm.data.get("flip")
        if flip in failed:
            e = failed[flip]
            return [Check("flips-fired", False, f"the flip armed during {facts.step_name(arm.step)} "
                          f"({arm.data.get('described')}) could not be made at t={e.t:.2f} s: {e.data.get('error')}; "
                          "no verdict", e.t, e.step)]
        if flip in unchanged:
            e = unchanged[flip]
            return [Check("flips-fired", False, f"the flip armed during {facts.step_name(arm.step)} "
                          f"({arm.data.get('described')}) fired at t={e.t:.2f} s, but the browser was "
                          f"{e.data.get('to')} already, so it changed nothing; no verdict", e.t, e.step)]
        missed = _missed_landing(made.get(flip))
        if missed:
            e = made[flip]
            return [Check("flips-fired", False, f"the flip armed during {facts.step_name(arm.step)} "
                          f"({arm.data.get('described')}) {missed}; the race was not placed, so no verdict", e.t,
                          e.step)]
        if flip not in resolved:
            return [Check("flips-fired", False, f"the flip armed during {facts.step_name(arm.step)} "
                          f"({arm.data.get('described')}) never fired: its trigger never came, so the timeline the "
                          "scenario describes did not happen; no verdict", arm.t, arm.step)]
    fired = facts.of("network.flip")
    lags = ", ".join(f"{e.data.get('lag_ms'):g} ms" for e in fired if e.data.get("lag_ms") is not None)
    return [Check("flips-fired", True, f"all {len(armed)} armed flips were resolved"
                  + (f" ({len(fired)} made; trigger to applied: {lags})" if fired else ""))]


def _missed_landing(made: Event | None) -> str | None:
    """Why a flip that had to land on one side of the page's failed fetch (``landed:``) did not, if it did not."""
    if made is None or not made.data.get("landed_required"):
        return None
    want, got = made.data["landed_required"], made.data.get("landed")
    if got is None:
        return "fired, but the page never reported the failed fetch it had to land against"
    side = {"before the failure": "before_failure"}.get(got, "after_failure")
    return None if side == want else f"landed {got}, not {want.replace('_', ' ')}"


# -- after a revocation ----------------------------------------------------------------------------------------------

def revocation_removal(facts: Facts) -> Event | None:
    return next((e for e in facts.store_writes if e.at >= facts.revoked_at and e.data.get("op") == "removed"), None)


@check("signed-out-after-revocation", "revocation",
       passes="after `revoke_session` the cookie was removed and not written back",
       fails="the browser kept the session (outcome `stuck`)")
def signed_out_after_revocation(facts: Facts) -> Iterable[Check]:
    if facts.revoked is None:
        return []
    after = [e for e in facts.store_writes if e.at >= facts.revoked_at]
    removed = revocation_removal(facts)
    final_present = bool(after) and after[-1].data.get("op") == "set"
    jars = facts.of(facts.store.state_kind)
    if jars and jars[-1].at >= facts.revoked_at:
        final_present = any(n in jars[-1].data.get("present", []) for n in facts.store_entries)
    if removed is None or final_present:
        return [Check("signed-out-after-revocation", False, "the server ended the session but the browser kept "
                      f"{facts.store.label}{' (written back after its removal)' if removed else ''}")]
    return [Check("signed-out-after-revocation", True, f"after the server ended the session, "
                  f"`{removed.data['name']}` was removed at t={removed.t:.2f} s during "
                  f"{facts.step_name(removed.step)}", removed.t, removed.step)]


@check("browser-stops-presenting", "revocation", passes="the page loads after that removal carried no session "
       "credential (a session cookie; a bearer token kept in localStorage: the calls the page makes once it has "
       "loaded again)",
       fails="the browser still sent one (outcome `stuck`)")
def browser_stops_presenting(facts: Facts) -> Iterable[Check]:
    removed = revocation_removal(facts)
    if facts.revoked is None or removed is None:
        return []
    since = removed.at
    if facts.store.kind != "cookie":
        # A bearer token is read by the page, not attached by the browser: a call the page began with the token it
        # had just before the removal may land after it. What counts is what the page sends once it has loaded again.
        reloads = [e for e in facts.of("request") if e.data.get("path") == "/" and e.at > removed.at]
        if not reloads:
            return []
        since = reloads[0].at
    late = [e for e in facts.of("server.view") if e.at > since]
    presented = [e for e in late if e.data.get("token", e.data.get("reason")) != "absent"]
    if presented:
        v = presented[0]
        return [Check("browser-stops-presenting", False,
                      f"after the removal the browser still sent {facts.store.credential} "
                      f"({v.data.get('token', v.data.get('reason'))}) on {v.data.get('path')}", v.t, v.step)]
    if late:
        return [Check("browser-stops-presenting", True, f"the {len(late)} page loads after the removal carried no "
                      f"{facts.store.credential}")]
    return []


# -- bounds the scenario set -------------------------------------------------------------------------------------------

@check("request-count", "bound",
       passes="no window of `within` seconds after an `expect_requests` step held more requests to the server on "
              "its path than `at_most` (the detail gives the busiest window)",
       fails="a request storm: more requests reached the server in one window than the scenario allows (a clock "
             "that makes every token look due, a retry loop). The outcome is unchanged -- a storm that loses nothing "
             "is no sign-out -- but the sentence says it and the run no longer matches its claim")
def request_count(facts: Facts) -> Iterable[Check]:
    out = []
    requests = [e for e in facts.of("request") if e.source == "mock"]
    for bound in facts.of("expect.requests"):
        glob, most, within = str(bound.data["path"]), int(bound.data["at_most"]), float(bound.data["within"])
        times = [e for e in requests if e.at >= bound.at and fnmatch.fnmatchcase(str(e.data.get("path", "")), glob)]
        busiest, first = _busiest_window(times, within)
        what = bound.data.get("what", glob)
        if busiest > most and first is not None:
            out.append(Check("request-count", False,
                             f"{busiest} {what} reached the server within {within:g} s from t={first.t:.2f} s "
                             f"({facts.step_name(first.step)}), more than the {most} the scenario allows "
                             f"({len(times)} in all after step {bound.step})", first.t, first.step))
        else:
            out.append(Check("request-count", True, f"at most {busiest} {what} in any {within:g} s (allowed "
                             f"{most}; {len(times)} in all after step {bound.step})"))
    return out


def _busiest_window(events: Sequence[Event], within: float) -> tuple[int, Event | None]:
    """The most events in any window of ``within`` seconds, and the first event of that window."""
    best, first, start = 0, None, 0
    for end, event in enumerate(events):
        while event.at - events[start].at > within:
            start += 1
        if end - start + 1 > best:
            best, first = end - start + 1, events[start]
    return best, first


# -- helpers ---------------------------------------------------------------------------------------------------------

def why(view: Event, credential: str = "the session credential") -> str:
    """Why the server saw no user, naming what it reads (``credential``: the store's, e.g. a bearer token)."""
    token, reason = view.data.get("token"), view.data.get("reason")
    if token is None or token == reason:
        return f"{reason} {credential}"
    return f"{reason}; {credential} {token}"


def _loads_summary(loads: Sequence[PageLoad]) -> str:
    after = [load for load in loads if load.outcome == "signed-in-after-handshake"]
    if not after:
        return f"signed in on all {len(loads)} page loads after sign-in"
    reasons = ", ".join(sorted({str(load.handshake.data.get("reason")) for load in after if load.handshake}))
    return (f"signed in on all {len(loads)} page loads after sign-in, {len(after)} of them after a handshake "
            f"through the Frontend API ({reasons}: an extra round trip, not a sign-out)")


def _removed_an_expired_token(removal: Event, facts: Facts) -> bool:
    """Did ``removal`` take away a token whose ``exp`` had already passed on the auth server's clock (per the last
    write of that cookie)?"""
    before = [e for e in facts.store_writes if e.at < removal.at and e.data.get("op") == "set"
              and e.data.get("name") == removal.data.get("name")]
    exp = before[-1].data.get("exp") if before else None
    return isinstance(exp, (int, float)) and facts.on_true_time(exp, "auth", removal.at) <= removal.at


def _token_age_key(event: Event, facts: Facts) -> tuple[float, int] | None:
    """How new a written token is: its origin issue time (``oiat``, else ``iat``) put on true time (the auth
    server's clock may have been set, or jumped, between two mints), then the mock's mint order."""
    issued = event.data.get("oiat", event.data.get("iat"))
    if not isinstance(issued, (int, float)):
        return None
    serial = str(event.data.get("jti", "")).rpartition("_")[2]
    return round(facts.on_true_time(float(issued), "auth", event.at)), int(serial) if serial.isdigit() else 0


def _write_back(removal: Event, store_writes: Sequence[Event]) -> Event | None:
    """The next write that put the same cookie back after ``removal``."""
    return next((e for e in store_writes if e.at > removal.at and e.data.get("op") == "set"
                 and e.data.get("name") == removal.data.get("name")), None)


def _client_failed(view: Event) -> bool:
    read = view.data.get("client_read")
    return read is not None and not (isinstance(read, int) and read < 400)


def _freshness(written: Event, removed: Event, facts: Facts) -> tuple[bool, str]:
    """Fresh: the mock minted it after the removal (its ``token.minted`` event, matched by ``jti``). Stale: an
    older token written back, typically the SDK's ``lastActiveToken`` from page load. Tokens without a known mint
    time fall back to ``iat``, which is whole seconds: one second of slack."""
    first_set = facts.first_set
    assert first_set is not None
    iat, exp = written.data.get("iat"), written.data.get("exp")
    if iat is None:
        return False, "a token the harness could not read"
    minted_at = facts.minted.get(written.data.get("jti", ""))
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
