"""The outcome: a reducer over the checks' results, by each check's registered role (never by list position).

``error`` when a gate or a harness instrument failed (no verdict is better than a false one); ``reproduced`` when a
``loss`` check failed (also before a revocation); without a revocation, ``survived``; with one, ``stuck`` when a
``revocation`` check failed, else ``signed-out``. A failed ``bound`` check (a request storm) decides no outcome: it
is added to the sentence, and the run's result no longer matches its claim (:attr:`RunResult.bounds_exceeded`).
The sentence is the deciding check's detail, plus what the server
did on the last page load and, for the strict backend, that it was the strict one.

An SDK action a ``wait_for`` with ``optional: true`` waited for and never saw (``wait.timeout`` on the timeline: a
release that legitimately does not take it, e.g. one that pauses token refreshes while offline) is no harness failure
and decides nothing: the outcome is what the checks say, and every sentence says which action never came, so a
``survived`` where the refresh never happened is never read as "the refresh kept the session".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from harness.oracles.checks import CHECKS, Check, Role, why
from harness.oracles.facts import Facts


@dataclass(frozen=True)
class Judgement:
    outcome: str
    sentence: str
    checks: list[Check]
    error: str | None = None  # for ``error`` outcomes the harness caused: what failed, with its traceback


def role(check: Check) -> Role:
    return CHECKS[check.name].role


def reduce(facts: Facts, checks: Sequence[Check]) -> Judgement:
    checks = list(checks)
    failed = [c for c in checks if not c.passed]
    broken = next((c for c in failed if role(c) in ("gate", "harness")), None)
    if broken is not None:
        return Judgement("error", broken.detail, checks, error=broken.error)
    lost = [c for c in failed if role(c) == "loss"]
    note = server_note(facts, lost) + "".join(f"; BOUND EXCEEDED: {c.detail}" for c in failed if role(c) == "bound")
    note += absent_note(facts)
    if lost:
        return Judgement("reproduced", lost[0].detail + note, checks)
    if facts.revoked is None:
        first = checks[0].detail if checks else "nothing was lost"
        return Judgement("survived", "the session survived: " + first + note, checks)
    stuck = next((c for c in failed if role(c) == "revocation"), None)
    if stuck is not None:
        return Judgement("stuck", stuck.detail + absent_note(facts), checks)
    signed_out = next((c for c in checks if c.name == "signed-out-after-revocation"), None)
    return Judgement("signed-out", (signed_out.detail if signed_out else "the session was ended") + absent_note(facts),
                     checks)


def server_note(facts: Facts, lost: Sequence[Check]) -> str:
    """What the server did on the last page load, for the verdict sentence (unless that is what the sentence says);
    and, for the strict backend, that it was the strict one."""
    note = ""
    loads = facts.loads()
    if loads and not (lost and lost[0].name == "server-sees-session"):
        last = loads[-1]
        reason = last.handshake.data.get("reason") if last.handshake else ""
        what = {"signed-in": "signed in", "signed-in-after-handshake": f"signed in after a handshake ({reason})",
                "signed-out": f"signed out ({why(last.final, facts.store.credential)})"}[last.outcome]
        note = f"; on the last page load ({facts.step_name(last.final.step)}) the server saw the user {what}"
    if facts.backend_note:  # the backend's own words, e.g. that it was a strict check without a handshake
        note += f" [{facts.backend_note}]"
    return note


# What an awaited event that never came means, in the sentence: "the SDK made no token attempt".
ABSENT_WORDS: dict[str, str] = {
    "token_attempt": "the SDK made no token attempt",
    "token_request": "the SDK sent no token request",
    "token_response": "no token request was answered",
    "client_request": "the SDK sent no client request",
    "request": "no request reached the server",
    "request_failed": "no request failed in the browser",
    "session_removed": "the SDK never removed the session",
    "cookie_removed": "no cookie was removed",
    "get_token": "the SDK's getToken never settled",
}


def absent_note(facts: Facts) -> str:
    """``; the SDK made no token attempt within 15 s in step 4 `wait_for token_attempt` (optional wait: the timeline
    went on)`` for each optional wait that ran out; empty when none did."""
    parts = []
    for gave_up in facts.of("wait.timeout"):
        event = str(gave_up.data.get("event", "?"))
        what = ABSENT_WORDS.get(event, f"no `{event}` event came")
        count = int(gave_up.data.get("count") or 1)
        if count > 1:
            what += f" (waited for {count}, saw {gave_up.data.get('seen', 0)})"
        parts.append(f"{what} within {float(gave_up.data.get('seconds') or 0):g} s in {facts.step_name(gave_up.step)} "
                     "(an optional wait: the timeline went on without it)")
    return "".join("; " + p for p in parts)
