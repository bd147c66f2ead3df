"""Bad input gets one line that says what to do, a non-zero exit, no traceback, and no half-written output."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def harness(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]


def assert_no_output(cwd: Path) -> None:
    reports = cwd / "reports"
    assert not reports.exists() or not any(reports.iterdir())


def test_unknown_version(tmp_path):
    proc = harness("repro", "6.0.99", cwd=tmp_path)
    assert_one_line_error(proc, "6.0.99", "npm view @clerk/clerk-js versions")
    assert_no_output(tmp_path)


def test_not_an_exact_version(tmp_path):
    proc = harness("repro", "6.x", cwd=tmp_path)  # a range: which release it means would change between runs
    assert_one_line_error(proc, "6.x", "not a range")
    assert_no_output(tmp_path)


def test_no_npm(tmp_path):
    env = {"HARNESS_NPM": str(tmp_path / "no-such-npm"), "HARNESS_CACHE_DIR": str(tmp_path / "cache")}
    proc = harness("repro", "6.0.0", cwd=tmp_path, env=env)
    assert_one_line_error(proc, "npm")
    assert_no_output(tmp_path)


def test_no_browser(tmp_path):
    proc = harness("repro", "--chromium", str(tmp_path / "no-chromium"), cwd=tmp_path)
    assert_one_line_error(proc, "no-chromium")
    assert_no_output(tmp_path)


def test_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = harness("repro", "6.1.0", "--port", str(port), cwd=tmp_path)
    assert_one_line_error(proc, f"port {port}", "in use")
    assert_no_output(tmp_path)


def test_unknown_scenario(tmp_path):
    proc = harness("run", "no-such-scenario", cwd=tmp_path)
    assert_one_line_error(proc, "no-such-scenario", "offline-refresh-due")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY only matters on Linux")
def test_headed_without_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "repro", "--headed"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert_one_line_error(proc, "xvfb-run")


def test_scenario_file_that_is_not_text(tmp_path):
    bad = tmp_path / "binary.yaml"
    bad.write_bytes(b"id: x\n\xff\xfe\x00 not text")
    proc = harness("run", str(bad), cwd=tmp_path)
    assert_one_line_error(proc, "binary.yaml", "UTF-8")
    assert_no_output(tmp_path)


def test_reports_folder_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = harness("repro", "6.1.0", "--reports", str(blocker / "reports"), cwd=tmp_path)
    assert_one_line_error(proc, "--reports")


@pytest.mark.parametrize("option", ["--port", "--panel-port"])
def test_serve_on_a_port_in_use(tmp_path, option):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = harness("serve", option, str(port), cwd=tmp_path)
    assert_one_line_error(proc, f"port {port}", "in use", option)
