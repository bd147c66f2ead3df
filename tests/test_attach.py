"""The harness inside an existing pytest-playwright suite: pytest-playwright's ``page`` and the harness's fixtures in
one session (and one test), each run in a subprocess pytest of its own, as a user's suite runs."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# pytest-playwright launches Playwright's own download of Chromium unless told otherwise; this machine has the
# system Chromium the harness finds, so the user's suite points pytest-playwright at it (as the docs say to).
CONFTEST = '''
import pytest
from harness.browser.discovery import find_browser

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(find_browser().path)}
'''

BOTH_LADDERS = '''
def test_page_first(page):
    page.set_content("<p id=who>the user's own page</p>")
    assert page.inner_text("#who") == "the user's own page"

def test_harness_run_then(harness_run):
    run = harness_run(version="6.1.0")
    run.signed_in()
    run.reload()
    assert run.finish().outcome == "survived"

def test_both_in_one_test(page, harness_run):
    run = harness_run(version="6.1.0")
    run.signed_in()
    page.set_content("<p id=who>still mine</p>")
    run.reload()
    assert page.inner_text("#who") == "still mine"
    assert run.finish().outcome == "survived"

def test_page_again(page):
    page.set_content("<p id=who>and again</p>")
    assert page.inner_text("#who") == "and again"
'''


@pytest.mark.scenario
def test_page_and_harness_run_share_a_session(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_both=BOTH_LADDERS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--output", str(pytester.path / "out"), "-q",
                                           "--browser-mode", "emulated")
    result.assert_outcomes(passed=4)
