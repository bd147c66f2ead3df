"""A real install: the wheel built from this tree, installed (not editable) into a fresh virtualenv, runs from an
empty folder -- the app page, the panel and the scenario library come from the installed package, never from the
source tree (the copy it was built from is deleted before anything runs).

The fresh virtualenv gets the harness from the wheel alone; its dependencies (Playwright, aiohttp, ...) are borrowed
from the test's own environment through a ``.pth`` line, so the test needs no network and stays well under a
minute. The runs are real: Chromium, the cached SDK bundle, the mock over loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import BUGGY, FIXED, ROOT
from setuptools import find_packages

DATA_PACKAGES = {"harness.fixtures": "fixtures", "harness.library": "scenarios"}

# A user's own scenario, in a folder of their own.
MINE = """id: sign-in-keeps-me
title: Signing in keeps the session
steps:
  - signed_in
verdicts:
  ">=6.0.0": survived
"""

# Where the installed harness finds its data, and the panel page served from it.
WHERE_AND_PANEL = """
import urllib.request
import harness, harness.resources as r
print(harness.__file__, r.pages_dir(), r.library_dir(), sep="\\n")
from harness.serve import PANEL_PATH, _PanelServer
panel = _PanelServer(None, 0).start()
try:
    with urllib.request.urlopen(panel.url + PANEL_PATH, timeout=10) as resp:
        page = resp.read().decode()
    assert resp.status == 200 and 'data-cmd="offline"' in page and panel.token in page, page[:200]
finally:
    panel.stop()
print("panel ok")
"""


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_ships_and_the_data_folders_are_mapped():
    setuptools = _pyproject()["tool"]["setuptools"]
    code = set(find_packages(str(ROOT), include=["harness", "harness.*"]))
    assert code | set(DATA_PACKAGES) == set(setuptools["packages"]), "list new packages in pyproject.toml"
    assert {k: v for k, v in setuptools["package-dir"].items() if k in DATA_PACKAGES} == DATA_PACKAGES


def _run(cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_a_wheel_in_a_fresh_virtualenv_runs_the_library_and_user_scenarios_from_another_folder(tmp_path):
    # Build the wheel from a copy of the tree, then delete the copy: nothing may be found relative to it.
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("harness", "fixtures", "scenarios"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                  str(tmp_path / "dist"), str(src)], cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("*.whl")
    shutil.rmtree(src)

    venv = tmp_path / "fresh"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                      "--no-compile", "--no-index", str(wheel)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp_path).stdout.strip())
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "work"
    (work / "mine").mkdir(parents=True)
    (work / "mine" / "sign-in-keeps-me.yaml").write_text(MINE)
    where = _run([str(python), "-c", WHERE_AND_PANEL], cwd=work)
    assert where.returncode == 0 and where.stdout.endswith("panel ok\n"), where.stderr
    for path in where.stdout.split()[:3]:
        assert Path(path).is_relative_to(site), f"{path} is not from the installed package"

    harness = str(venv / "bin" / "harness")
    repro = _run([harness, "repro", FIXED, "--reports", "out", "--no-trace"], cwd=work)
    assert repro.returncode == 0, repro.stdout + repro.stderr
    assert "survived" in repro.stdout and "(as expected)" in repro.stdout, repro.stdout
    run = _run([harness, "run", "offline-refresh-due", "mine", "--clerk-version", BUGGY, "--reports", "out",
                "--no-trace"], cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("offline-refresh-due") and "reproduced" in line and "(as expected)" in line
               for line in lines), run.stdout
    assert any(line.startswith("sign-in-keeps-me") and "survived" in line for line in lines), run.stdout
    results = [json.loads(p.read_text()) for p in (work / "out").glob("*/result.json")]
    reproduce = {r["scenario"]: r["reproduce"] for r in results if r["version"] == BUGGY}
    # A library scenario replays by id, a user's by the path they gave.
    assert reproduce["offline-refresh-due"].startswith("harness run offline-refresh-due ")
    assert reproduce["sign-in-keeps-me"].startswith("harness run mine/sign-in-keeps-me.yaml ")
    assert (work / "out" / "report.html").is_file()
