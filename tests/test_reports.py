"""Reports: the result folder, the self-contained HTML report, JUnit XML, the pytest option and the progress line.

The report tests are built from real runs of the seed scenario: one that reproduces the bug (6.0.0) and one that
survives it (6.1.0), rendered in Chromium and checked as a reader would: the matrix, the timeline, the strip, the
screenshots, and no request leaving the file.
"""

from __future__ import annotations

import dataclasses
import io
import json
import multiprocessing
import os
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import junitparser
import pytest
from conftest import BUGGY, FIXED, SCENARIOS
from playwright.sync_api import sync_playwright

from harness.cli import main as cli_main
from harness.report import html, junit, view
from harness.report.artifacts import MARKER, PARTIAL, RunFolder, write_atomic
from harness.report.progress import Progress
from harness.report.results import load_results
from harness.scenario.model import load_scenario
from harness.engine import RunOptions, RunResult
from harness.engine.single import run_scenario
from harness.scenario.steps import STEPS

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def seed_runs(browser_choice, bundle_cache, tmp_path_factory) -> dict[str, RunResult]:
    """The seed scenario on the buggy and the fixed version, with traces, saved under one reports folder (the
    ``run`` fixture's settings, once for the whole module: each run takes a browser several seconds)."""
    reports = tmp_path_factory.mktemp("reports")
    scenario = load_scenario(SCENARIOS / "offline-refresh-due.yaml")
    out = {}
    for version in (BUGGY, FIXED):
        out[version] = run_scenario(scenario, version, RunOptions(reports_dir=reports, trace="on"),
                                    browser=browser_choice, cache=bundle_cache)
    assert out[BUGGY].outcome == "reproduced", out[BUGGY].sentence
    assert out[FIXED].outcome == "survived", out[FIXED].sentence
    return out


# -- the result folder ---------------------------------------------------------------------------------------

def test_every_run_writes_a_complete_result_folder(seed_runs):
    for result in seed_runs.values():
        folder = Path(result.artifacts["folder"])
        names = {p.name for p in folder.iterdir()}
        assert MARKER not in names
        assert not [n for n in names if n.startswith(".") or n.endswith(PARTIAL)], names
        # The last step is a reload, whose screenshot is the end state: no separate final.png.
        assert {"result.json", "requests.json", "console.json", "trace.zip",
                "step-01-signed_in.png", "step-06-reload.png"} <= names and "final.png" not in names
        # The trace has one group per scenario step.
        with zipfile.ZipFile(folder / "trace.zip") as z:
            trace = z.read("trace.trace").decode()
        for step in result.steps:
            assert f"{step['index']}. {step['label']}" in trace
        # requests.json and console.json are views of the timeline in result.json.
        saved = json.loads((folder / "result.json").read_text())
        requests = json.loads((folder / "requests.json").read_text())
        served = [e for e in saved["events"] if e["kind"] == "request" and e["source"] == "mock"]
        assert len([r for r in requests if r["where"] == "server"]) == len(served)
        # Every request that reached the mock has its answer (no fault was armed in this scenario).
        assert all(r["status"] is not None and r["fault"] is None for r in requests if r["where"] == "server")
        console = json.loads((folder / "console.json").read_text())
        assert len(console) == len([e for e in saved["events"] if e["kind"] in ("console", "pageerror")])
        shots = [e["data"]["file"] for e in saved["events"] if e["kind"] == "screenshot"]
        assert shots == ["step-01-signed_in.png", "step-06-reload.png"]
    # The buggy version's token request died in the offline browser; that is in its request log.
    failed = [r for r in json.loads((Path(seed_runs[BUGGY].artifacts["folder"]) / "requests.json").read_text())
              if r["where"] == "browser"]
    assert failed and "/tokens" in failed[0]["path"] and "INTERNET_DISCONNECTED" in failed[0]["answer"]


def test_an_interrupted_run_leaves_an_incomplete_folder_and_no_partial_file(run, tmp_path, monkeypatch):
    def interrupted(ctx, args, timeout):
        raise KeyboardInterrupt  # Ctrl-C in the middle of the scenario

    monkeypatch.setitem(STEPS, "online", dataclasses.replace(STEPS["online"], run=interrupted))
    with pytest.raises(KeyboardInterrupt):
        run("offline-refresh-due", FIXED, reports_dir=tmp_path / "reports", trace="on")
    [folder] = list((tmp_path / "reports").iterdir())
    names = sorted(p.name for p in folder.iterdir())
    assert MARKER in names and "result.json" not in names, names
    assert not [n for n in names if n.startswith(".") or n.endswith(PARTIAL)], names
    # What was written before the interruption is whole.
    assert "step-01-signed_in.png" in names
    assert (folder / "step-01-signed_in.png").read_bytes().startswith(b"\x89PNG")
    if "trace.zip" in names:
        assert zipfile.ZipFile(folder / "trace.zip").testzip() is None
    # The report command says so and skips it.
    entries, incomplete = load_results([tmp_path / "reports"])
    assert entries == [] and incomplete == [folder]


def test_write_atomic_leaves_nothing_when_interrupted(tmp_path, monkeypatch):
    write_atomic(tmp_path / "a.json", "old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "a.json", "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
    assert (tmp_path / "a.json").read_text() == "old"


def test_a_folder_is_incomplete_until_finished(tmp_path):
    folder = RunFolder.create(tmp_path, "some scenario", "6.0.0")
    assert (folder.path / MARKER).exists()
    assert folder.path.name.endswith("some-scenario-6.0.0")


def test_a_folder_still_being_created_is_not_a_run(tmp_path):
    staging = tmp_path / ".20260101-000000-x-6.0.0.abc.partial"  # what RunFolder.create renames into place
    staging.mkdir()
    (staging / MARKER).write_text("")
    folder = RunFolder.create(tmp_path, "x", "6.0.0")
    assert load_results([tmp_path]) == ([], [folder.path])


def _create_folders(root: str, start, count: int, queue) -> None:
    """One creator process: wait for the others, then create ``count`` folders as fast as it can."""
    start.wait()
    names = []
    for _ in range(count):
        folder = RunFolder.create(Path(root), "same scenario", "6.0.0")
        (folder.path / "owner").write_text(str(os.getpid()))  # a second creator would overwrite it
        names.append(folder.path.name)
    queue.put((os.getpid(), names))


def test_concurrent_creators_never_share_a_folder(tmp_path, monkeypatch):
    # Every creator writes "in the same second": the folder name is the same for all until a suffix is added.
    monkeypatch.setattr("harness.report.artifacts._stamp", lambda: "20260101-000000")
    context = multiprocessing.get_context("fork")  # the patched stamp goes along into the children
    creators, each = 6, 15
    start, queue = context.Barrier(creators), context.Queue()
    procs = [context.Process(target=_create_folders, args=(str(tmp_path), start, each, queue))
             for _ in range(creators)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert [proc.exitcode for proc in procs] == [0] * creators  # a creator that crashed on a taken name fails here
    made = dict(queue.get(timeout=5) for _ in procs)
    names = [name for batch in made.values() for name in batch]
    assert len(names) == len(set(names)) == creators * each
    folders = sorted(p for p in tmp_path.iterdir())
    assert [p.name for p in folders] == sorted(names)  # nothing else left behind (no staging folder)
    for pid, batch in made.items():
        for name in batch:
            assert (tmp_path / name / MARKER).exists() and (tmp_path / name / "owner").read_text() == str(pid)


# -- the HTML report ---------------------------------------------------------------------------------------------

def open_report(chromium, path: Path):
    """Load a report file in Chromium, recording every request other than the file itself and every blocked
    load; returns (facts about the page, requests, blocked-load console messages)."""
    requests: list[str] = []
    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium.path))
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            # Anything not from the file itself is counted (below) and refused, so nothing leaves the machine.
            page.route(lambda url: not url.startswith(("file:", "data:")), lambda r: r.abort())
            page.on("console", lambda m: blocked.append(m.text) if "Refused" in m.text or "blocked" in m.text else None)
            page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            facts = page.evaluate("""() => {
              const runs = [...document.querySelectorAll('section.run')].map((s) => ({
                id: s.id, outcome: s.dataset.outcome, version: s.dataset.version,
                sentence: s.querySelector('p.sentence').textContent.trim(),
                rows: [...s.querySelectorAll('table.timeline tbody tr')].map((r) => ({
                  kind: r.dataset.kind, cls: r.className, visible: r.offsetParent !== null,
                  cells: [...r.cells].map((c) => c.textContent.trim())})),
                headers: [...s.querySelectorAll('table.timeline thead th')].map((h) => h.textContent.trim()),
                strip: {lanes: [...s.querySelectorAll('svg.strip text.lanelabel')].map((t) => t.textContent),
                        absent: s.querySelectorAll('svg.strip rect.absent').length,
                        present: s.querySelectorAll('svg.strip rect.present').length,
                        loss: [...s.querySelectorAll('svg.strip text.loss')].map((t) => t.textContent)},
                shots: [...s.querySelectorAll('.shots figure')].map((f) => ({
                  file: f.querySelector('figcaption code').textContent, text: f.innerText,
                  w: f.querySelector('img') ? f.querySelector('img').naturalWidth : null})),
                reproduce: s.querySelector('pre').textContent,
                text: s.innerText}));
              const matrix = [...document.querySelectorAll('table.matrix tbody tr')].map((r) => ({
                scenario: r.querySelector('th code').textContent,
                cells: [...r.querySelectorAll('td.cell')].map((c) => ({cls: c.className, text: c.innerText}))}));
              const versions = [...document.querySelectorAll('table.matrix thead th')].map((h) => h.textContent);
              return {runs, matrix, versions, title: document.title};
            }""")
            page.screenshot(path=str(path.with_suffix(".png")), full_page=True)
        finally:
            browser.close()
    return facts, requests, blocked


def test_html_report_shows_matrix_timeline_strip_and_makes_no_request(seed_runs, chromium, tmp_path):
    out = html.write_report([seed_runs[BUGGY], seed_runs[FIXED]], tmp_path / "report.html")
    size = out.stat().st_size
    assert size < 1_000_000, f"the report is {size} bytes"
    facts, requests, blocked = open_report(chromium, out)
    assert requests == [] and blocked == []

    # The matrix: one scenario, both versions, each verdict against its expectation.
    assert [v.strip() for v in facts["versions"]] == ["scenario", f"@clerk/clerk-js {BUGGY}",
                                                      f"@clerk/clerk-js {FIXED}"]
    [row] = facts["matrix"]
    assert row["scenario"] == "offline-refresh-due"
    buggy, fixed = row["cells"]
    assert "reproduced" in buggy["text"] and "expected: reproduced" in buggy["text"] and "ok" in buggy["cls"]
    assert "survived" in fixed["text"] and "expected: survived" in fixed["text"] and "ok" in fixed["cls"]

    bug, ok = facts["runs"]
    assert (bug["outcome"], ok["outcome"]) == ("reproduced", "survived")
    # The verdict sentence names the cookie, the time into the step, and the step.
    assert bug["sentence"].startswith("__session removed") and " s into step 4 wait_for" in bug["sentence"]
    # The timeline: the running state columns, the offline period, the removal, the request log.
    assert bug["headers"][:6] == ["t (s)", "step", "what happened", "online", "visibility", "focus"]
    assert "__session" in bug["headers"]
    col = bug["headers"].index("__session")
    removal = [r for r in bug["rows"] if r["kind"] == "cookie" and "REMOVED" in r["cells"][2]]
    assert removal and removal[0]["visible"] and "loss" in removal[0]["cls"]
    assert removal[0]["cells"][3] == "OFFLINE" and removal[0]["cells"][col] == "ABSENT"
    reload_get = [r for r in bug["rows"] if r["kind"] == "request" and r["cells"][2].startswith("GET / ")]
    assert reload_get[-1]["cells"][2] == "GET / without __session → 200"
    assert [r for r in bug["rows"] if r["kind"] == "request.failed" and "/tokens" in r["cells"][2]]
    assert not [r for r in ok["rows"] if "REMOVED" in r["cells"][2]]
    assert all(r["cells"][col] in ("present", "–") for r in ok["rows"])
    # Minor rows are there but hidden until asked for.
    assert any(r["kind"] == "response" and not r["visible"] for r in bug["rows"])
    # The strip: lanes for the network and each cookie; the loss marked on the buggy run only.
    assert {"steps", "network", "__session", "requests"} <= set(bug["strip"]["lanes"])
    assert bug["strip"]["absent"] >= 1 and bug["strip"]["loss"] and bug["strip"]["loss"][0].startswith("first loss t=")
    assert ok["strip"]["absent"] == 0 and ok["strip"]["loss"] == [] and ok["strip"]["present"] >= 1
    # Screenshots are embedded and decode; the console, reproduce command and trace hint are there.
    assert [s["file"] for s in bug["shots"]] == ["step-01-signed_in.png", "step-06-reload.png"]
    assert bug["shots"][0]["w"] > 0  # embedded and decoded
    # The others are embedded too, or said to look exactly like an earlier one.
    assert all(s["w"] or "looked exactly as in" in s["text"] for s in bug["shots"])
    assert "ERR_INTERNET_DISCONNECTED" in bug["text"]
    assert bug["reproduce"].startswith("harness run ") and f"--sdk-version {BUGGY}" in bug["reproduce"]
    assert "playwright show-trace" in bug["text"] and "--host 127.0.0.1 --port 9400" in bug["text"]
    assert "trace.zip" in bug["text"]


def test_external_request_check_can_fail(seed_runs, chromium, tmp_path):
    """The no-external-request check above is not vacuous: a report that loads something is caught."""
    page = html.render([seed_runs[FIXED]])
    doctored = tmp_path / "doctored.html"
    doctored.write_text(page.replace("</main>", '<img src="http://127.0.0.1:9/pixel.png"></main>'))
    _, requests, blocked = open_report(chromium, doctored)
    assert requests or blocked


def test_html_has_no_external_reference(seed_runs):
    page = html.render(list(seed_runs.values()))
    import re

    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert not re.findall(r"url\(\s*['\"]?(?:https?:)?//", page)
    assert "<script" not in page  # nothing to run: the report is a document


def test_report_command_rebuilds_the_report_from_saved_folders(seed_runs, tmp_path, capsys):
    reports = Path(seed_runs[BUGGY].artifacts["folder"]).parent
    broken = reports / "20990101-000000-interrupted-6.0.0"
    broken.mkdir(exist_ok=True)
    (broken / MARKER).write_text("x")
    try:
        out, xml = tmp_path / "r.html", tmp_path / "r.xml"
        assert cli_main(["report", str(reports), "-o", str(out), "--junit", str(xml)]) == 0
        err = capsys.readouterr().err
        assert "skipped" in err and "INCOMPLETE" in err and str(out) in err
        page = out.read_text()
        assert page.count('class="card run"') == 2
        assert "reproduced" in page and "survived" in page
        # Results read back from disk render like results in memory (screenshots found in their folders).
        embedded = page.count("data:image/png;base64,")
        assert embedded == html.render(list(seed_runs.values())).count("data:image/png;base64,") >= 2
        assert ET.parse(xml).getroot().get("tests") == "2"
        # A single result.json works too; garbage is refused with one line.
        assert cli_main(["report", seed_runs[FIXED].artifacts["result"], "-o", str(out)]) == 0
        (tmp_path / "bad.json").write_text("{}")
        assert cli_main(["report", str(tmp_path / "bad.json")]) == 2
        assert "not a harness result" in capsys.readouterr().err
    finally:
        (broken / MARKER).unlink()
        broken.rmdir()


def _event(seq: int, t: float, source: str, event_kind: str, step: int | None = None, **data) -> dict:
    return {"seq": seq, "t": t, "at": 1000.0 + t, "source": source, "kind": event_kind, "step": step,
            **({"data": data} if data else {})}


def _revocation_result(lost_at: float | None) -> dict:
    """A result whose cookie is written, then removed at t=3 after the server revoked the session at t=2 -- or,
    with ``lost_at``, a result whose verdict says that removal was a loss."""
    events = [
        _event(1, 0.5, "page", "cookie", 1, name="__session", op="set", iat=1000),
        _event(2, 1.0, "runner", "step.start", 2, index=2, name="revoke_session", label="revoke_session"),
        _event(3, 2.0, "mock", "session.revoked", 2),
        _event(4, 3.0, "page", "cookie", 2, name="__session", op="removed", was_present=True, online=True),
    ]
    passed = lost_at is None
    return {"scenario": "session-revoked", "title": "t", "sdk": "@clerk/clerk-js", "version": FIXED,
            "outcome": "signed-out" if passed else "reproduced", "expected": "signed-out", "sentence": "s",
            "checks": [{"name": "cookie-never-removed", "passed": passed, "detail": "d", "t": lost_at, "step": 2}],
            "steps": [{"index": 2, "name": "revoke_session", "label": "revoke_session", "line": 2}],
            "events": events, "duration": 4.0, "lost_at": lost_at}


def test_a_removal_after_revocation_is_the_expected_sign_out_not_a_loss():
    result = _revocation_result(lost_at=None)
    removal = [r for r in view.timeline_rows(result["events"], result["steps"], view.lost_at(result))
               if r.kind == "cookie" and "removed" in r.what.lower()]
    assert removal and removal[0].tone == "" and "first loss" not in removal[0].what
    assert "expected sign-out after revocation" in removal[0].what
    strip = view.strip(result)
    assert strip.first_loss is None and not [m for m in strip.markers if m["cls"] == "loss"]
    assert [s["cls"] for s in strip.lanes[-2].segments] == ["present", "gone"]
    page = html.render([result])
    assert "first loss" not in page and "REMOVED" not in page
    assert "first loss" not in view.timeline_text(result, include_minor=True)


def test_the_first_loss_is_the_verdicts_not_recomputed():
    # The verdict (here doctored) is what the report shows: its check's time picks the row and the marker.
    result = _revocation_result(lost_at=3.00001)  # the check's t is unrounded; saved event times are rounded
    rows = view.timeline_rows(result["events"], result["steps"], view.lost_at(result))
    [loss] = [r for r in rows if "first loss" in r.what]
    assert loss.t == 3.0 and "loss" in loss.tone
    assert view.strip(result).first_loss == {"t": 3.0, "name": "__session", "step": 2}
    # A result without lost_at (an older file) reads it from its failed check.
    assert view.lost_at({k: v for k, v in result.items() if k != "lost_at"}) == 3.00001


def test_session_revoked_run_report_shows_no_first_loss(run, tmp_path):
    result = run("session-revoked", FIXED, reports_dir=tmp_path / "reports")
    assert result.outcome == "signed-out" and result.lost_at is None, result.sentence
    data = result.to_dict()
    assert [e for e in data["events"] if e["kind"] == "cookie" and e.get("data", {}).get("op") == "removed"]
    page = html.render([result])
    assert "first loss" not in page and "expected sign-out after revocation" in page
    assert view.strip(data).first_loss is None


def test_answers_are_paired_with_their_requests_by_id():
    # Two token requests in flight at once, answered in the other order: the id says which answer is whose.
    path = "/v1/client/sessions/sess_1/tokens"
    events = [
        _event(1, 1.0, "mock", "request", method="POST", path=path, session_cookie=True),
        _event(2, 1.1, "mock", "request", method="POST", path=path, session_cookie=False),
        _event(3, 1.2, "mock", "response", method="POST", path=path, status=200, ms=100.0, request=2),
        _event(4, 1.5, "mock", "fault", method="POST", path=path, kind="status", status=503, fault="f1", request=1),
    ]
    first, second = view.request_log(events)
    assert (first["session_cookie"], first["fault"], first["status"]) == (True, "answered 503 by fault f1", None)
    assert (second["session_cookie"], second["status"], second["answer"]) == (False, 200, "200")
    # Without ids (result files from before the mock recorded them), first come first served.
    old = [{k: v for k, v in e.items() if k != "seq"} | {"data": {k: v for k, v in e["data"].items()
                                                                  if k != "request"}} for e in events]
    first, second = view.request_log(old)
    assert first["status"] == 200 and second["fault"] == "answered 503 by fault f1"


def test_report_refuses_a_malformed_result_with_one_line(tmp_path, capsys):
    good = _revocation_result(lost_at=None)
    bad = dict(good, events=[{k: v for k, v in e.items() if k != "source"} if e["seq"] == 3 else e
                             for e in good["events"]])
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    assert cli_main(["report", str(tmp_path / "bad.json"), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{tmp_path / 'bad.json'}: not a harness result (missing \"source\" in event 3)" in err
    for doctored, missing in ((dict(good, checks=[{"name": "x"}]), '"passed" in check 1'),
                              (dict(good, events="nope"), '"events"'), ([1, 2], "an object")):
        (tmp_path / "bad.json").write_text(json.dumps(doctored))
        assert cli_main(["report", str(tmp_path / "bad.json")]) == 2
        assert f"(missing {missing}" in capsys.readouterr().err
    # The same result, whole, makes a report.
    (tmp_path / "good.json").write_text(json.dumps(good))
    assert cli_main(["report", str(tmp_path / "good.json"), "-o", str(tmp_path / "r.html")]) == 0
    capsys.readouterr()
    # A path that is not there, or not JSON, is one line too.
    for path, text in ((tmp_path / "nowhere", "does not exist"), (tmp_path / "r.html", "not a harness result")):
        assert cli_main(["report", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and text in err and str(path) in err


# -- JUnit -------------------------------------------------------------------------------------------------------

def _cases(xml: str) -> list[ET.Element]:
    return ET.fromstring(xml.split("?>", 1)[1]).findall(".//testcase")


def test_junit_carries_the_run_as_properties(seed_runs):
    cases = _cases(junit.render([seed_runs[BUGGY], seed_runs[FIXED]]))
    assert [c.get("name") for c in cases] == [f"offline-refresh-due[{BUGGY}]", f"offline-refresh-due[{FIXED}]"]
    props = {p.get("name"): p.get("value") for p in cases[0].find("properties")}
    assert props["scenario"] == "offline-refresh-due" and props["sdk_version"] == BUGGY
    assert props["verdict"] == "reproduced" and props["expected"] == "reproduced"
    assert props["browser"] == seed_runs[BUGGY].browser["kind"]
    assert props["browser_mode"] == seed_runs[BUGGY].browser["mode"]
    assert props["browser_path"] == seed_runs[BUGGY].browser["path"]
    assert props["artifact_trace"].endswith("trace.zip")
    assert all(c.find("failure") is None for c in cases)  # both as expected
    out = cases[0].find("system-out").text
    assert "REMOVED" in out and "OFFLINE" in out and "harness run" in out


def test_junit_marks_a_broken_run_an_error_and_a_mismatch_a_failure(seed_runs, tmp_path):
    wrong = seed_runs[FIXED].to_dict() | {"expected": "reproduced"}
    broken = seed_runs[BUGGY].to_dict() | {"outcome": "error", "sentence": "step 2 `offline`: boom"}
    unclaimed = seed_runs[FIXED].to_dict() | {"expected": None}
    path = junit.write_junit([wrong, broken, unclaimed, seed_runs[BUGGY]], tmp_path / "junit.xml")
    # Read as a CI server would, by a JUnit consumer: counts and each case's result.
    xml = junitparser.JUnitXml.fromfile(str(path))
    [suite] = list(xml)
    assert (suite.tests, suite.failures, suite.errors) == (4, 1, 1)
    results = [case.result for case in suite]
    [mismatch], [error], free, fine = results
    assert isinstance(mismatch, junitparser.Failure) and mismatch.type == "verdict-mismatch"
    assert "expected reproduced, got survived" in mismatch.message
    assert isinstance(error, junitparser.Error) and error.type == "harness-error" and "boom" in error.message
    assert free == [] and fine == []
    root = ET.parse(path).getroot()
    assert (root.get("failures"), root.get("errors")) == ("1", "1")


# -- pytest --------------------------------------------------------------------------------------------------

def test_pytest_option_writes_the_report_and_junit_gets_the_properties(seed_runs, pytester):
    saved = seed_runs[BUGGY].artifacts["result"]
    pytester.makepyfile(test_fake_scenario=f"""
        import dataclasses, json
        from harness.engine.single import RunResult

        def test_seed(request):
            data = json.load(open({saved!r}))
            names = {{f.name for f in dataclasses.fields(RunResult)}}
            request.node.harness_result = RunResult(**{{k: v for k, v in data.items() if k in names}})
    """)
    report, xml = pytester.path / "h.html", pytester.path / "j.xml"
    outcome = pytester.runpytest_subprocess("--harness-report", str(report), f"--junitxml={xml}",
                                            "-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=1)
    assert any("harness report:" in line for line in outcome.outlines)
    page = report.read_text()
    assert 'class="card run"' in page and "reproduced" in page
    [case] = ET.parse(xml).getroot().iter("testcase")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["scenario"] == "offline-refresh-due" and props["sdk_version"] == BUGGY
    assert props["verdict"] == "reproduced" and props["browser_mode"] == seed_runs[BUGGY].browser["mode"]
    assert props["browser"] == seed_runs[BUGGY].browser["kind"]
    assert props["browser_path"] == seed_runs[BUGGY].browser["path"]


# -- progress ----------------------------------------------------------------------------------------------------

class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_plain_lines_off_a_terminal_and_a_redrawn_line_on_one():
    now = [100.0]
    err, out = io.StringIO(), io.StringIO()
    with Progress(3, stream=err, out=out, clock=lambda: now[0]) as p:
        for version in ("5.0.0", "6.0.0", "6.1.0"):
            p.start(f"seed on {version}")
            now[0] += 65
            p.done(f"{version} survived")
    assert err.getvalue().splitlines() == ["[1/3] seed on 5.0.0 (2 left after it, 0:00 elapsed)",
                                           "[2/3] seed on 6.0.0 (1 left after it, 1:05 elapsed)",
                                           "[3/3] seed on 6.1.0 (0 left after it, 2:10 elapsed)"]
    assert out.getvalue().splitlines() == ["5.0.0 survived", "6.0.0 survived", "6.1.0 survived"]

    tty = _Tty()
    with Progress(2, stream=tty, out=out, clock=lambda: now[0], interval=3600) as p:
        p.start("seed on 6.0.0")
        assert tty.getvalue().endswith("[1/2] seed on 6.0.0 · 0:00 this run · 1 left after it · 0:00 elapsed")
        p.done("6.0.0 reproduced")
    assert tty.getvalue().endswith("\r\x1b[2K")  # the status line is cleared before the result line and at the end

    single = io.StringIO()
    with Progress(1, stream=single, out=out) as p:
        p.start("only run")
        p.done("done")
    assert single.getvalue() == ""  # one run needs no progress
