"""The bisect search on fake verdict functions: no browser, every path (flip, skips, non-monotonic, ends)."""

from __future__ import annotations

import math

import pytest

from harness.versions.bisect import Probe, bisect_versions

LINE = [f"5.{i}.0" for i in range(40)] + [f"6.{i}.0" for i in range(24)]  # 64 releases, oldest first


def fake(table: dict[str, str] | None = None, default: str | None = None, flip_at: str | None = None,
         errors: frozenset[str] = frozenset()):
    """A verdict function: ``reproduced`` before ``flip_at`` and ``survived`` from it on, with overrides."""
    calls: list[str] = []

    def verdict_of(version: str) -> str:
        calls.append(version)
        if version in errors:
            return "error"
        if table and version in table:
            return table[version]
        if flip_at is not None:
            return "reproduced" if LINE.index(version) < LINE.index(flip_at) else "survived"
        return default or "survived"

    verdict_of.calls = calls  # type: ignore[attr-defined]  # the fake records its calls on itself
    return verdict_of


@pytest.mark.parametrize("flip_at", ["5.1.0", "5.20.0", "6.0.0", "6.1.0", "6.23.0"])
def test_one_flip_found_in_log2_runs(flip_at: str) -> None:
    steps: list[Probe] = []
    verdict = fake(flip_at=flip_at)
    answer = bisect_versions(LINE, verdict, steps.append)
    (flip,) = answer.flips
    assert (flip.after, flip.before) == (flip_at, LINE[LINE.index(flip_at) - 1])
    assert (flip.before_outcome, flip.after_outcome) == ("reproduced", "survived") and flip.exact
    assert answer.runs <= 2 + math.ceil(math.log2(len(LINE) - 1))
    assert len(set(verdict.calls)) == len(verdict.calls)  # never runs a release twice
    assert [p.version for p in steps] == list(answer.outcomes)  # each run reported once, as it happened
    assert not answer.non_monotonic and not answer.skipped
    assert steps[-1].remaining() == f"{flip.before} .. {flip.after} (0 untested between)"


def test_order_of_the_verdicts_does_not_matter() -> None:
    """A fix (bad before good) and a regression (good before bad) are the same search."""
    answer = bisect_versions(LINE, fake(table={v: "reproduced" for v in LINE[30:]}, default="survived"))
    assert [(f.before, f.after, f.before_outcome) for f in answer.flips] == [("5.29.0", "5.30.0", "survived")]


def test_the_remaining_range_shrinks_with_each_step() -> None:
    steps: list[Probe] = []
    bisect_versions(LINE, fake(flip_at="6.1.0"), steps.append)
    sizes = [p.untested for p in steps]
    assert sizes[1] == len(LINE) - 2 and sizes == sorted(sizes, reverse=True) and sizes[-1] == 0


def test_errors_are_skipped_like_git_bisect_skip() -> None:
    steps: list[Probe] = []
    errors = frozenset({"5.31.0", "5.32.0", "6.0.0"})
    answer = bisect_versions(LINE, fake(flip_at="6.1.0", errors=errors), steps.append)
    (flip,) = answer.flips
    assert (flip.before, flip.after) == ("5.39.0", "6.1.0")
    assert flip.between == ("6.0.0",) and not flip.exact  # the flip may be at 6.0.0: said, not guessed
    assert set(answer.skipped) <= errors and "6.0.0" in answer.skipped
    skipped = [p for p in steps if p.skipped]
    assert skipped and all("skipped" in p.note for p in skipped)


def test_only_skipped_releases_left_is_a_range_not_a_pair() -> None:
    errors = frozenset(LINE[10:20])
    answer = bisect_versions(LINE, fake(flip_at="5.15.0", errors=errors))
    (flip,) = answer.flips
    assert (flip.before, flip.after) == ("5.9.0", "5.20.0") and flip.between == tuple(LINE[10:20])


def test_a_third_verdict_is_reported_non_monotonic_and_both_flips_found() -> None:
    table = {v: "stuck" for v in LINE[20:45]}  # reproduced, then stuck, then survived
    answer = bisect_versions(LINE, fake(table=table, flip_at="5.39.0"))
    assert answer.non_monotonic and "stuck" in answer.non_monotonic[0]
    assert [(f.before, f.after) for f in answer.flips] == [("5.19.0", "5.20.0"), ("6.4.0", "6.5.0")]


def test_ends_that_agree_with_a_different_middle_are_non_monotonic() -> None:
    """reproduced .. survived .. reproduced: the ends agree, the middle contradicts a single flip."""
    table = {v: "survived" for v in LINE[25:40]}
    answer = bisect_versions(LINE, fake(table=table, default="reproduced"))
    assert answer.non_monotonic and "flips at least twice" in answer.non_monotonic[0]
    assert [(f.before, f.after) for f in answer.flips] == [("5.24.0", "5.25.0"), ("5.39.0", "6.0.0")]


def test_ends_that_agree_and_a_middle_that_agrees_is_no_flip() -> None:
    answer = bisect_versions(LINE, fake(default="survived"))
    assert answer.flips == [] and not answer.non_monotonic and answer.runs == 3


def test_an_end_without_a_verdict_stops_the_search() -> None:
    verdict = fake(flip_at="6.1.0", errors=frozenset({LINE[0]}))
    answer = bisect_versions(LINE, verdict)
    assert answer.ends_error == [LINE[0]] and answer.flips == [] and answer.runs == 2


def test_two_adjacent_releases_need_only_their_two_runs() -> None:
    answer = bisect_versions(["6.0.0", "6.1.0"], fake(flip_at="6.1.0"))
    assert [(f.before, f.after) for f in answer.flips] == [("6.0.0", "6.1.0")] and answer.runs == 2
    with pytest.raises(ValueError):
        bisect_versions(["6.0.0"], fake())


def test_the_answer_says_what_the_search_cannot_exclude() -> None:
    """A bisect assumes the stretches between agreeing probes are constant: a window inside one is invisible to it,
    and the answer says how many releases it never ran there."""
    from harness.versions.commands import not_excluded

    window = fake(flip_at="6.0.0", table={v: "survived" for v in LINE[10:13]})  # 5.10..5.12 fixed, then reverted
    answer = bisect_versions(LINE, window)
    assert [(f.before, f.after) for f in answer.flips] == [("5.39.0", "6.0.0")]  # the window is not found...
    (line,) = not_excluded(answer, LINE)
    assert f"among the {len(LINE) - answer.runs} releases never run" in line  # ...and that is said
    every = {v: window(v) for v in LINE}
    assert not_excluded(bisect_versions(LINE, lambda v: every[v]), LINE[:1] + LINE[-1:]) == []
