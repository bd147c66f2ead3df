"""pytest fixtures: write a timeline in Python, in your own test file, and get the same outcome and result folder a
YAML scenario gets.

    def test_offline_refresh_keeps_the_session(harness_run):
        run = harness_run(version="6.1.0", setup={"token_ttl": 60})
        run.signed_in()
        run.offline()
        run.clear_token_cache()
        run.wait_for("token_attempt", timeout="15s")
        run.online()
        run.reload()
        assert run.finish().outcome == "survived"

A ladder of small fixtures in the manner of pytest-playwright's, each overridable in a ``conftest.py``:

* ``harness_options`` (session) -- the :class:`~harness.engine.RunOptions`, from the command line (``--headed``,
  ``--slowmo``, ``--output``, ``--tracing``, ``--chromium``, ``--browser-mode``, ``--cdp-endpoint``); override it to
  change any of them for your tests;
* ``harness_engine`` (session) -- the :class:`~harness.engine.Engine` built from them (browser discovery, bundle
  cache, a pool keeping the next Chromium ready); closed at the end of the session;
* ``harness_run`` (function) -- a factory: each call starts a run (the mock, a fresh browser, signed out until a
  ``signed_in`` step) on the engine's own thread (so pytest-playwright's ``page`` works in the same session and
  test) and returns a :class:`ScriptedRun`, whose methods are the registered steps
  (``run.fault(kind="hold", path="*/tokens")``, ``run.wait_for("cookie_removed", optional=True)``, ...). The factory
  owns the teardown: every run it made is finished (judged, closed, its result folder written) when the test ends,
  whether or not the test called :meth:`ScriptedRun.finish`;
* ``harness_attach`` (function) -- the same factory for the test's own pytest-playwright ``page``: the run attaches
  the mock, faults, flips, watcher, oracles and result folder to it instead of launching a browser
  (:mod:`harness.pytest_attach`).

Registered by the package's pytest entry point; nothing to copy from this project's ``tests/conftest.py``.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

from harness.engine import Engine, RunOptions, RunPlan, StepFailed, options_from_pytest
from harness.errors import HarnessError
from harness.scenario.model import Outcome, Scenario, Setup
from harness.sdks import adapter_class
from harness.scripted_run import ScriptedRun

if TYPE_CHECKING:  # a run attached to the test's own page
    from harness.pytest_attach import AttachedRun


@pytest.fixture(scope="session")
def harness_options(pytestconfig: pytest.Config) -> RunOptions:
    return options_from_pytest(pytestconfig)


@pytest.fixture(scope="session")
def harness_engine(harness_options: RunOptions) -> Iterator[Engine]:
    engine = Engine(harness_options)
    yield engine
    engine.close()


def python_scenario(request: pytest.FixtureRequest, *, id: str | None, title: str | None,
                    setup: dict[str, Any] | None, expect: dict[str, Outcome] | None) -> Scenario:
    """The scenario of a timeline written in Python: named after the test (without its parametrize id), with the
    ``setup`` keys and ``verdicts`` claims a file would have, and no steps (they come as the test calls them)."""
    test = getattr(request.node, "originalname", None) or request.node.name
    name = id or re.sub(r"[^a-z0-9._-]+", "-", test.lower()).strip("-") or "python-timeline"
    return Scenario(id=name, title=title or f"{request.node.nodeid} (a timeline written in Python)", refs=[],
                    description=None, setup=Setup(**(setup or {})), steps=[], verdicts=dict(expect or {}))


def version_for(scenario: Scenario, version: str | None) -> str:
    """The run's version label: ``version`` as ``--sdk-version`` takes it (a release, a dist-tag, a tarball, a
    package folder, a tarball URL or from:PATH: :mod:`harness.sdks.builds`), else the version of ``setup.sdk``'s
    package with its founding bug (the adapter's first known version)."""
    adapter = adapter_class(scenario.setup.sdk)
    if version is None:
        return adapter.known_versions[0]
    from harness.versions.commands import resolve_versions

    return (resolve_versions([version], adapter.package) or [adapter.known_versions[0]])[0]


def finish_and_check_claims(made: list[ScriptedRun]) -> None:
    """Finish every run (judged, closed, written); a run whose outcome differs from its claim (or that broke while
    claiming one) fails the test, as a scenario file's claim does, with the verdict sentence, checks and timeline."""
    wrong = []
    for scripted in made:
        result = scripted.finish()
        if result.expected is not None and result.outcome != result.expected:
            wrong.append(result)
    if wrong:
        from harness.pytest_plugin import failure_text

        pytest.fail("\n\n".join(failure_text(r) for r in wrong), pytrace=False)


def _pytest_command(request: pytest.FixtureRequest) -> str:
    return f"pytest {shlex.quote(request.node.nodeid)} --headed --slowmo 250"


@pytest.fixture
def harness_run(harness_engine: Engine, request: pytest.FixtureRequest) -> Iterator[Callable[..., ScriptedRun]]:
    made: list[ScriptedRun] = []

    def start(version: str | None = None, *, id: str | None = None, title: str | None = None,
              setup: dict[str, Any] | None = None, expect: dict[str, Outcome] | None = None) -> ScriptedRun:
        """Start a run on ``version`` (:func:`version_for`). ``setup`` takes a scenario file's
        ``setup`` keys; ``expect`` its ``verdicts`` (ranges -> outcome), checked like a file's claims: when the
        test ends, a run whose outcome differs from its claim (or that broke) fails the test with the verdict
        sentence, checks and timeline."""
        scenario = python_scenario(request, id=id, title=title, setup=setup, expect=expect)
        plan = RunPlan(scenario, version_for(scenario, version))
        run = harness_engine.run_on_own_thread(plan)  # pytest-playwright's Playwright may hold this thread
        run.reproduce = _pytest_command(request)
        scripted = ScriptedRun(run, harness_engine.call_on_own_thread)
        made.append(scripted)
        scripted._call(run.start)
        if run.error:
            raise StepFailed(run.error)
        return scripted

    yield start
    finish_and_check_claims(made)


@pytest.fixture
def harness_attach(harness_engine: Engine, new_context: Any,
                   request: pytest.FixtureRequest) -> Iterator[Callable[..., "AttachedRun"]]:
    """Attach the harness to the test's own pytest-playwright page (see :mod:`harness.pytest_attach`). It depends
    on pytest-playwright's ``new_context`` so that it ends -- finishing its runs on a live page -- before that
    fixture closes the test's contexts."""
    from harness.pytest_attach import attach, scenario_file

    made: list[ScriptedRun] = []

    def start(page: Any = None, *, version: str | None = None, scenario: str | Path | None = None,
              id: str | None = None, title: str | None = None, setup: dict[str, Any] | None = None,
              expect: dict[str, Outcome] | None = None) -> "AttachedRun":
        """Attach a run to ``page`` (a pytest-playwright page or context; default: the test's ``page`` fixture)
        on ``version``; ``setup``, ``expect`` as for ``harness_run``. Or ``scenario``: a library id or a file,
        whose setup and claims apply and whose steps ``run.play()`` plays. The run's mock serves the app page at
        ``run.app_url``; ``run.signed_in()`` loads it in the page."""
        target = page if page is not None else request.getfixturevalue("page")
        try:
            if scenario is not None and (setup or expect or id or title):
                raise HarnessError("harness_attach takes a scenario file, or setup/expect/id/title for a timeline "
                                   "written in Python, not both")
            chosen = scenario_file(scenario) if scenario is not None else \
                python_scenario(request, id=id, title=title, setup=setup, expect=expect)
            scripted = attach(harness_engine, target, RunPlan(chosen, version_for(chosen, version)),
                              reproduce=_pytest_command(request))
        except HarnessError as err:
            pytest.fail(f"error: {err}", pytrace=False)
        made.append(scripted)
        if scripted.run.error:
            raise StepFailed(scripted.run.error)
        return scripted

    yield start
    finish_and_check_claims(made)
