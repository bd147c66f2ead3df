"""Faults of the harness's own never pass for a verdict: each ends the run in `error` within a bounded time, with a
sentence naming the cause, the result folder complete or marked INCOMPLETE, and nothing left running."""

from __future__ import annotations

import dataclasses
import errno
import os
import threading
import time
from pathlib import Path

import pytest

import harness.engine.run as run_module
from harness.browser.real_chromium import marked_processes
from harness.report import artifacts
from harness.scenario.steps import STEPS

from conftest import FIXED

# Signed in, then a long wait in which things go wrong, then a reload that would judge the server's view.
TIMELINE = """
id: harness-fault
title: a run in which the harness itself breaks
setup: {token_ttl: 60}
steps:
  - signed_in
  - online_check
  - wait: 4s
  - reload
verdicts: {"*": survived}
"""


@pytest.fixture
def fault_step(monkeypatch):
    """Put ``action(ctx)`` in the scenario as step 2 (`online_check`, registered for the test only)."""

    def install(action):
        def run(ctx, args, timeout):
            action(ctx)

        monkeypatch.setitem(STEPS, "online_check", dataclasses.replace(STEPS["online"], name="online_check",
                                                                       run=run))
    return install


def _no_chromium_of_ours_left() -> None:
    deadline = time.monotonic() + 10
    while marked_processes(launched_by=os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.1)  # the engine's reaper ends used browsers in the background


def _check(result, *words: str, started: float, bound: float = 180) -> None:
    # The bound proves the run ends by itself instead of hanging (every fault here would otherwise block for good);
    # it is generous so that a loaded machine does not fail it. How fast is bench/'s business, not a test's.
    assert result.outcome == "error", result.sentence
    for word in words:
        assert word in result.sentence, result.sentence
    assert time.monotonic() - started < bound
    folder = Path(result.artifacts.get("folder", "")) if result.artifacts.get("folder") else None
    if folder is not None:
        assert (folder / "result.json").exists() or (folder / artifacts.MARKER).exists()


def test_the_browser_killed_mid_run(run, fault_step, tmp_path):
    def kill_soon(ctx):
        real = ctx.driver.real
        threading.Timer(1.0, real.kill).start()  # from outside, as the OOM killer or a user would

    fault_step(kill_soon)
    started = time.monotonic()
    result = run(TIMELINE, FIXED, reports_dir=tmp_path / "reports", mode="real")
    _check(result, "browser went away", "step 3", started=started)
    assert (Path(result.artifacts["folder"]) / "result.json").exists()
    _no_chromium_of_ours_left()


def test_the_page_crashing(run, fault_step, tmp_path):
    def crash(ctx):
        try:
            ctx.driver.page.goto("chrome://crash", timeout=5000)  # Chromium's own way to crash a renderer
        except Exception:
            pass  # the navigation dies with the renderer

    fault_step(crash)
    started = time.monotonic()
    result = run(TIMELINE, FIXED, reports_dir=tmp_path / "reports")
    _check(result, "crashed", started=started)


def test_the_mock_thread_dying(run, fault_step, tmp_path):
    def stop_the_mock_loop(ctx):
        ctx.server._loop.call_soon_threadsafe(ctx.server._loop.stop)  # its thread ends; the socket stays open
        time.sleep(0.2)

    fault_step(stop_the_mock_loop)
    started = time.monotonic()
    result = run(TIMELINE, FIXED, reports_dir=tmp_path / "reports")
    _check(result, "mock server stopped answering", "step 2", started=started)


def test_the_disk_refusing_a_write(run, tmp_path, monkeypatch):
    real_write = artifacts.write_atomic

    def full_disk(path, data):
        if Path(path).suffix == ".png":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_write(path, data)

    monkeypatch.setattr(artifacts, "write_atomic", full_disk)
    started = time.monotonic()
    result = run("offline-refresh-due", FIXED, reports_dir=tmp_path / "reports")
    _check(result, "could not write the result folder", "No space left on device", started=started)


def test_the_disk_refusing_the_result_leaves_the_folder_incomplete(run, tmp_path, monkeypatch):
    real_write = artifacts.write_atomic

    def full_disk(path, data):
        if Path(path).name == "result.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_write(path, data)

    monkeypatch.setattr(artifacts, "write_atomic", full_disk)
    result = run("offline-refresh-due", FIXED, reports_dir=tmp_path / "reports")
    assert result.outcome == "error" and "could not write the result folder" in result.sentence
    [folder] = list((tmp_path / "reports").iterdir())
    assert (folder / artifacts.MARKER).exists() and not (folder / "result.json").exists()


@pytest.mark.parametrize("mode", ["real", "emulated", "simulated"])
def test_a_step_that_hangs_past_its_timeout(run, fault_step, tmp_path, monkeypatch, mode):
    monkeypatch.setattr(run_module, "HANG_GRACE_S", 2.0)
    fault_step(lambda ctx: ctx.driver.page.evaluate("() => new Promise(() => {})"))  # never settles
    started = time.monotonic()
    text = TIMELINE.replace("  - online_check", "  - online_check: {}\n    timeout: 1s")
    result = run(text, FIXED, reports_dir=tmp_path / "reports", mode=mode)
    _check(result, "step 2 `online_check`", "did not return within its timeout", started=started)
    _no_chromium_of_ours_left()


def test_a_hang_in_a_shared_browser_ends_that_run_only(fault_step, bundle_cache, tmp_path, monkeypatch):
    """Emulated runs of one worker share a launched browser: the watchdog ends it for the hung run, and the next
    run on that worker gets a new one and its claimed verdict."""
    from harness.engine.options import RunOptions
    from harness.engine.plan import RunPlan
    from harness.engine.scheduler import Engine
    from harness.scenario.model import parse_scenario

    monkeypatch.setattr(run_module, "HANG_GRACE_S", 2.0)
    fault_step(lambda ctx: ctx.driver.page.evaluate("() => new Promise(() => {})"))
    hung = parse_scenario(TIMELINE.replace("  - online_check", "  - online_check: {}\n    timeout: 1s"))
    fine = parse_scenario(TIMELINE.replace("  - online_check\n", "").replace("harness-fault", "after-the-hang"))
    options = RunOptions(reports_dir=tmp_path, jobs=1, trace="off", browser_mode="emulated")
    with Engine(options, cache=bundle_cache) as engine:
        first, second = engine.play([RunPlan(hung, FIXED), RunPlan(fine, FIXED)])
    assert first.outcome == "error" and "did not return within its timeout" in first.sentence, first.sentence
    assert second.outcome == second.expected == "survived", second.sentence
