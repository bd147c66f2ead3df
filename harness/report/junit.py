"""JUnit XML for CI: one ``testcase`` per run, with the run's facts as properties.

Properties: scenario, sdk, sdk_version, browser, browser_path, browser_mode, headless, webdriver, verdict (the
observed outcome), expected, matches_expectation, and the artifact paths; for a local SDK build also sdk_build_version,
sdk_build_sha256, sdk_build_source, sdk_build_tarball_sha256 and claims_as (``sdk_version`` is then its label).
A run that broke (outcome ``error``: the
harness could not reach a verdict) gets an ``error`` element whose message says what broke; a run whose verdict
differs from the one its scenario file claims gets a ``failure`` element whose message is the verdict sentence. The
two are counted apart (``errors``, ``failures``), as CI servers expect; ``system-out`` holds the timeline summary
(:func:`harness.report.view.timeline_text`).
"""

from __future__ import annotations

import socket
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Sequence

from harness.report.artifacts import write_atomic
from harness.report.results import entry_of


def run_properties(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The (name, value) pairs that identify a run; the pytest plugin records the same ones."""
    browser = result.get("browser", {})
    matches = result.get("matches_expectation")
    props = [("scenario", result.get("scenario")), ("sdk", result.get("sdk")), ("sdk_version", result.get("version")),
             *build_properties(result),
             ("browser", browser.get("kind")), ("browser_path", browser.get("path")),
             ("browser_mode", browser.get("mode")), ("headless", browser.get("headless")),
             ("webdriver", browser.get("webdriver")), ("verdict", result.get("outcome")),
             ("expected", result.get("expected") or "none"),
             ("matches_expectation", "none" if matches is None else str(matches).lower())]
    props += [(f"artifact_{k}", v) for k, v in sorted(result.get("artifacts", {}).items())
              if k in ("folder", "result", "trace")]
    return [(k, str(v)) for k, v in props if v is not None]


def build_properties(result: dict[str, Any]) -> list[tuple[str, Any]]:
    """A local build's identity (none for a release): its package.json version, digest, source and claims."""
    build = result.get("build")
    if not isinstance(build, dict):
        return []
    return [("sdk_build_version", build.get("version")), ("sdk_build_sha256", build.get("sha256")),
            ("sdk_build_source", build.get("source")), ("sdk_build_tarball_sha256", build.get("tarball_sha256")),
            ("claims_as", build.get("claims_as"))]


def render(results: Sequence[Any], suite: str = "session-harness", not_run: Sequence[NotRun] = ()) -> str:
    """JUnit XML for ``results``; ``not_run`` are planned runs an interrupt stopped, written as ``<skipped>`` so a
    CI consumer counts them instead of losing them."""
    from harness.report.view import timeline_text

    entries = [entry_of(r).result for r in results]
    failures = sum(1 for r in entries if _problem(r) == "failure")
    errors = sum(1 for r in entries if _problem(r) == "error")
    counts = {"tests": str(len(entries) + len(not_run)), "failures": str(failures), "errors": str(errors)}
    root = ET.Element("testsuites", {"name": suite, **counts,
                                     "time": f"{sum(r.get('duration') or 0 for r in entries):.3f}"})
    ts = ET.SubElement(root, "testsuite", {"name": suite, **counts, "skipped": str(len(not_run)),
                                           "time": root.get("time", "0"),
                                           "hostname": socket.gethostname(),
                                           "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S")})
    for r in entries:
        case = ET.SubElement(ts, "testcase", classname=f"scenarios.{r.get('scenario')}",
                             name=f"{r.get('scenario')}[{r.get('version')}{_repeat_suffix(r)}]",
                             time=f"{r.get('duration') or 0:.3f}")
        if r.get("scenario_path"):
            case.set("file", r["scenario_path"])
        props = ET.SubElement(case, "properties")
        for name, value in run_properties(r):
            ET.SubElement(props, "property", name=name, value=value)
        problem = _problem(r)
        if problem == "error":
            element = ET.SubElement(case, "error", message=f"the run broke: {r.get('sentence')}", type="harness-error")
        elif problem == "failure":
            element = ET.SubElement(case, "failure", type="verdict-mismatch",
                                    message=f"expected {r.get('expected')}, got {r.get('outcome')}"
                                            f"{' (bound exceeded)' if r.get('bounds_exceeded') else ''}: "
                                            f"{r.get('sentence')}")
        if problem is not None:
            element.text = "\n".join(f"{'PASS' if c['passed'] else 'FAIL'} {c['name']}: {c['detail']}"
                                      for c in r.get("checks", []))
        out = ET.SubElement(case, "system-out")
        out.text = (f"{r.get('scenario')} on {r.get('sdk')} {r.get('version')}: {r.get('outcome')}"
                    f" (expected {r.get('expected') or 'no claim'})\n{r.get('sentence')}\n"
                    f"reproduce: {r.get('reproduce')}\n\n{timeline_text(r)}\n")
    for skipped in not_run:
        case = ET.SubElement(ts, "testcase", classname=f"scenarios.{skipped.scenario}", time="0.000",
                             name=f"{skipped.scenario}[{skipped.version}{_repeat_suffix(vars(skipped))}]")
        ET.SubElement(case, "skipped", message=skipped.reason)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


@dataclass(frozen=True)
class NotRun:
    """A planned run that did not finish (an interrupt stopped it), and why."""

    scenario: str
    version: str
    repeat: int
    reason: str


def write_junit(results: Sequence[Any], path: Path, suite: str = "session-harness",
                not_run: Sequence[NotRun] = ()) -> Path:
    return write_atomic(Path(path), render(results, suite, not_run))


def _problem(result: dict[str, Any]) -> Literal["error", "failure"] | None:
    """``error`` for a run that broke, ``failure`` for a verdict that differs from its claim, else None (a run
    without a claim cannot fail)."""
    if result.get("outcome") == "error":
        return "error"
    if result.get("expected") is not None and result.get("outcome") != result.get("expected"):
        return "failure"
    if result.get("bounds_exceeded"):  # a bound the scenario set (expect_requests) is a claim too
        return "failure"
    return None


def _repeat_suffix(result: dict) -> str:
    """``#N`` for the N-th repetition (``--repeat``), so CI reporters keep repetitions apart."""
    repeat = int(result.get("repeat") or 1)
    return f"#{repeat}" if repeat > 1 else ""
