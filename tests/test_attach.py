"""The harness inside an existing pytest-playwright suite, each suite run in a subprocess pytest of its own as a
user's suite runs: pytest-playwright's ``page`` and ``harness_run`` in one session (and one test); ``harness_attach``
on the user's own page reproducing the founding bug on clerk-js 6.0.0 and keeping the session on 6.1.0 (and
Supabase's on both sides of its fix), through the example file the docs show; what an attached run refuses; and
nothing -- browser, mock -- left running when the tests end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "pytest-playwright"

# The example's conftest (pytest-playwright pointed at the Chromium the harness finds), plus a session fixture that
# checks, after every other session fixture ended (the harness's engine, pytest-playwright's browser and
# Playwright), that this pytest has no child process left.
LEFT_BEHIND = '''

import os


def _children(pid):
    kids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(k) for k in f.read().split()]
        except OSError:
            pass
    return kids + [g for k in kids for g in _children(k)]


@pytest.fixture(scope="session", autouse=True)
def nothing_left_running():
    yield
    left = [(pid, open(f"/proc/{pid}/cmdline").read().split("\\0")[0]) for pid in _children(os.getpid())
            if os.path.exists(f"/proc/{pid}/cmdline")]
    with open("left-running.json", "w") as f:
        json.dump(left, f)
'''

BOTH_LADDERS = '''
import socket
from urllib.parse import urlsplit


def stopped(url):
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_page_first(page):
    page.set_content("<p id=who>the user's own page</p>")
    assert page.inner_text("#who") == "the user's own page"


def test_harness_run_alone(harness_run):
    run = harness_run(version="6.1.0")
    run.signed_in()
    run.reload()
    assert run.finish().outcome == "survived"
    assert stopped(run.app_url)


def test_both_in_one_test(page, harness_run, harness_attach):
    mine = harness_run(version="6.1.0")             # the harness's own browser, on the engine's thread
    theirs = harness_attach(page, version="6.1.0")  # the user's page, on this thread
    mine.signed_in()
    theirs.signed_in()
    mine.reload()
    theirs.reload()
    assert mine.finish().outcome == "survived"
    assert theirs.finish().outcome == "survived"
    assert stopped(mine.app_url) and stopped(theirs.app_url)
    page.set_content("<p id=who>still mine</p>")  # the page outlives the run attached to it
    assert page.inner_text("#who") == "still mine"


def test_page_again(page):
    page.set_content("<p id=who>and again</p>")
    assert page.inner_text("#who") == "and again"
'''


def _conftest() -> str:
    return "import json\n" + (EXAMPLE / "conftest.py").read_text() + LEFT_BEHIND


@pytest.mark.scenario
def test_page_and_harness_run_share_a_session(pytester: pytest.Pytester) -> None:
    """Before the harness had a thread of its own, the second sync Playwright on pytest's main thread refused to
    start ("It looks like you are using Playwright Sync API inside the asyncio loop"), whichever came first."""
    pytester.makeconftest(_conftest())
    pytester.makepyfile(test_both="import pytest\n" + BOTH_LADDERS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--output", str(pytester.path / "out"), "-q",
                                           "--browser-mode", "emulated")
    result.assert_outcomes(passed=4)
    assert json.loads((pytester.path / "left-running.json").read_text()) == []


@pytest.mark.scenario
def test_the_example_suite_plays_on_the_users_page(tmp_path: Path) -> None:
    """The example file of docs/python-timelines.md, as a user runs it (with pytest-playwright tracing its
    context): the founding bug reproduced on clerk-js 6.0.0 and survived on 6.1.0 on the user's page, Supabase's
    on both sides of its fix, each with the result folder a scenario gets."""
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(EXAMPLE),
                           "--output", str(out), "--tracing", "retain-on-failure"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "5 passed" in proc.stdout
    saved = {(r["scenario"], r["version"]): r for r in
             (json.loads(p.read_text()) for p in out.glob("*/result.json"))}
    founding = "test_offline_refresh_keeps_the_session"
    assert saved[(founding, "6.0.0")]["outcome"] == "reproduced"
    assert saved[(founding, "6.1.0")]["outcome"] == "survived"
    bug = saved[(founding, "6.0.0")]
    assert any(c["name"] == "cookie-never-removed" and not c["passed"] for c in bug["checks"])
    assert [s["name"] for s in bug["steps"]] == ["signed_in", "offline", "clear_token_cache", "wait_for", "online",
                                                 "reload"]
    assert bug["browser"]["kind"] == "attached" and bug["browser"]["mode"] == "emulated"
    assert "keeps every page visible and focused" in bug["browser"]["mode_note"]
    assert bug["reproduce"].startswith("pytest ") and founding in bug["reproduce"]
    supabase = "test_supabase_keeps_the_session_when_the_refresh_drops"
    assert saved[(supabase, "2.26.0")]["outcome"] == "reproduced"
    assert saved[(supabase, "2.27.0")]["outcome"] == "survived"
    assert saved[(supabase, "2.26.0")]["sdk"] == "@supabase/supabase-js"
    for result in saved.values():  # the trace is pytest-playwright's: the harness starts none on its context
        assert "trace" not in result.get("artifacts", {})


REFUSALS = '''
import pytest
from harness.errors import HarnessError


def test_a_tab_step_is_refused_before_it_plays(page, harness_attach):
    run = harness_attach(page, version="6.1.0")
    run.signed_in()
    with pytest.raises(HarnessError, match="`hide` cannot play on a test's own page in emulated mode"):
        run.hide()
    assert [s["name"] for s in run.run.steps_done] == ["signed_in"]  # refused, not played and failed
    assert run.finish().outcome == "survived"


def test_simulated_tabs_on_the_users_page(page, harness_attach):
    run = harness_attach(page, version="6.1.0", setup={"browser_mode": "simulated"})
    run.signed_in()
    run.hide()
    assert page.evaluate("document.visibilityState") == "hidden"
    run.show()
    result = run.finish()
    assert result.outcome == "survived", result.sentence
    assert result.browser["mode"] == "simulated" and "SIMULATED" in result.browser["mode_note"]


def test_real_mode_is_refused(page, harness_attach):
    harness_attach(page, version="6.1.0", setup={"browser_mode": "real"})


def test_one_run_per_context(page, harness_attach):
    harness_attach(page, version="6.1.0")
    harness_attach(page.context, version="6.1.0")


def test_a_library_scenario_on_my_page(page, harness_attach):
    run = harness_attach(page, scenario="offline-refresh-due", version="6.0.0")
    result = run.play()
    assert (result.outcome, result.expected) == ("reproduced", "reproduced"), result.sentence


def test_a_scenario_with_tab_steps_is_refused_at_load(page, harness_attach):
    harness_attach(page, scenario="supabase-offline-tab-visible", version="2.26.0")


def test_the_page_is_the_users_again_after_the_run(page, harness_attach):
    run = harness_attach(page, version="6.1.0")
    run.signed_in()
    run.offline()
    run.finish()
    assert page.evaluate("navigator.onLine") is True  # the run turned the network back on, and closed nothing
    page.set_content("<p id=who>mine again</p>")
    assert page.inner_text("#who") == "mine again"


def test_a_test_that_fails_midway_still_gets_its_result(page, harness_attach):
    run = harness_attach(page, version="6.1.0", id="failing-midway")
    run.signed_in()
    run.offline()
    assert False, "the user's own assertion fails while the page is offline"
'''


@pytest.mark.scenario
def test_what_an_attached_run_refuses(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(_conftest())
    pytester.makepyfile(test_refusals=REFUSALS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--output", str(pytester.path / "out"), "-q")
    result.assert_outcomes(passed=4, failed=4)
    [midway] = (pytester.path / "out").glob("*-failing-midway-6.1.0")
    assert not (midway / "INCOMPLETE").exists()
    assert json.loads((midway / "result.json").read_text())["outcome"] == "survived"  # finished at teardown
    out = result.stdout.str()
    assert "error: supabase-offline-tab-visible: step 2 `hide` (line 20) cannot play on a test's own page in " \
           "emulated mode" in out
    assert "error: setup.browser_mode real cannot apply to a test's own page" in out
    assert "error: this context is attached to a run already" in out
    assert "Traceback" not in out and "harness/pytest_attach.py" not in out  # one line each, no traceback
    assert json.loads((pytester.path / "left-running.json").read_text()) == []


def _code(text: str) -> list[str]:
    """Python lines without comments and blank lines: what runs."""
    lines = [line.split("  #")[0].rstrip() for line in text.splitlines()]
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_the_docs_show_the_example_the_suite_runs() -> None:
    """docs/python-timelines.md's pytest-playwright example is examples/pytest-playwright/test_network_blink.py,
    line for line (comments and docstrings aside)."""
    docs = (ROOT / "docs" / "python-timelines.md").read_text()
    section = docs.split("## Inside a pytest-playwright suite", 1)[1]
    shown = section.split("```python\n", 1)[1].split("```", 1)[0]
    example = (EXAMPLE / "test_network_blink.py").read_text()
    body = example.split('"""', 2)[2]  # after the module docstring
    assert _code(shown) == _code(body)
