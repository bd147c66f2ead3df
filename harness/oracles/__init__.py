"""Oracles: the questions asked of a run's timeline, and the outcome they add up to.

Each check (:mod:`harness.oracles.checks`, a registry) looks only at facts computed once from timeline events
(:mod:`harness.oracles.facts`) -- cookie writes seen in the page or set by the server, what the server decided on
each page load, the SDK's view after a reload, the browser's own cookie jar -- so a verdict is always backed by the
events that justify it. The outcome (:mod:`harness.oracles.outcome`) is a reducer over the checks by their
registered role: ``survived``, ``reproduced``, ``signed-out``, ``stuck``, or ``error`` when the harness itself
failed; whether that matches what a scenario file expects is decided elsewhere, after the fact.
"""

from __future__ import annotations

from typing import Sequence

from harness.oracles.checks import CHECKS, Check, CheckSpec, check
from harness.oracles.facts import Facts, PageLoad, page_loads
from harness.oracles.outcome import Judgement, reduce
from harness.sdk_protocol import SessionStore
from harness.timeline import Timeline

__all__ = ["CHECKS", "Check", "CheckSpec", "Facts", "Judgement", "PageLoad", "check", "judge", "page_loads",
           "run_checks"]


def run_checks(facts: Facts) -> list[Check]:
    """Every registered check, in registration order; a failed gate stops the rest (they would mean nothing)."""
    results: list[Check] = []
    for spec in CHECKS.values():
        found = list(spec.run(facts))
        results.extend(found)
        if spec.role == "gate" and any(not c.passed for c in found):
            break
    return results


def judge(timeline: Timeline, steps: Sequence[str], store: SessionStore | Sequence[str], *,
          user_view: str = "the SDK's view of the user") -> Judgement:
    """Look at the whole timeline and say what happened to the session kept in ``store`` (a
    :class:`~harness.sdk_protocol.SessionStore`; a list of cookie names means cookies)."""
    facts = Facts.of_timeline(timeline, steps, store, user_view)
    return reduce(facts, run_checks(facts))
