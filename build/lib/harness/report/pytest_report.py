"""pytest hooks for reports: ``--harness-report PATH`` writes the same HTML report as ``harness run``.

Scenario test items (harness/pytest_plugin.py) set ``item.harness_result`` to the RunResult they produced. This
module collects those after each test's call phase (or its setup, when the run broke there), makes sure the run's
identity (scenario, SDK version, browser, browser mode, verdict...) is in ``item.user_properties`` so pytest's own
``--junitxml`` carries it as properties, and writes the HTML report when the session finishes. Registered as its
own pytest11 entry point, so it stays out of the scenario plugin's way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.report.junit import run_properties

_RESULTS = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("session-harness", "session-survival harness")
    group.addoption("--harness-report", metavar="PATH", type=Path, default=None,
                    help="write the harness's self-contained HTML report of the scenario runs here")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RESULTS] = []


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> None:
    # tryfirst: the properties must be on the item before pytest builds this phase's report from it.
    # The run happens in the item's setup; its result is collected once, at the end of the call phase, or at the
    # end of setup when the run broke there (no call phase follows).
    result = getattr(item, "harness_result", None)
    if result is None or call.when == "teardown" or (call.when == "setup" and call.excinfo is None):
        return
    item.config.stash[_RESULTS].append(result)
    data = result.to_dict() if hasattr(result, "to_dict") else result
    have = {name for name, _ in item.user_properties}
    item.user_properties.extend((name, value) for name, value in run_properties(data) if name not in have)


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("harness_report", None)
    if path is None:
        return
    from harness.report.html import write_report

    results: list[Any] = session.config.stash.get(_RESULTS, [])
    write_report(results, path)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    path = config.getoption("harness_report", None)
    if path is not None:
        count = len(config.stash.get(_RESULTS, []))
        terminalreporter.write_line(f"harness report: {path} ({count} scenario run{'s' if count != 1 else ''})")
