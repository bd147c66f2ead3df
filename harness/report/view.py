"""What a person reads about a run, derived only from its timeline events.

The HTML report, the JUnit ``system-out``, the result folder's ``requests.json``/``console.json`` and the live
control panel of ``harness serve`` all show the same things: the running state of the page (online, visibility,
focus, the session store's entries: cookies or localStorage keys), the request log with each request's answer, the
console, and the session store's strip over time.
They are computed here, once, from the events of a result (``RunResult.to_dict()["events"]`` or a saved
``result.json``) -- never from anything a report measures itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from harness.events import EVENTS, declared, session_writes
from harness.mock.faults import wording as fault_words
from harness.timeline import stalls_of

Ev = dict[str, Any]  # one event as in result.json: t, at, source, kind, step, data

# Requests for the SDK bundle are part of a page load but say nothing about the session.
_STATIC_PREFIXES = ("/sdk/",)
# Events that repeat what a neighbouring row already says (declared ``minor``); the report hides them unless asked.
_MINOR_KINDS = frozenset(k.name for k in EVENTS.values() if k.minor)


def _data(event: Ev) -> dict[str, Any]:
    return event.get("data") or {}


@dataclass
class PageState:
    """The page's state as its own probe last reported it (None: not reported yet)."""

    online: bool | None = None
    visibility: str | None = None
    focused: bool | None = None
    cookies: dict[str, bool] = field(default_factory=dict)

    def copy(self) -> "PageState":
        return PageState(self.online, self.visibility, self.focused, dict(self.cookies))

    def to_dict(self) -> dict[str, Any]:
        return {"online": self.online, "visibility": self.visibility, "focused": self.focused,
                "cookies": dict(self.cookies)}


# Writes of the session store, whichever the SDK uses: cookies, or a localStorage key (shown the same way).
_STORE_WRITES = session_writes()


def store_names(events: Iterable[Ev]) -> list[str]:
    """The watched session cookies (or localStorage keys) that appear in the run, the shortest name first (the base
    cookie before its suffixed twins)."""
    names: list[str] = []
    for e in events:
        if e["kind"] in _STORE_WRITES:
            name = _data(e).get("name")
            if name and name not in names:
                names.append(name)
        elif e["kind"] == "probe.ready":
            names += [n for n in _data(e).get("cookies", []) if n not in names]
    return sorted(names, key=lambda n: (len(n), n))


cookie_names = store_names  # the old name, from when every session store was a cookie


def advance(state: PageState, event: Ev) -> set[str]:
    """Apply one event to the running state; return the names of the fields it changed."""
    before = state.copy()
    d = _data(event)
    if event["source"] == "page":
        if "online" in d:
            state.online = bool(d["online"])
        if "visibility" in d:
            state.visibility = d["visibility"]
        if "focused" in d:
            state.focused = bool(d["focused"])
    kind = event["kind"]
    if kind in _STORE_WRITES and d.get("name"):
        state.cookies[d["name"]] = d.get("op") == "set"
    elif kind == "probe.ready":  # a fresh document: what the jar holds as the page starts
        present = set(d.get("cookies", []))
        for name in set(state.cookies) | present:
            state.cookies[name] = name in present
    changed = {k for k in ("online", "visibility", "focused") if getattr(state, k) != getattr(before, k)}
    changed |= {f"cookie:{n}" for n in state.cookies if state.cookies[n] != before.cookies.get(n)}
    return changed


def current_state(events: Sequence[Ev]) -> PageState:
    state = PageState()
    for e in events:
        advance(state, e)
    return state


# -- the request log ---------------------------------------------------------------------------------------------

def request_log(events: Sequence[Ev], include_static: bool = True) -> list[dict[str, Any]]:
    """One entry per request: what reached the mock (with its status or the fault that took it), and what failed
    in the browser before reaching it. The mock's ``response``/``fault``/``fault.held`` events name the ``seq`` of
    their ``request`` event (``data["request"]``); answers are paired by that id. Result files written before the
    mock recorded it are paired by method and path, first come first served (held requests to held requests)."""
    log: list[dict[str, Any]] = []
    by_seq: dict[Any, dict[str, Any]] = {}
    pending: dict[tuple[str, str], list[dict[str, Any]]] = {}  # the fallback for answers without a request id

    def take(d: dict[str, Any], key: tuple[str, str], held: bool) -> dict[str, Any] | None:
        if d.get("request") is not None:
            entry = by_seq.get(d["request"])
            if entry is not None and entry in pending.get(key, []):
                pending[key].remove(entry)
            return entry
        queue = pending.get(key, [])
        for entry in queue:
            if bool(entry.get("held")) == held:
                queue.remove(entry)
                return entry
        return queue.pop(0) if queue else None

    for e in events:
        d, kind = _data(e), e["kind"]
        key = (d.get("method", ""), d.get("path", ""))
        if kind == "request" and e["source"] == "mock":
            sent = {"t": e["t"], "step": e.get("step"), "where": "server", "method": key[0], "path": key[1],
                    "query": d.get("query", ""), "session_cookie": d.get("session_cookie"),
                    "token_iat": d.get("token_iat"), "status": None, "fault": None, "ms": None, "answer": "no answer"}
            log.append(sent)
            pending.setdefault(key, []).append(sent)
            if e.get("seq") is not None:
                by_seq[e["seq"]] = sent
        elif kind == "request.failed":
            log.append({"t": e["t"], "step": e.get("step"), "where": "browser", "method": key[0], "path": key[1],
                        "query": "", "session_cookie": None, "token_iat": None, "status": None, "fault": None,
                        "ms": None, "answer": f"failed in the browser: {d.get('error')}"})
        elif kind == "fault.held":
            if d.get("request") is not None:
                held = by_seq.get(d["request"])
            else:
                held = next((x for x in pending.get(key, []) if not x.get("held")), None)
            if held is not None:
                held["held"] = True
                held.setdefault("fault_events", []).append(d)
                held["fault"] = held["answer"] = fault_words.request_text(held["fault_events"])
        elif kind == "fault":
            entry = take(d, key, held=d.get("after") in ("hold", "run-end"))
            if entry is not None:
                entry.setdefault("fault_events", []).append(d)  # a chain's stages, in order
                entry["fault"] = fault_words.request_text(entry["fault_events"])
                entry["answer"] = entry["fault"]
                entry["answered_t"] = e["t"]
        elif kind == "response":
            entry = take(d, key, held=bool(d.get("after") in ("hold", "hang")))
            if entry is not None:
                entry["status"] = d.get("status")
                entry["ms"] = d.get("ms") if d.get("ms") is not None else round((e["t"] - entry["t"]) * 1000, 1)
                via = f" after {d['after']}" if d.get("after") else ""
                entry["answer"] = f"{d.get('status')}{via}"
                entry["answered_t"] = e["t"]
    for entry in log:
        entry.pop("held", None)
        entry.pop("fault_events", None)
    if not include_static:
        log = [r for r in log if not r["path"].startswith(_STATIC_PREFIXES)]
    return log


def request_tone(entry: dict[str, Any]) -> str:
    if entry["where"] == "browser" or (entry["fault"] and "drop" in entry["fault"]):
        return "bad"
    if entry["fault"] or (entry["status"] or 0) >= 400 or entry["status"] is None:
        return "warn"
    return "ok"


def console_log(events: Sequence[Ev]) -> list[dict[str, Any]]:
    """The browser console and uncaught page errors, in order."""
    out = []
    for e in events:
        if e["kind"] in ("console", "pageerror"):
            d = _data(e)
            out.append({"t": e["t"], "step": e.get("step"), "tab": d.get("tab"),
                        "type": "pageerror" if e["kind"] == "pageerror" else d.get("type", "log"),
                        "text": d.get("text", "")})
    return out


# -- the timeline table ------------------------------------------------------------------------------------------

@dataclass
class Row:
    t: float
    step: int | None
    source: str
    kind: str
    what: str
    tone: str  # "" | "ok" | "warn" | "bad" | "step"
    minor: bool
    state: PageState
    changed: set[str]


def stall_sentence(result: dict[str, Any]) -> str | None:
    """What a run's stalls mean for its reader, or None when the harness kept to the scenario's pace."""
    stalls = stalls_of(result.get("events", []))
    if not stalls:
        return None
    worst = max(stalls, key=lambda d: d.get("seconds", 0))
    where = f"{worst.get('seconds', 0):.1f} s between steps {worst.get('after_step')} and {worst.get('before_step')}"
    more = f" (and {len(stalls) - 1} more time{'s' if len(stalls) > 2 else ''})" if len(stalls) > 1 else ""
    return (f"The harness itself stalled {where}{more}: the timeline ran slower than the scenario says (a loaded "
            "machine?). The verdict stands, but read time-sensitive steps with that in mind.")


def lost_at(result: dict[str, Any]) -> float | None:
    """When the run lost its session, as the verdict decided it: the ``t`` of the failed ``cookie-never-removed``
    check (``result["lost_at"]``), never recomputed here, so a report cannot disagree with its verdict."""
    if result.get("lost_at") is not None:
        return result["lost_at"]
    return next((c.get("t") for c in result.get("checks", ())
                 if c.get("name") == "cookie-never-removed" and not c.get("passed")), None)


def _is_removal(e: Ev) -> bool:
    return e["kind"] in _STORE_WRITES and _data(e).get("op") == "removed" and bool(_data(e).get("was_present"))


def loss_event(events: Sequence[Ev], lost: float | None) -> Ev | None:
    """The removal the verdict calls the first loss (event times are saved rounded, so the nearest one)."""
    if lost is None:
        return None
    removals = [e for e in events if _is_removal(e) and abs(e["t"] - lost) < 1e-3]
    return min(removals, key=lambda e: abs(e["t"] - lost), default=None)


def timeline_rows(events: Sequence[Ev], steps: Sequence[dict[str, Any]] = (),
                  lost: float | None = None) -> list[Row]:
    """One row per event, with the page's running state after it; requests carry their answer. ``lost`` is the
    result's :func:`lost_at`: that removal is marked the first loss; a removal after the server revoked the session
    is the expected sign-out, shown plainly."""
    labels = {s["index"]: s.get("label") or s.get("name") for s in steps}
    reading = _Reading(labels, iter(r for r in request_log(events) if r["where"] == "server"),
                       session_credential(events))
    state = PageState()
    rows = []
    signed_in = False  # has a session cookie been written yet? Before that, "no session" is not news.
    revoked = False
    first_loss = loss_event(events, lost)
    for e in events:
        changed = advance(state, e)
        what, tone = _describe(e, reading)
        if e["kind"] == "session.revoked":
            revoked = True
        if e["kind"] in _STORE_WRITES and _data(e).get("op") == "set":
            signed_in = True
        if e["kind"] == "server.view" and not _data(e).get("signed_in") and not signed_in \
                and _data(e).get("decision") != "handshake":
            what, tone = f"server sees no session yet on {_data(e).get('path')} (before sign-in)", ""
        if e is first_loss:
            what, tone = what + " — first loss", "bad loss"
        elif revoked and _is_removal(e):
            what, tone = f"`{_data(e).get('name')}` removed: the expected sign-out after revocation", ""
        minor = e["kind"] in _MINOR_KINDS or (e["kind"] == "request" and _data(e).get("path", "").startswith(
            _STATIC_PREFIXES))
        rows.append(Row(t=e["t"], step=e.get("step"), source=e["source"], kind=e["kind"], what=what, tone=tone,
                        minor=minor, state=state.copy(), changed=changed))
    return rows


def _flip_text(kind: str, d: dict[str, Any]) -> tuple[str, str]:
    """A network flip armed on a trigger (harness/browser/flips.py), and the page's view of failed fetches."""
    if kind == "network.flip.armed":
        return f"flip {d.get('flip')} armed: {d.get('described')}", ""
    if kind == "network.flip":
        page = f", the page saw it {d['page_lag_ms']:g} ms after" if d.get("page_lag_ms") is not None else ""
        landed = f"; landed {d['landed']}" if d.get("landed") else ""
        return (f"network flipped {d.get('to')} on {d.get('when')} {d.get('trigger', {}).get('path')}: applied "
                f"{d.get('lag_ms')} ms after the trigger{page}{landed}"), "warn"
    if kind == "fetch.failed":
        return f"page's fetch of {d.get('path')} failed ({'online' if d.get('online') else 'offline'})", ""
    if kind == "fetch.failed.next_task":
        return f"next task after that failure: {'online' if d.get('online') else 'offline'}", ""
    return f"flip {d.get('flip')} {kind.removeprefix('network.flip.')}: {d.get('described')} " \
           f"{d.get('error') or ''}".rstrip(), "bad" if kind in ("network.flip.error", "network.flip.unfired") else ""


@dataclass
class _Reading:
    """What a line-maker may need beyond its event: the steps' labels and the request log's answers, in order."""

    labels: Mapping[Any, str | None]
    answers: Iterator[dict[str, Any]]
    credential: str  # what the app's backend reads from a request, in the adapter's words (session_credential)


Line = tuple[str, str]  # (what a person reads, its tone: "", ok, warn, bad, step)
LineMaker = Callable[[Ev, dict[str, Any], _Reading], Line]

# The report's line for each event kind, by its declared name (harness/events.py); a kind without one reads as its
# name and fields. Declared at import against the declarations, so a line for an undeclared kind cannot exist.
LINES: dict[str, LineMaker] = {}


def _lines(*kinds: str) -> Callable[[LineMaker], LineMaker]:
    def register(fn: LineMaker) -> LineMaker:
        for kind in kinds:
            declared(kind)
            LINES[kind] = fn
        return fn
    return register


def session_credential(events: Iterable[Ev]) -> str:
    """What the app's backend reads from each request, in the adapter's words (``server.backend``'s ``credential``:
    `__session`, an access token, ...); a result saved before it was recorded: the first watched cookie, if the
    session was kept in cookies, else "the session credential"."""
    events = list(events)
    said = next((_data(e).get("credential") for e in events if e["kind"] == "server.backend"), None)
    if said:
        return str(said)
    cookies = [str(_data(e)["name"]) for e in events if e["kind"] == "cookie" and _data(e).get("name")]
    return f"`{sorted(cookies, key=len)[0]}`" if cookies else "the session credential"


def _describe(e: Ev, reading: _Reading) -> Line:
    d = _data(e)
    make = LINES.get(e["kind"])
    if make is not None:
        return make(e, d, reading)
    return _describe_generic(e, d)


@_lines("step.start")
def _step_start(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"step {d.get('index')} `{d.get('label') or d.get('name')}` begins", "step"


@_lines("step.end")
def _step_end(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"step {d.get('index')} `{r.labels.get(d.get('index'), '')}` done", ""


@_lines("step.error")
def _step_error(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"step failed: {d.get('error')}", "bad"


@_lines("harness.stalled")
def _stalled(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return (f"the harness stalled {d.get('seconds', 0):.1f} s between steps {d.get('after_step')} and "
            f"{d.get('before_step')}", "warn")


@_lines("network")
def _network(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"harness switches the network {'on' if d.get('online') else 'off'}", ""


@_lines("online", "offline")
def _online(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"page sees `{e['kind']}`", "warn" if e["kind"] == "offline" else "ok"


@_lines("visibility")
def _visibility(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"page visibility → {d.get('visibility')}", "warn" if d.get("visibility") == "hidden" else ""


@_lines("focus", "blur", "freeze", "resume", "pageshow", "pagehide")
def _page_event(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"page `{e['kind']}`", ""


@_lines("probe.ready")
def _probe_ready(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"probe ready on {d.get('url')} (jar: {', '.join(d.get('cookies', [])) or 'no session cookie'})", ""


@_lines(*sorted(session_writes()))
def _store_write(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    name = d.get("name")
    if d.get("op") == "set":
        age = f" (token iat {e['at'] - d['iat']:.0f} s ago)" if d.get("iat") else ""
        return f"`{name}` written{age}", "ok"
    if d.get("was_present"):
        return f"`{name}` REMOVED", "bad"
    return f"`{name}` cleared (was not set)", ""


@_lines("cookie.jar")
def _cookie_jar(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"browser jar holds: {', '.join(d.get('present', [])) or 'no session cookie'}", ""


@_lines("storage.state")
def _storage_state(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    where = d.get("where", "localStorage")  # the store's own name (IndexedDB's database/object store)
    return f"{where} holds: {', '.join(d.get('present', [])) or 'no session key'}", ""


@_lines("storage.mismatch")
def _storage_mismatch(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"the browser's storage disagrees with the watcher: {json.dumps(d)}", "bad"


@_lines("cookie.mismatch")
def _cookie_mismatch(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"cookie jar disagrees with the watcher: {json.dumps(d)}", "bad"


@_lines("request")
def _request(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    if e["source"] != "mock":
        return _describe_generic(e, d)
    entry = next(r.answers, None)
    answer = entry["answer"] if entry else "?"
    carried = "" if d.get("session_cookie") is None else (  # the field's old name: it holds any credential
        f" with {r.credential}" if d.get("session_cookie") else f" without {r.credential}")
    tone = request_tone(entry) if entry else "warn"
    return f"{d.get('method')} {d.get('path')}{carried} → {answer}", "" if tone == "ok" else tone


def _describe_generic(e: Ev, d: dict[str, Any]) -> Line:
    rest = ", ".join(f"{k}={v}" for k, v in d.items() if k not in ("url", "tab"))
    return f"{e['kind']}{': ' + rest if rest else ''}", ""


@_lines("request.failed")
def _request_failed(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"{d.get('method')} {d.get('path')} failed in the browser: {d.get('error')}", "warn"


@_lines("network.flip", "network.flip.armed", "network.flip.error", "network.flip.disarmed", "network.flip.unfired",
        "fetch.failed", "fetch.failed.next_task")
def _flip(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return _flip_text(e["kind"], d)


@_lines("response")
def _response(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"{d.get('method')} {d.get('path')} answered {d.get('status')}", ""


@_lines("fault", "fault.held")
def _fault(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"{d.get('method')} {d.get('path')}: {fault_words.request_text([d])}", "warn"


@_lines("fault.armed")
def _fault_armed(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return fault_words.armed_text(d), "warn"


@_lines("fault.released")
def _fault_released(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return fault_words.released_text(d), "warn" if d.get("still_dropping") else ""


@_lines("fault.unreleased")
def _fault_unreleased(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return fault_words.unreleased_text(d), "warn"


@_lines("session.revoked")
def _revoked(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return "server revokes the session", "warn"


@_lines("request.refused")
def _refused(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"{d.get('method')} {d.get('path')} REFUSED by the mock: {d.get('reason')}", "bad"


@_lines("server.view")
def _server_view(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    if d.get("decision") == "handshake":
        return (f"server answers {d.get('path')} with a handshake through the Frontend API "
                f"({d.get('reason')})", "warn")
    if d.get("signed_in") and d.get("after_handshake"):
        return f"server sees the user signed in on {d.get('path')} after the handshake", "ok"
    if d.get("signed_in"):
        return f"server sees the user signed in on {d.get('path')}", "ok"
    return f"server sees the user SIGNED OUT on {d.get('path')} ({d.get('reason')} {r.credential})", "bad"


@_lines("api.answer")
def _api_answer(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    who = "background API call" if d.get("background") else "API call"
    if d.get("error"):
        return f"{who} {d.get('path')} failed in the browser ({d.get('error')})", ""
    return f"{who} {d.get('path')} answered {d.get('status')}", "ok" if d.get("status") == 200 else "bad"


@_lines("mock.error")
def _mock_error(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"THE MOCK FAILED on {d.get('method')} {d.get('path')}: {d.get('error')} (a harness bug)", "bad"


@_lines("clock")
def _clock(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    """What changed, then each party's clock against true time (the skew the run plays)."""
    from harness.clock import PARTIES, signed

    parties = ", ".join(f"{p} {signed(float(d.get(f'{p}_offset', 0.0)))}" for p in PARTIES)
    seen = d.get("page_observed") or {}
    measured = ("; page Date measured " + ", ".join(f"tab {t} {signed(round(float(v)))}" for t, v in seen.items())
                if seen else "")
    return f"clock: {d.get('change')} -> {parties} against true time{measured}", "warn"


@_lines("expect.requests")
def _expect_requests(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"bound: at most {d.get('at_most')} {d.get('what')} in any {d.get('within'):g} s from here", ""


@_lines("clock.offset")
def _clock_offset(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return (f"page clock {d.get('offset_ms')} ms ahead of the timeline "
            f"({d.get('label')}, rtt {d.get('rtt_ms')} ms)"), ""


@_lines("sdk.view")
def _sdk_view(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    if d.get("user"):
        return f"SDK shows user {d.get('user')} (status {d.get('status')})", "ok"
    return f"SDK shows NO user (status {d.get('status')})", "bad"


@_lines("sdk.ready")
def _sdk_ready(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"SDK loaded: status {d.get('status')}, user {d.get('user')}", ""


@_lines("sdk.token.start")
def _token_start(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"SDK token attempt #{d.get('call')} starts ({'online' if d.get('online') else 'offline'})", ""


@_lines("sdk.token.end")
def _token_end(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    extra = f": {d.get('error')}" if d.get("error") else ""
    return f"SDK token attempt #{d.get('call')} → {d.get('outcome')}{extra}", (
        "ok" if d.get("outcome") == "token" else "warn")


@_lines("sdk.get_token")
def _get_token(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"getToken() → {d.get('outcome')}{': ' + d['error'] if d.get('error') else ''}", ""


@_lines("console")
def _console(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"console.{d.get('type')}: {d.get('text')}", "warn" if d.get("type") in ("error", "warning") else ""


@_lines("pageerror")
def _pageerror(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"page error: {d.get('text')}", "bad"


@_lines("screenshot")
def _screenshot(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"screenshot {d.get('file')}", ""


@_lines("tab.closed")
def _tab_closed(e: Ev, d: dict[str, Any], r: _Reading) -> Line:
    return f"tab {d.get('tab')} closed", ""


def timeline_text(result: dict[str, Any], include_minor: bool = False) -> str:
    """The timeline as plain text lines (for JUnit system-out and terminals)."""
    names = store_names(result["events"])
    lines = []
    for row in timeline_rows(result["events"], result.get("steps", ()), lost_at(result)):
        if row.minor and not include_minor:
            continue
        cookies = " ".join(f"{_short(n)}={'+' if row.state.cookies.get(n) else '-'}" for n in names
                           if n in row.state.cookies)
        net = {True: "online ", False: "OFFLINE", None: "?      "}[row.state.online]
        step = f"{row.step}" if row.step is not None else "-"
        lines.append(f"{row.t:7.3f}s  step {step:>2}  {net}  {cookies:<30}  {row.what}")
    return "\n".join(lines)


def _short(name: str) -> str:
    return name if len(name) <= 12 else name[:12] + "…"


# -- the cookie-presence strip -----------------------------------------------------------------------------------

@dataclass
class Lane:
    label: str
    segments: list[dict[str, Any]]  # t0, t1, cls, title
    marks: list[dict[str, Any]] = field(default_factory=list)  # t, cls, title


@dataclass
class Strip:
    end: float
    lanes: list[Lane]
    markers: list[dict[str, Any]]  # t, cls, label: vertical lines across the lanes
    first_loss: dict[str, Any] | None  # t, name, step: the removal the verdict calls the loss (see lost_at)


def strip(result: dict[str, Any]) -> Strip:
    """Lanes over time: the steps, the network as the page saw it, each session cookie, and the requests. The first
    loss is the result's own (:func:`lost_at`), not recomputed."""
    events = result["events"]
    end = max([result.get("duration") or 0.0] + [e["t"] for e in events] + [0.1])
    lanes: list[Lane] = []

    starts = [e for e in events if e["kind"] == "step.start"]
    step_segs = []
    for i, e in enumerate(starts):
        d = _data(e)
        t1 = starts[i + 1]["t"] if i + 1 < len(starts) else end
        stop = next((x["t"] for x in events if x["kind"] in ("step.end", "step.error")
                     and _data(x).get("index") == d.get("index")), t1)
        step_segs.append({"t0": e["t"], "t1": max(stop, e["t"]), "cls": f"step{i % 2}",
                          "title": f"step {d.get('index')} {d.get('label') or d.get('name')}",
                          "text": f"{d.get('index')} {d.get('label') or d.get('name')}"})
    lanes.append(Lane("steps", step_segs))

    def segments(value_of: Any, classes: dict[Any, str], titles: dict[Any, str]) -> list[dict[str, Any]]:
        segs: list[dict[str, Any]] = []
        state = PageState()
        current, since = None, 0.0
        for e in events:
            advance(state, e)
            value = value_of(state)
            if value != current:
                if current is not None and classes.get(current):
                    segs.append({"t0": since, "t1": e["t"], "cls": classes[current], "title": titles[current]})
                current, since = value, e["t"]
        if current is not None and classes.get(current):
            segs.append({"t0": since, "t1": end, "cls": classes[current], "title": titles[current]})
        for s in segs:
            s["title"] += f" from t={s['t0']:.2f} s to t={s['t1']:.2f} s"
        return segs

    lanes.append(Lane("network", segments(lambda s: s.online, {True: "online", False: "offline"},
                                          {True: "online", False: "offline"})))
    if any(e["source"] == "page" and "visibility" in _data(e) for e in events):
        lanes.append(Lane("visibility", segments(lambda s: s.visibility, {"visible": "visible", "hidden": "hidden"},
                                                 {"visible": "visible", "hidden": "hidden"})))
    revoked = next((e for e in events if e["kind"] == "session.revoked"), None)
    for name in store_names(events):
        segs = segments(lambda s, n=name: s.cookies.get(n), {True: "present", False: "absent"},
                        {True: f"{name} present", False: f"{name} ABSENT"})
        for seg in segs:  # gone after the server ended the session: the correct sign-out, not a loss
            if seg["cls"] == "absent" and revoked is not None and seg["t0"] >= revoked["t"]:
                seg["cls"], seg["title"] = "gone", seg["title"].replace("ABSENT", "absent after revocation")
        lanes.append(Lane(name, segs))
    loss = loss_event(events, lost_at(result))
    first_loss = None if loss is None else {"t": loss["t"], "name": _data(loss).get("name"), "step": loss.get("step")}
    reqs = [r for r in request_log(events) if not r["path"].startswith(_STATIC_PREFIXES)]
    lanes.append(Lane("requests", [], [{"t": r["t"], "cls": request_tone(r),
                                        "title": f"t={r['t']:.2f} s {r['method']} {r['path']} → {r['answer']}"}
                                       for r in reqs]))
    markers = []
    if revoked is not None:
        markers.append({"t": revoked["t"], "cls": "revoked", "label": f"revoked t={revoked['t']:.2f} s"})
    if first_loss is not None:
        markers.append({"t": first_loss["t"], "cls": "loss", "label": f"first loss t={first_loss['t']:.2f} s"})
    return Strip(end=end, lanes=lanes, markers=markers, first_loss=first_loss)


# -- screenshots ---------------------------------------------------------------------------------------------

def screenshots(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The screenshots the run recorded on its timeline (file name relative to the result folder)."""
    shots = [{"t": e["t"], "step": e.get("step"), "file": _data(e).get("file"), "label": _data(e).get("label", "")}
             for e in result["events"] if e["kind"] == "screenshot" and _data(e).get("file")]
    if not shots and result.get("artifacts", {}).get("screenshot"):  # results written before screenshot events
        shots = [{"t": result.get("duration", 0.0), "step": None, "label": "at the end",
                  "file": result["artifacts"]["screenshot"].rsplit("/", 1)[-1]}]
    return shots
