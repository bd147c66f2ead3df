"""``harness matrix``, ``harness bisect`` and ``--clerk-version from:PATH`` from the command line: bad input is one
line (no browser starts), and one real bisect and one real matrix in the browser."""

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
    assert "replay: harness run offline-refresh-due --clerk-version 6.0.0" in out
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
