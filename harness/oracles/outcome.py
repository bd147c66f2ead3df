"""The outcome: a reducer over the checks' results, by each check's registered role (never by list position).

``error`` when a gate or a harness instrument failed (no verdict is better than a false one); ``reproduced`` when a
``loss`` check failed (also before a revocation); without a revocation, ``survived``; with one, ``stuck`` when a
``revocation`` check failed, else ``signed-out``. A failed ``bound`` check (a request storm) decides no outcome: it
is added to the sentence, and the run's result no longer matches its claim (:attr:`RunResult.bounds_exceeded`).
The sentence is the deciding check's detail, plus what the server
did on the last page load and, for the strict backend, that it was the strict one.
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
    if lost:
        return Judgement("reproduced", lost[0].detail + note, checks)
    if facts.revoked is None:
        first = checks[0].detail if checks else "nothing was lost"
        return Judgement("survived", "the session survived: " + first + note, checks)
    stuck = next((c for c in failed if role(c) == "revocation"), None)
    if stuck is not None:
        return Judgement("stuck", stuck.detail, checks)
    signed_out = next((c for c in checks if c.name == "signed-out-after-revocation"), None)
    return Judgement("signed-out", signed_out.detail if signed_out else "the session was ended", checks)


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
