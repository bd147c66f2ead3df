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
  ``signed_in`` step) and returns a :class:`ScriptedRun`, whose methods are the registered steps
  (``run.fault(kind="hold", path="*/tokens")``, ``run.wait_for("cookie_removed", optional=True)``, ...). The factory
  owns the teardown: every run it made is finished (judged, closed, its result folder written) when the test ends,
  whether or not the test called :meth:`ScriptedRun.finish`.

Registered by the package's pytest entry point; nothing to copy from this project's ``tests/conftest.py``.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

import pytest

from harness.engine import Engine, RunOptions, RunPlan, RunResult, StepFailed, options_from_pytest
from harness.engine.run import Run
from harness.scenario.model import Outcome, Scenario, Setup, Step
from harness.scenario.steps import STEPS
from harness.sdks import adapter_class
from harness.timeline import Timeline


class ScriptedRun:
    """A run driven step by step from Python. Each registered step is a method: its one main argument positional
    (``run.wait_for("token_attempt")``), the others by keyword, plus ``label=`` and ``timeout=`` as in a file."""

    def __init__(self, run: Run) -> None:
        self.run = run

    @property
    def timeline(self) -> Timeline:
        return self.run.timeline

    def step(self, name: str, value: Any = None, /, *, label: str | None = None, timeout: float | None = None,
             **args: Any) -> None:
        """Play step ``name`` now; a step that cannot complete fails the test (and the run ends in ``error``)."""
        spec = STEPS.get(name)
        if spec is None:
            raise AttributeError(f"no step {name!r} (known steps: {', '.join(sorted(STEPS))})")
        if value is not None:
            args = {"value": value, **args}
        validated = spec.args.model_validate(args, context={"sdk": self.run.sdk})  # checked for the run's SDK
        step = Step(name, validated.model_dump(exclude_unset=True), line=0, label=label, timeout=timeout)
        try:
            self.run.step(step)
        except StepFailed as err:
            self.run.error = self.run.error or str(err)
            raise

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name in STEPS:
            return lambda *args, **kwargs: self.step(name, *args, **kwargs)
        raise AttributeError(name)

    def finish(self) -> RunResult:
        """Judge, close, write the result folder; returns the result (the same object every later call)."""
        return self.run.finish()


@pytest.fixture(scope="session")
def harness_options(pytestconfig: pytest.Config) -> RunOptions:
    return options_from_pytest(pytestconfig)


@pytest.fixture(scope="session")
def harness_engine(harness_options: RunOptions) -> Iterator[Engine]:
    engine = Engine(harness_options)
    yield engine
    engine.close()


@pytest.fixture
def harness_run(harness_engine: Engine, request: pytest.FixtureRequest) -> Iterator[Callable[..., ScriptedRun]]:
    made: list[ScriptedRun] = []

    def start(version: str | None = None, *, id: str | None = None, title: str | None = None,
              setup: dict[str, Any] | None = None, expect: dict[str, Outcome] | None = None) -> ScriptedRun:
        """Start a run on ``version`` (default: the version of ``setup.sdk``'s package with its founding bug,
        the adapter's first known version) -- a release, a dist-tag, a tarball, a package folder, a tarball URL or
        from:PATH, as ``--sdk-version`` takes (:mod:`harness.sdks.builds`). ``setup`` takes a scenario file's
        ``setup`` keys; ``expect`` its ``verdicts`` (ranges -> outcome), checked like a file's claims: when the test
        ends, a run whose outcome differs from its claim (or that broke) fails the test with the verdict sentence,
        checks and timeline."""
        test = getattr(request.node, "originalname", None) or request.node.name  # without the parametrize id
        name = id or re.sub(r"[^a-z0-9._-]+", "-", test.lower()).strip("-") or "python-timeline"
        scenario = Scenario(id=name, title=title or f"{request.node.nodeid} (a timeline written in Python)",
                            refs=[], description=None, setup=Setup(**(setup or {})), steps=[],
                            verdicts=dict(expect or {}))
        adapter = adapter_class(scenario.setup.sdk)
        label = adapter.known_versions[0]
        if version is not None:  # a release, a dist-tag, a tarball, a folder, a URL or from:PATH (harness.sdks.builds)
            from harness.versions.commands import resolve_versions

            [label] = resolve_versions([version], adapter.package) or [label]
        run = harness_engine.run_here(RunPlan(scenario, label))
        scripted = ScriptedRun(run)
        made.append(scripted)
        run.start()
        if run.error:
            raise StepFailed(run.error)
        return scripted

    yield start
    wrong = []
    for scripted in made:
        result = scripted.finish()
        if result.expected is not None and result.outcome != result.expected:
            wrong.append(result)
    if wrong:  # a claim is checked as a scenario file's is: a run that differs from it fails the test
        from harness.pytest_plugin import failure_text

        pytest.fail("\n\n".join(failure_text(r) for r in wrong), pytrace=False)
