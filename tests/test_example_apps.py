"""The founding bugs in the example apps (examples/), on both sides of each fix: the app started once per session.

Marked ``example_app`` (deselect with ``-m 'not example_app'``): each needs its example's node_modules (``make
examples`` installs them from the lockfiles) and starts a real app server -- ``next dev`` compiles its first page on
request, which takes a while on a loaded machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.app.spec import AppSpec
from harness.engine import Engine, RunOptions, RunPlan
from harness.scenario.model import load_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

pytestmark = pytest.mark.example_app


def installed(example: str) -> Path:
    folder = EXAMPLES / example
    if not (folder / "node_modules").is_dir():
        pytest.fail(f"{folder} has no node_modules: run `make examples` (or deselect with -m 'not example_app')")
    return folder


def play(scenario: str, versions: tuple[str, ...], app: AppSpec, tmp_path: Path) -> dict[str, str]:
    """Each version of ``scenario`` against ``app`` on one engine (one app start): version -> outcome."""
    loaded = load_scenario(scenario_path(scenario))
    options = RunOptions(reports_dir=tmp_path, trace="off", jobs=2, app=app)
    with Engine(options) as engine:
        results = engine.play([RunPlan(loaded, v, 1) for v in versions])
    for result in results:
        assert result.matches_expectation, f"{result.version}: {result.outcome}: {result.sentence}"
        assert "observed from the app" in result.sentence
    return {r.version: r.outcome for r in results}


def scenario_path(scenario: str) -> Path:
    found = list((ROOT / "scenarios").rglob(f"{scenario}.yaml"))
    assert found, scenario
    return found[0]


def test_nextjs_clerk_founding_bug(tmp_path):
    app = AppSpec(preset="nextjs-clerk", cwd=str(installed("nextjs-clerk")), timeout=420)
    assert play("offline-refresh-due", ("6.0.0", "6.1.0"), app, tmp_path) == {
        "6.0.0": "reproduced", "6.1.0": "survived"}


def test_supabase_spa_founding_bug(tmp_path):
    app = AppSpec(preset="supabase-spa", cwd=str(installed("supabase-spa")), timeout=120)
    assert play("supabase-offline-tab-visible", ("2.26.0", "2.27.0"), app, tmp_path) == {
        "2.26.0": "reproduced", "2.27.0": "survived"}
