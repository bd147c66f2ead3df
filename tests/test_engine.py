"""The run engine: concurrent runs stay isolated and give the verdicts one-by-one runs give; shards split a suite
exactly; a remote browser reached only through --cdp-endpoint plays runs; interrupts stop cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from harness.engine import Engine, RunOptions, expand, in_shard
from harness.engine.options import parse_jobs, parse_shard
from harness.engine.plan import shard_of
from harness.errors import HarnessError
from harness.report.repeats import repeat_rows
from harness.scenario.model import load_scenario

from conftest import BUGGY, FIXED, SCENARIOS

pytest_plugins = ["pytester"]


# -- pure parts ------------------------------------------------------------------------------------------------

def test_every_run_lands_in_exactly_one_shard_and_the_split_is_stable():
    scenarios = [load_scenario(p) for p in sorted(SCENARIOS.glob("*.yaml"))]
    plans = expand(scenarios, ["5.128.0", BUGGY, FIXED, "6.40.0"], repeat=3)
    for count in (1, 2, 3, 7):
        shards = [in_shard(plans, i, count) for i in range(1, count + 1)]
        keys = [p.key for shard in shards for p in shard]
        assert sorted(keys) == sorted(p.key for p in plans)  # all of them, none twice
    # A hash of the key alone (SHA-256, not Python's salted hash): the same on every machine and every run.
    import hashlib

    expected = int.from_bytes(hashlib.sha256(b"offline-refresh-due@6.0.0#1").digest()[:8], "big") % 2 + 1
    assert shard_of("offline-refresh-due@6.0.0#1", 2) == expected  # the documented rule, not Python's hash()
    out = subprocess.run([sys.executable, "-c", "from harness.engine.plan import shard_of; "
                          "print([shard_of(f's@6.0.{i}#1', 4) for i in range(6)])"],
                         capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "123"})
    assert out.stdout.strip() == str([shard_of(f"s@6.0.{i}#1", 4) for i in range(6)])


def test_jobs_and_shard_options_refuse_nonsense_in_one_line():
    assert parse_jobs("auto") is None and parse_jobs("3") == 3
    for bad in ("0", "-1", "many"):
        with pytest.raises(HarnessError, match="--jobs"):
            parse_jobs(bad)
    assert parse_shard("2/3") == (2, 3)
    for bad in ("3/2", "0/2", "1/0", "half"):
        with pytest.raises(HarnessError, match="--shard"):
            parse_shard(bad)
    with pytest.raises(HarnessError, match="--port 8123 fixes one port"):
        RunOptions(port=8123, jobs=2).jobs_for(4)
    assert RunOptions(port=8123, jobs=1).jobs_for(4) == 1
    assert RunOptions(jobs=8).jobs_for(3) == 3  # never more workers than runs
    assert RunOptions(cdp_endpoints=("ws://a", "ws://b"), jobs=8).jobs_for(5) == 2  # one run per remote browser


def test_repeat_rows_count_verdicts_and_the_flake_rate():
    results = [{"scenario": "s", "version": "6.0.0", "outcome": o, "expected": "reproduced"}
               for o in ["reproduced"] * 9 + ["survived"]]
    results += [{"scenario": "s", "version": "6.1.0", "outcome": "survived", "expected": "survived"}] * 3
    rows = repeat_rows(results)
    assert [(r.version, r.runs, r.counts, round(r.flake_rate, 2)) for r in rows] == [
        ("6.0.0", 10, {"reproduced": 9, "survived": 1}, 0.1), ("6.1.0", 3, {"survived": 3}, 0.0)]


# -- concurrent runs ---------------------------------------------------------------------------------------------

def test_concurrent_runs_are_isolated_and_give_the_claimed_verdicts(bundle_cache, tmp_path):
    """Four runs at once -- the seed bug and a real hidden tab, on both sides of the fix -- each with its own mock
    port, its own Chromium process and its own result folder, and each with the verdict its file claims (the
    one-by-one runs of tests/test_library.py prove the same claims)."""
    scenarios = [load_scenario(SCENARIOS / f"{name}.yaml") for name in ("offline-refresh-due",
                                                                        "hidden-tab-offline-return")]
    plans = expand(scenarios, [BUGGY, FIXED])
    with Engine(RunOptions(reports_dir=tmp_path, jobs=4, trace="off"), cache=bundle_cache) as engine:
        results = engine.play(plans)
    assert [(r.scenario, r.version) for r in results] == [(p.scenario.id, p.version) for p in plans]  # plan order
    for r in results:
        assert r.outcome == r.expected, f"{r.scenario} on {r.version}: {r.sentence}"
    ports = {next(e["data"]["app_url"] for e in r.events if e["kind"] == "run.ready") for r in results}
    pids = {next(e["data"]["pid"] for e in r.events if e["kind"] == "browser.mode") for r in results}
    folders = {r.artifacts["folder"] for r in results}
    assert len(ports) == len(pids) == len(folders) == 4
    # The runs overlapped (that is what --jobs is for): some run started before another ended.
    spans = sorted((r.started_at, r.started_at + r.duration) for r in results)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))


def test_the_cli_plays_jobs_at_once_and_prints_a_line_per_run(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "offline-refresh-due", "--clerk-version",
                           BUGGY, "--clerk-version", FIXED, "--jobs", "2", "--repeat", "2", "--reports",
                           str(tmp_path), "--no-trace"], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if "(as expected)" in ln]
    assert len(lines) == 4, proc.stdout
    assert "4 runs, 2 at a time" in proc.stderr
    assert "repeats (verdict counts" in proc.stdout and "flake rate 0%" in proc.stdout
    assert len(list(tmp_path.glob("*/result.json"))) == 4
    assert "Repeats: verdict counts" in (tmp_path / "report.html").read_text()


def test_a_run_cut_by_sigterm_keeps_finished_results_and_exits_143(tmp_path):
    """SIGTERM (a CI runner, `timeout`) stops `harness run` as Ctrl-C does: finished runs keep their folders, the
    one cut short stays INCOMPLETE, the report lists what finished, no Chromium is left."""
    from harness.browser.real_chromium import marked_processes

    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "offline-refresh-due", "sleep-wake",
                             "--clerk-version", FIXED, "--jobs", "1", "--reports", str(tmp_path), "--no-trace"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()  # the first run's result line: the second run is under way
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "offline-refresh-due" in first and "(as expected)" in first
    folders = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert len(folders) == 2
    done = [f for f in folders if (f / "result.json").exists()]
    cut = [f for f in folders if (f / "INCOMPLETE").exists()]
    assert len(done) == 1 and len(cut) == 1 and "sleep-wake" in cut[0].name
    assert "offline-refresh-due" in (tmp_path / "report.html").read_text()
    assert marked_processes(launched_by=proc.pid) == []


def test_sigterm_before_any_run_finished_still_writes_the_reports(tmp_path):
    """Stopped before a single run finished, `harness run` still leaves a report and a JUnit file that say so: a CI
    consumer sees every planned run as skipped, not an absent file."""
    import xml.etree.ElementTree as ET

    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "sleep-wake", "--clerk-version", FIXED,
                             "--jobs", "1", "--reports", str(tmp_path), "--no-trace", "--junit",
                             str(tmp_path / "junit.xml")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6)  # set-up done, the run under way (sleep-wake takes well over 10 s)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Interrupted: 0 runs finished, 1 did not (the command was stopped by SIGTERM)" in \
        (tmp_path / "report.html").read_text()
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "1" and suite.get("skipped") == "1"
    [case] = suite.findall("testcase")
    assert case.get("name") == f"sleep-wake[{FIXED}]" and case.find("skipped") is not None


# -- a browser elsewhere -------------------------------------------------------------------------------------------

def test_runs_on_a_chromium_reached_only_through_cdp_endpoint(chromium, tmp_path):
    """A second Chromium, started here by the test as a remote one would be (--remote-debugging-port), driven only
    through --cdp-endpoint: both sides of the fix give their verdicts, and the browser is left running."""
    from harness.browser.real_chromium import RealChromium

    remote = RealChromium(chromium.path).spawn()
    try:
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "offline-refresh-due", "--clerk-version",
                               BUGGY, "--clerk-version", FIXED, "--cdp-endpoint", remote.endpoint, "--reports",
                               str(tmp_path), "--no-trace"], capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert remote.running  # someone else's browser: not ours to close
        saved = [json.loads(p.read_text()) for p in tmp_path.glob("*/result.json")]
        assert sorted(r["outcome"] for r in saved) == ["reproduced", "survived"]
        assert all(r["browser"]["cdp_endpoint"] == remote.endpoint for r in saved)
        # Site data does not leak from one run to the next, even on one origin (a fixed --port): Supabase keeps its
        # session in localStorage, and its control must survive on both versions played one after the other.
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "supabase-refresh-online-control",
                               "--port", str(port), "--cdp-endpoint", remote.endpoint, "--reports",
                               str(tmp_path / "sb"), "--no-trace"], capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.count("(as expected)") == 2, proc.stdout
    finally:
        remote.kill()


def test_a_bad_or_repeated_cdp_endpoint_is_bad_input(chromium, tmp_path):
    from harness.browser.real_chromium import RealChromium

    def harness(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "harness.cli", "run", "offline-refresh-due", "--reports",
                               str(tmp_path), *args], capture_output=True, text=True, timeout=60)

    for bad in ("ws://127.0.0.1:1/nothing", "notaurl"):
        proc = harness("--cdp-endpoint", bad)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "--cdp-endpoint" in proc.stderr
    remote = RealChromium(chromium.path).spawn()
    try:
        port = remote.endpoint.split(":")[2].split("/")[0]
        proc = harness("--cdp-endpoint", remote.endpoint, "--cdp-endpoint", f"http://127.0.0.1:{port}")
        assert proc.returncode == 2 and "is the same browser as" in proc.stderr, proc.stderr
    finally:
        remote.kill()
    assert not list(tmp_path.iterdir())  # nothing written


def test_usage_errors_are_one_line(tmp_path):
    for args in (["--repeat", "0"], ["--trace", "bogus"], ["--jobs", "0"], ["--shard", "3/2"]):
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "offline-refresh-due", "--reports",
                               str(tmp_path), *args], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)
        assert "Traceback" not in proc.stderr


# -- the pytest side -------------------------------------------------------------------------------------------------

def test_pytest_shards_split_the_collected_items_exactly(pytester: pytest.Pytester):
    for path in sorted(SCENARIOS.glob("*.yaml"))[:5]:
        pytester.makefile(".yaml", **{f"scenarios/{path.stem}": path.read_text()})
    pytester.makepyfile(test_other="def test_a(): pass\ndef test_b(): pass\n")

    def collected(*args: str) -> set[str]:
        result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider", *args)
        return {ln.strip() for ln in result.outlines if "::" in ln}

    everything = collected()
    halves = [collected("--shard", f"{i}/2") for i in (1, 2)]
    assert len(everything) == 5 * 2 + 2
    assert halves[0] | halves[1] == everything and not halves[0] & halves[1]
    bad = pytester.runpytest("--shard", "3/2", "-p", "no:cacheprovider")
    assert bad.ret != 0 and "--shard 3/2" in "\n".join(bad.errlines)
