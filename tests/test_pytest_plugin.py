"""The pytest front door, end to end in a subprocess: scenario files become one item per version; a claim the run
does not bear out fails with the verdict sentence, the checks and the timeline; items carry their result and
user_properties; a run that broke is an error of its item, in the terminal and in --junitxml. Two real browser
runs on 6.1.0: the seed timeline with a deliberately wrong claim, and a scenario whose step times out.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import junitparser

ROOT = Path(__file__).resolve().parents[1]

# A run that breaks: the page never sees a failed request while online, so the wait times out (outcome error).
BROKEN = """id: broken-wait
title: A wait that cannot end
steps:
  - signed_in
  - wait_for: request_failed
    timeout: 1
verdicts:
  ">=6.0.0": survived
"""

CONFTEST = '''
import json, pathlib
def pytest_runtest_makereport(item, call):
    if call.when == "call":
        result = getattr(item, "harness_result", None)
        pathlib.Path("seen.json").write_text(json.dumps({
            "name": item.name, "props": dict(item.user_properties),
            "result_outcome": result.outcome if result else None}))
'''


def test_collection_names_items_by_version(tmp_path):
    (tmp_path / "scenarios").mkdir()
    seed = (ROOT / "scenarios" / "offline-refresh-due.yaml").read_text()
    (tmp_path / "scenarios" / "offline-refresh-due.yaml").write_text(seed)
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "scenarios", "--clerk-version", "6.0.0", "--clerk-version", "6.40.0",
                           "--rootdir", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert "scenarios/offline-refresh-due.yaml::offline-refresh-due[6.0.0]" in proc.stdout
    assert "scenarios/offline-refresh-due.yaml::offline-refresh-due[6.40.0]" in proc.stdout


def test_a_wrong_claim_fails_and_prints_the_timeline(tmp_path):
    (tmp_path / "scenarios").mkdir()
    seed = (ROOT / "scenarios" / "offline-refresh-due.yaml").read_text()
    wrong = re.sub(r'">=6\.1\.0":( *)survived', r'">=6.1.0":\1reproduced', seed)  # 6.1.0 keeps the cookie
    assert wrong != seed
    (tmp_path / "scenarios" / "offline-refresh-due.yaml").write_text(wrong)
    (tmp_path / "scenarios" / "broken-wait.yaml").write_text(BROKEN)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    xml = tmp_path / "junit.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "scenarios",
                           "--clerk-version", "6.1.0", "--output", str(tmp_path / "out"), "--rootdir", str(tmp_path),
                           f"--junitxml={xml}"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    out = proc.stdout
    assert proc.returncode == 1, out
    # The broken run is an error of its item, the wrong claim a failure: the terminal and a JUnit consumer agree.
    assert "1 failed, 1 error" in out.splitlines()[-1], out
    assert "ERROR at setup of broken-wait on 6.1.0" in out
    assert "broken-wait on @clerk/clerk-js 6.1.0: the run broke (expected survived)" in out
    cases = {case.name: case for suite in junitparser.JUnitXml.fromfile(str(xml)) for case in suite}
    [broke] = cases["broken-wait[6.1.0]"].result
    assert isinstance(broke, junitparser.Error) and "the run broke" in broke.message, broke.message
    assert "step 2" in broke.message and "no such event within 1 s" in broke.message
    [mismatch] = cases["offline-refresh-due[6.1.0]"].result
    assert isinstance(mismatch, junitparser.Failure) and "expected reproduced, got survived" in mismatch.message
    # junitparser reads properties of suites only; a case's are its <property> children.
    props = {p.get("name"): p.get("value") for p in cases["broken-wait[6.1.0]"]._elem.iter("property")}
    assert props["verdict"] == "error" and props["expected"] == "survived"
    assert "offline-refresh-due on @clerk/clerk-js 6.1.0: expected reproduced, got survived" in out
    assert "ok   cookie-never-removed" in out and "checks:" in out
    assert "timeline (t in seconds since start):" in out and " step.start " in out and " sdk.token.end " in out
    assert "reproduce: harness run" in out and "Traceback" not in out
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["name"] == "offline-refresh-due[6.1.0]" and seen["result_outcome"] == "survived"
    props = seen["props"]
    assert props["scenario"] == "offline-refresh-due" and props["sdk_version"] == "6.1.0"
    assert props["outcome"] == "survived" and props["expected"] == "reproduced"
    assert props["browser_mode"] in ("real", "simulated", "emulated")
    # The same names and values as the CLI's --junit: browser is the kind, browser_path the binary.
    assert props["browser"] and "/" not in props["browser"] and Path(props["browser_path"]).is_absolute()
    assert list((tmp_path / "out").glob("*offline-refresh-due-6.1.0/result.json")), "the result folder is in --output"


def test_an_inexact_version_is_a_usage_error_of_one_line(tmp_path):
    (tmp_path / "scenarios").mkdir()
    seed = (ROOT / "scenarios" / "offline-refresh-due.yaml").read_text()
    (tmp_path / "scenarios" / "offline-refresh-due.yaml").write_text(seed)
    for version, said in (("^6.0.0", "is not an SDK version"), ("6.0", "is not an SDK version"),
                          ("./no-such-build.tgz", "no such file or folder")):
        proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                               "scenarios", "--clerk-version", "6.0.0", "--clerk-version", version,
                               "--rootdir", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert proc.returncode == 4, proc.stdout + proc.stderr  # pytest's usage error
        assert "--clerk-version: " in proc.stderr and version in proc.stderr and said in proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
