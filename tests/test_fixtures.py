"""The engine as pytest fixtures: a user's own test file writes a timeline in Python, with no conftest of ours."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

USER_TEST = '''
import pytest

@pytest.mark.parametrize("version, outcome", [("6.0.0", "reproduced"), ("6.1.0", "survived")])
def test_offline_refresh(harness_run, version, outcome):
    run = harness_run(version=version, setup={"token_ttl": 60}, expect={"<6.1.0": "reproduced", ">=6.1.0": "survived"})
    run.signed_in()
    run.offline()
    run.clear_token_cache()
    run.wait_for("token_attempt", timeout=15)
    run.online()
    run.reload()
    result = run.finish()
    assert result.outcome == outcome, result.sentence
    assert result.matches_expectation

def test_a_wrong_claim_fails_the_test(harness_run):
    run = harness_run(version="6.1.0", expect={"*": "reproduced"})  # 6.1.0 keeps the session: this claim is wrong
    run.signed_in()
    run.reload()

def test_a_step_that_fails_ends_the_run_in_error(harness_run):
    run = harness_run(version="6.1.0")
    with pytest.raises(Exception, match="step 1 `show`"):
        run.show()  # the tab is on show already: a scenario mistake, not a no-op
    assert run.finish().outcome == "error"
'''


def test_a_user_test_file_writes_a_timeline_in_python(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    out = tmp_path / "results"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--output", str(out), "-q")
    # The wrong claim fails at teardown, as the fixture checks what the run did against it (an error of that test).
    result.assert_outcomes(passed=4, errors=1)
    assert "expected reproduced, got survived" in result.stdout.str()
    saved = [json.loads(p.read_text()) for p in out.glob("*/result.json")]
    assert sorted(r["outcome"] for r in saved) == ["error", "reproduced", "survived", "survived"]
    # The same result folder as a YAML scenario's: the timeline, the checks, the verdict sentence.
    bug = next(r for r in saved if r["outcome"] == "reproduced")
    assert bug["version"] == "6.0.0" and bug["expected"] == "reproduced"
    assert any(c["name"] == "cookie-never-removed" and not c["passed"] for c in bug["checks"])
    assert [s["name"] for s in bug["steps"]] == ["signed_in", "offline", "clear_token_cache", "wait_for", "online",
                                                 "reload"]


FIREBASE_TEST = '''
import pytest

@pytest.mark.parametrize("version, outcome", [("9.18.0", "reproduced"), ("9.19.0", "survived")])
def test_opening_the_app_offline(harness_run, version, outcome):
    run = harness_run(version=version, setup={"sdk": "firebase", "token_ttl": 3600},
                      expect={">=9.17.2 <9.19.0": "reproduced", ">=9.19.0": "survived"})
    run.signed_in()
    run.offline()
    run.reload()
    run.online()
    run.reload()
    result = run.finish()
    assert result.outcome == outcome, result.sentence
'''


def test_a_python_timeline_runs_on_firebase(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """The fixtures take any adapter through ``setup``: Firebase's IndexedDB session, both sides of #7118."""
    pytester.makepyfile(test_firebase_user=FIREBASE_TEST)
    out = tmp_path / "results"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--output", str(out), "-q")
    result.assert_outcomes(passed=2)
    saved = {r["version"]: r for r in (json.loads(p.read_text()) for p in out.glob("*/result.json"))}
    assert saved["9.18.0"]["sdk"] == saved["9.19.0"]["sdk"] == "firebase"
    assert (saved["9.18.0"]["outcome"], saved["9.19.0"]["outcome"]) == ("reproduced", "survived")
