"""The sweep's logic without a browser: resuming by run key, consensus and flaky releases, every flip (confirmed only
with agreeing repeats), sampling then bisecting every interval whose ends differ, what a sample cannot exclude, and
the cost figures."""

from __future__ import annotations

import pytest

from harness.versions import sweep

LINE = [f"5.{i}.0" for i in range(60)]


def run(scenario: str, version: str, outcome: str, repeat: int = 1, at: float = 0.0, **extra) -> dict:
    return {"scenario": scenario, "version": version, "outcome": outcome, "repeat": repeat, "started_at": at,
            "expected": extra.get("expected"), "sentence": extra.get("sentence", "")}


def test_finished_runs_are_keyed_as_plans_and_errors_can_be_retried() -> None:
    results = [run("a", "5.1.0", "survived"), run("a", "5.2.0", "error", at=1), run("a", "5.2.0", "reproduced", 2)]
    done = sweep.finished(results)
    assert set(done) == {"a@5.1.0#1", "a@5.2.0#1", "a@5.2.0#2"}
    assert "a@5.2.0#1" not in sweep.finished(results, retry_errors=True)


def test_the_newest_result_of_a_key_wins() -> None:
    done = sweep.finished([run("a", "5.1.0", "reproduced", at=5), run("a", "5.1.0", "survived", at=1)])
    assert done["a@5.1.0#1"]["outcome"] == "reproduced"


def test_two_flips_each_named_and_errors_left_out_of_the_line() -> None:
    outcomes = {"5.0.0": "reproduced", "5.1.0": "reproduced", "5.2.0": "survived", "5.3.0": "error",
                "5.4.0": "survived", "5.5.0": "reproduced"}
    results = [run("a", v, o) for v, o in outcomes.items()]
    found = sweep.flips(results)
    assert [(f.before, f.after) for f in found] == [("5.1.0", "5.2.0"), ("5.4.0", "5.5.0")]
    assert not any(f.confirmed for f in found)  # one run a side: reported, but not as confirmed
    lines = sweep.summary_lines(results)
    assert lines[0] == "a: reproduced 5.0.0..5.1.0 (2) | survived 5.2.0..5.4.0 (2) | reproduced 5.5.0 (1)"
    assert any("error on 5.3.0" in line for line in lines)


def test_a_flaky_release_is_never_a_flip_and_its_rate_is_said() -> None:
    results = [run("a", "5.0.0", "reproduced", n) for n in (1, 2, 3)]
    results += [run("a", "5.1.0", "survived", 1), run("a", "5.1.0", "reproduced", 2), run("a", "5.1.0", "survived", 3)]
    results += [run("a", "5.2.0", "survived", n) for n in (1, 2, 3)]
    agreed = sweep.consensus(results)
    assert agreed[("a", "5.1.0")].outcome == sweep.FLAKY
    assert agreed[("a", "5.1.0")].flake_rate == pytest.approx(1 / 3)
    (flip,) = sweep.flips(results, confirm=3)
    assert (flip.before, flip.after, flip.between, flip.confirmed) == ("5.0.0", "5.2.0", ("5.1.0",), True)
    assert any("flaky: 5.1.0" in line and "33%" in line and "never a flip" in line
               for line in sweep.summary_lines(results, 3))


def test_a_flip_is_confirmed_only_with_enough_agreeing_runs_on_both_sides() -> None:
    results = [run("a", "5.0.0", "reproduced", n) for n in (1, 2, 3)] + [run("a", "5.1.0", "survived")]
    (flip,) = sweep.flips(results, confirm=3)
    assert not flip.confirmed
    results += [run("a", "5.1.0", "survived", n) for n in (2, 3)]
    (flip,) = sweep.flips(results, confirm=3)
    assert flip.confirmed


def truth(windows: list[tuple[int, int]]):
    """reproduced inside any [lo, hi) window of LINE indices, survived elsewhere; records every probe."""
    probes: list[str] = []

    def verdict_of(version: str) -> str:
        probes.append(version)
        i = LINE.index(version)
        return "reproduced" if any(lo <= i < hi for lo, hi in windows) else "survived"

    return verdict_of, probes


def test_sample_then_bisect_names_every_flip_a_sample_reveals() -> None:
    """Three flips: a fix at 5.25, a revert at 5.33 (sampled at 5.40) and a fix again at 5.42."""
    verdict_of, probes = truth([(0, 25), (33, 42)])
    sampled = sweep.sample(LINE, 10)
    assert sampled == [LINE[i] for i in (0, 10, 20, 30, 40, 50)] + [LINE[-1]]
    known = {v: verdict_of(v) for v in sampled}
    known_before = dict(known)
    sweep.bisect_intervals(LINE, known, lambda v: known.setdefault(v, verdict_of(v)))
    results = [run("a", v, o) for v, o in known.items()]
    assert [(f.before, f.after) for f in sweep.flips(results)] == [
        ("5.24.0", "5.25.0"), ("5.32.0", "5.33.0"), ("5.41.0", "5.42.0")]
    assert len(known) - len(known_before) < 20  # bisecting, not running all 60


def test_a_window_between_two_agreeing_samples_is_named_as_not_excluded() -> None:
    verdict_of, _ = truth([(13, 16)])  # 5.13..5.15 reproduce; samples 5.10 and 5.20 both survive
    known = {v: verdict_of(v) for v in sweep.sample(LINE, 10)}
    sweep.bisect_intervals(LINE, known, lambda v: known.setdefault(v, verdict_of(v)))
    assert sweep.flips([run("a", v, o) for v, o in known.items()]) == []  # invisible to this budget...
    spots = sweep.blind_spots(list(known), LINE, known)
    assert ("5.10.0", "5.20.0", 9) in spots  # ...and said so


def test_a_full_line_leaves_no_blind_spot() -> None:
    verdict_of, _ = truth([(13, 16)])
    known = {v: verdict_of(v) for v in LINE}
    assert sweep.blind_spots(list(known), LINE, known) == []
    assert len(sweep.flips([run("a", v, o) for v, o in known.items()])) == 2


def test_cost_and_projection() -> None:
    cost = sweep.cost_of([{"runs": 10, "wall": 30.0, "cpu": 50.0, "jobs": 2},
                          {"runs": 10, "wall": 30.0, "cpu": 40.0, "jobs": 2}])
    assert (cost.runs, cost.wall_per_run, cost.cpu_per_run) == (20, 3.0, 4.5)
    assert cost.projection(7300, 4) == pytest.approx(7300 * 3.0 / 4)
    assert "20 runs played in 2 sessions" in cost.text()
