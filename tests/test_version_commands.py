"""``harness matrix``, ``harness bisect`` and ``--sdk-version from:PATH`` from the command line: bad input is one
line (no browser starts), and real bisects and matrices in the browser, for Clerk and for Supabase (the package
comes from the scenario's adapter)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from test_cli_errors import assert_no_output, assert_one_line_error, harness

DATA = Path(__file__).parent / "data" / "lockfiles"


@pytest.mark.parametrize("args, says", [
    (["matrix", "offline-refresh-due", "--versions", ">=9.0.0"], "no stable release of @clerk/clerk-js matches"),
    (["matrix", "offline-refresh-due", "--versions", ">=5 <<6"], "is not an npm version range"),
    (["matrix", "offline-refresh-due", "--versions", "every:0"], "every:0 is not a sample step"),
    (["matrix", "no-such-scenario", "--versions", "6.x"], "no-such-scenario"),
    (["bisect", "offline-refresh-due", "--good", "6.1.0", "--bad", "6.0.99"], "--bad 6.0.99"),
    (["bisect", "offline-refresh-due", "--good", "6.1.0", "--bad", "6.1.0"], "both 6.1.0"),
    (["bisect", "offline-refresh-due", "--good", "from:/nonexistent", "--bad", "6.0.0"], "no such file"),
    (["run", "offline-refresh-due", "--clerk-version", "from:/nonexistent/yarn.lock"], "no such file"),
    (["run", "offline-refresh-due", "--clerk-version", f"from:{DATA / 'nested-only'}"], "several versions"),
    # Supabase scenarios list, select and resolve @supabase/supabase-js, never Clerk's package.
    (["matrix", "supabase-offline-tab-visible", "--versions", ">=99.0.0"],
     "no stable release of @supabase/supabase-js matches"),
    (["bisect", "supabase-offline-tab-visible", "--good", "2.27.0", "--bad", "2.26.99"],
     "no published version 2.26.99 of @supabase/supabase-js"),
    (["run", "supabase-offline-tab-visible", "--sdk-version", f"from:{DATA / 'npm-v3'}"],
     "@supabase/supabase-js is not in it"),
    (["matrix", "offline-refresh-due", "supabase-offline-tab-visible", "--versions", "*"],
     "for clerk and supabase (setup.sdk); a release range is one SDK's"),
    (["bundle"], "give versions to fetch"),
    (["bundle", "--prune"], "--prune needs --older-than DAYS and/or --keep"),
    (["bundle", "--keep", "6.0.0"], "go with --prune"),
])
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    proc = harness(*args, cwd=tmp_path)
    assert_one_line_error(proc, says)
    assert_no_output(tmp_path)


def test_pytest_takes_from_path(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "pytest", str(Path(__file__).parents[1] / "scenarios"),
                           "--collect-only", "-q", "-p", "no:cacheprovider",
                           "--clerk-version", f"from:{DATA / 'pnpm-v9' / 'pnpm-lock.yaml'}"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "offline-refresh-due[6.29.3]" in proc.stdout, proc.stdout + proc.stderr
    bad = subprocess.run([sys.executable, "-m", "pytest", str(Path(__file__).parents[1] / "scenarios"),
                          "--collect-only", "-q", "-p", "no:cacheprovider", "--clerk-version", "from:/nonexistent"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "no such file" in bad.stderr and "Traceback" not in bad.stderr


def test_from_path_resolves_each_sdks_own_package(tmp_path: Path) -> None:
    """One lockfile holding both SDKs: a bare from:PATH gives each scenario its own SDK's pinned version, and
    SDK=from:PATH only that SDK's scenarios."""
    import subprocess
    import sys

    library = Path(__file__).parents[1] / "scenarios"
    lock = DATA / "two-sdks" / "package-lock.json"

    def collect(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "pytest", str(library / "offline-refresh-due.yaml"),
                               str(library / "supabase" / "supabase-offline-tab-visible.yaml"), "--collect-only",
                               "-q", "-p", "no:cacheprovider", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    both = collect("--sdk-version", f"from:{lock}")
    assert "offline-refresh-due[6.0.0]" in both and "supabase-offline-tab-visible[2.26.0]" in both
    assert "[6.1.0]" not in both and "[2.27.0]" not in both
    one = collect("--sdk-version", f"supabase=from:{lock}")
    assert "supabase-offline-tab-visible[2.26.0]" in one and "supabase-offline-tab-visible[2.27.0]" not in one
    assert "offline-refresh-due[6.0.0]" in one and "offline-refresh-due[6.1.0]" in one  # Clerk's keep their own


def test_an_unknown_sdk_in_sdk_version_is_a_usage_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "pytest", str(Path(__file__).parents[1] / "scenarios"),
                           "--collect-only", "-q", "-p", "no:cacheprovider", "--sdk-version", "auth0=1.0.0"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4 and "no SDK 'auth0'" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.scenario
def test_real_bisect_finds_the_founding_fix(tmp_path: Path) -> None:
    """5.128.0 (the last 5.x) .. 6.1.0, given newest-first: flips at 6.0.0 -> 6.1.0, in 3 runs."""
    proc = harness("bisect", "offline-refresh-due", "--good", "6.1.0", "--bad", "5.128.0", "--no-trace",
                   "--reports", str(tmp_path / "reports"), cwd=tmp_path)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert re.search(r"^\[\d\] +6\.0\.0 +reproduced +remaining: 6\.0\.0 \.\. 6\.1\.0 \(0 untested", out, re.M), out
    assert "the verdict flips between 6.0.0 and 6.1.0" in out
    assert re.search(r"last reproduced: 6\.0\.0 \(published \d{4}-\d\d-\d\d\)", out)
    assert re.search(r"first survived: 6\.1\.0 \(published \d{4}-\d\d-\d\d\)", out)
    assert "replay: harness run offline-refresh-due --sdk-version 6.0.0" in out
    assert "3 runs; none skipped" in out
    assert (tmp_path / "reports" / "report.html").is_file()


@pytest.mark.scenario
def test_real_matrix_lines_summary_and_report(tmp_path: Path) -> None:
    proc = harness("matrix", "offline-refresh-due", "--versions", "6.1.0, 6.0.0", "--no-trace",
                   "--reports", str(tmp_path / "reports"), cwd=tmp_path)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert re.search(r"^6\.0\.0 +reproduced .*\(as expected\)", out, re.M), out
    assert re.search(r"^6\.1\.0 +survived .*\(as expected\)", out, re.M), out
    assert "offline-refresh-due: reproduced 6.0.0 (1) | survived 6.1.0 (1)" in out
    assert "2 runs on 2 releases: 2 as claimed, 0 differ from the claim, 0 errors, 1 flip" in out
    page = (tmp_path / "reports" / "report.html").read_text()
    assert "Verdict along the version line" in page
    results = sorted((tmp_path / "reports").glob("*/result.json"))
    assert {json.loads(p.read_text())["version"] for p in results} == {"6.0.0", "6.1.0"}


@pytest.mark.scenario
def test_real_bisect_and_matrix_on_supabase(tmp_path: Path) -> None:
    """The Supabase founding scenario over @supabase/supabase-js: bisect 2.27.0 .. 2.25.0 (three adjacent
    releases), then a matrix of two; both list Supabase's package and name its flip. Each run may wait up to 45 s
    for the SDK's refresh attempt, so the commands get more than the helper's default two minutes."""
    proc = harness("bisect", "supabase-offline-tab-visible", "--good", "2.27.0", "--bad", "2.25.0", "--no-trace",
                   "--jobs", "1", "--reports", str(tmp_path / "bisect"), cwd=tmp_path, timeout=600)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "over 3 releases of @supabase/supabase-js, 2.25.0 .. 2.27.0" in out, out
    assert "the verdict flips between 2.26.0 and 2.27.0" in out, out
    assert re.search(r"last reproduced: 2\.26\.0 \(published \d{4}-\d\d-\d\d\)", out), out
    assert "replay: harness run supabase-offline-tab-visible --sdk-version 2.27.0" in out
    assert "3 runs; none skipped" in out
    proc = harness("matrix", "supabase-offline-tab-visible", "--versions", "2.26.0, 2.27.0", "--no-trace",
                   "--reports", str(tmp_path / "matrix"), cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "x 2 releases of @supabase/supabase-js (2.26.0 .. 2.27.0)" in proc.stderr
    assert "supabase-offline-tab-visible: reproduced 2.26.0 (1) | survived 2.27.0 (1)" in proc.stdout
    results = sorted((tmp_path / "matrix").glob("*/result.json"))
    assert {json.loads(p.read_text())["sdk"] for p in results} == {"@supabase/supabase-js"}


@pytest.mark.scenario
def test_sigterm_mid_matrix_reports_the_finished_runs_and_names_the_rest(tmp_path: Path) -> None:
    """`harness matrix` stopped by SIGTERM (a CI runner's timeout) as `run` is: exit 143, the finished run in the
    report, the unplayed one named there and skipped in JUnit, no Chromium left."""
    import signal
    import subprocess
    import sys
    import time
    import xml.etree.ElementTree as ET

    from harness.browser.real_chromium import marked_processes

    junit = tmp_path / "junit.xml"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "matrix", "offline-refresh-due", "sleep-wake",
                             "--versions", "6.1.0", "--jobs", "1", "--no-trace", "--reports", str(tmp_path / "r"),
                             "--junit", str(junit)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the first run's line: the second is under way
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "offline-refresh-due" in first
    page = (tmp_path / "r" / "report.html").read_text()
    assert "Interrupted: 1 run finished, 1 did not (the command was stopped by SIGTERM)" in page
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("skipped") == "1"
    skipped = [c.get("name") for c in suite.findall("testcase") if c.find("skipped") is not None]
    assert skipped == ["sleep-wake[6.1.0]"]
    assert marked_processes(launched_by=proc.pid) == []
