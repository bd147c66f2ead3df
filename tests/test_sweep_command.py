"""``harness sweep`` from the command line: bad input is one line; a real sweep in shards, merged without playing a
run again, resumed after a run was cut (its folder INCOMPLETE), with an index page that links to per-run pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_cli_errors import assert_no_output, assert_one_line_error, harness


@pytest.mark.parametrize("args, says", [
    (["sweep", "offline-refresh-due", "--versions", ">=9.0.0"], "no stable release of @clerk/clerk-js matches"),
    (["sweep", "offline-refresh-due", "--versions", "6.x", "--sample", "0"], "--sample and --confirm"),
    (["sweep", "offline-refresh-due", "supabase-offline-tab-visible", "--versions", "*"],
     "a release range is one SDK's"),
    (["sweep", "offline-refresh-due", "--versions", "6.x", "--repeat", "3"], "use --confirm N, not --repeat"),
    (["sweep-report", "/nonexistent"], "/nonexistent is not a folder"),
    (["claims", "offline-refresh-due", "--from", "/nonexistent"], "no runs"),
])
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    proc = harness(*args, cwd=tmp_path)
    if args[0] == "claims":  # nothing to claim from: said, and the file is left as it is
        assert proc.returncode == 0 and says in proc.stderr and "Traceback" not in proc.stderr
        return
    assert_one_line_error(proc, says)
    assert_no_output(tmp_path)


def _sessions(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "sweep-sessions.jsonl").read_text().splitlines()]


def test_real_sweep_in_shards_merged_and_resumed(tmp_path: Path) -> None:
    common = ["offline-refresh-due", "--versions", "6.0.0, 6.1.0", "--confirm", "1", "--no-trace", "--jobs", "2"]
    for i in (1, 2):
        proc = harness("sweep", *common, "--shard", f"{i}/2", "--reports", str(tmp_path / f"shard{i}"), cwd=tmp_path,
                       timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr  # a shard may hold none: nothing to do is no error
    played = sum(_sessions(tmp_path / f"shard{i}")[0]["runs"] for i in (1, 2))
    assert played == 2  # each run in exactly one shard

    merged = tmp_path / "merged"
    proc = harness("sweep", *common, "--from", str(tmp_path / "shard1"), "--from", str(tmp_path / "shard2"),
                   "--reports", str(merged), cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _sessions(merged)[-1]["runs"] == 0  # nothing the shards finished is played again
    assert "offline-refresh-due: reproduced 6.0.0 (1) | survived 6.1.0 (1)" in proc.stdout
    assert "flip: reproduced 6.0.0 (1 run) -> survived 6.1.0 (1 run), not confirmed" in proc.stdout
    index = (merged / "index.html").read_text()
    links = [part.split('"')[0] for part in index.split('href="')[1:]]
    assert len(links) == 2 and all((merged / link).is_file() for link in links)
    assert "data:image" not in index  # no run embedded

    # A run cut short: its folder is INCOMPLETE, and the same command plays it again, and only it.
    shard = next(f for f in (tmp_path / "shard1", tmp_path / "shard2") if _sessions(f)[0]["runs"])
    cut = next(p for p in shard.iterdir() if (p / "result.json").is_file())
    (cut / "result.json").unlink()
    (cut / "INCOMPLETE").write_text("cut\n")
    proc = harness("sweep", *common, "--reports", str(shard), "--shard", "1/2" if shard.name == "shard1" else "2/2",
                   cwd=tmp_path, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert _sessions(shard)[-1]["runs"] == 1
    summary = json.loads((shard / "sweep.json").read_text())
    assert summary["harness"] and summary["date"] and summary["selected"] == ["6.0.0", "6.1.0"]
