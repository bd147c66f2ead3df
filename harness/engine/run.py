"""One run: the object that owns a scenario played against one SDK version, from set-up to teardown.

A :class:`Run` owns its timeline, its mock server (own signing key, own port), its browser (a fresh profile, or a
fresh context), its step loop, its checks, its result folder and its teardown. Every front door plays runs through
it: ``harness run``/``repro`` and the pytest plugin call :meth:`Run.play` (through the engine, which may play several
at once); ``harness serve`` and the ``harness_run`` pytest fixture call :meth:`Run.start`, then :meth:`Run.step` for
each step as it comes, then :meth:`Run.finish`.

Invariants:

* a run never raises for something that happened during it: a failed step, a browser that died, a page that did not
  load -- each ends the run in outcome ``error`` with a sentence naming the step. Only bad input found before anything
  starts (unknown version, no browser, a port in use, an unwritable result folder) raises :class:`HarnessError`;
* the verdict is judged from the timeline alone, once every event has arrived, and before the browser closes (so a
  trace kept only for failures is decided by the verdict, not guessed);
* the result folder is marked ``INCOMPLETE`` from its creation until ``result.json`` is in place.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playwright.sync_api import Error as PlaywrightError

from harness.browser.driver import BrowserChoice, BrowserDriver, BrowserSource, DriverOptions
from harness.browser.storage_check import cross_check_storage
from harness.engine.options import RunOptions
from harness.engine.result import RunResult, reproduce_command
from harness.errors import HarnessError, one_line
from harness.mock.server import MockAuthServer
from harness.oracles import Judgement, judge
from harness.report import artifacts
from harness.scenario.model import Outcome, Scenario, Step
from harness.scenario.steps import DEFAULT_TIMEOUT, STEPS, RunContext
from harness.sdk_protocol import SessionStore
from harness.sdks import SdkAdapter, sdk_for
from harness.sdks.builds import claims_version
from harness.sdks.npm import NpmBundleCache
from harness.timeline import Timeline

if TYPE_CHECKING:
    from harness.app.session import AppSession

# Steps after which the page is photographed: the ones whose end is an oracle check (the server and the SDK
# give their view of the session on a page load).
SCREENSHOT_AFTER = frozenset({"signed_in", "reload", "navigate", "check_sdk"})
# After the last step, events already under way (a cookie write reported by the page, a response the mock is
# sending) are given this long to arrive -- after the final screenshot, and after a round trip to every page (which
# delivers every binding call the page made before it) -- before the timeline is judged.
SETTLE_S = 0.05
# A step still running this long after its own timeout is hung (a page script that never returns, a browser that
# stopped answering): the watchdog ends the browser, so the blocked call fails and the run ends in `error`.
HANG_GRACE_S = 15.0
# The harness's own time between one step's end and the next step's start (the store cross-check, a screenshot,
# Python scheduling). Measured over 30 repeats of the library (1620 runs, 4 jobs on 2 cores): median 3 ms (Clerk) and
# 21 ms (Supabase: its localStorage cross-check reads a page), p99 0.3 s and 1.0 s, worst 1.8 s. A gap
# longer than this is recorded as ``harness.stalled``: the scenario's timeline then ran slower than written (an
# offline period, a token's life), so a surprising verdict should be read with that in mind. It changes no verdict.
STALL_S = 2.0


@dataclass
class RunResources:
    """What a run borrows rather than owns: the browser binary and mode, the bundle cache, and where its browser
    comes from (a pool, a shared browser, a remote endpoint; empty: it launches its own)."""

    browser: BrowserChoice
    cache: NpmBundleCache
    source: BrowserSource = field(default_factory=BrowserSource)
    app: "AppSession | None" = None  # the user's app under test (None: the harness's own test page)


class StepFailed(HarnessError):
    """A step could not complete; the message names the step (and its line in the scenario file)."""


class Run:
    """``Run(scenario, version, options, resources).play()`` -> :class:`RunResult`; or start / step... / finish."""

    def __init__(self, scenario: Scenario, version: str, options: RunOptions, resources: RunResources, *,
                 repeat: int = 1, keep_shots_in_memory: bool = False,
                 cancelled: threading.Event | None = None) -> None:
        self.scenario = scenario
        self.version = version
        self.options = options
        self.resources = resources
        self.repeat = repeat
        self.keep_shots_in_memory = keep_shots_in_memory  # `serve` writes its folder only when it saves
        self.cancelled = cancelled  # set by an interrupt: the run then writes no verdict (its folder stays INCOMPLETE)
        self.shots: list[tuple[str, bytes]] = []
        self.sdk: SdkAdapter = sdk_for(scenario.setup.sdk, token_ttl=scenario.setup.token_ttl)
        self.timeline = Timeline()
        self.began = time.time()
        self.steps_done: list[dict[str, Any]] = []  # index, name, label, line (as result.json lists them)
        self.error: str | None = None
        self.server: MockAuthServer | None = None
        self.driver: BrowserDriver | None = None
        self.folder: artifacts.RunFolder | None = None
        self.ctx: RunContext | None = None
        self._finished: RunResult | None = None
        # The command that replays this run, watched (a timeline written in Python says its pytest node instead).
        self.reproduce = reproduce_command(scenario, version)
        self._watchdog = _Watchdog(self)
        self._paced = False  # set by play(): only then is a long gap between steps the harness's own (STALL_S)
        self._last_step_done: tuple[int, float] | None = None  # (index, when it ended or failed)
        self.build: dict[str, str] | None = None

    # -- life cycle ---------------------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self.resources.browser.mode

    @property
    def app_url(self) -> str:
        assert self.server is not None
        return self.server.url + "/"

    def start(self) -> "Run":
        """Bundle, mock, result folder, browser. Bad input raises HarnessError with nothing left running; a browser
        that fails to come up ends the run in ``error`` instead (the result says why)."""
        bundle = self.resources.cache.get(self.sdk.package, self.version)
        self.build = bundle.build  # a local build's identity (version, sha256, source); None for a release
        app = self.resources.app
        run_app = app.for_run(self.sdk, self.timeline, bundle.dist, self.sdk.bundle_file) if app else None
        self.server = MockAuthServer(self.timeline, self.sdk, bundle_dist=bundle.dist, sdk_version=self.version,
                                     host=self.options.mock_host, port=self.options.port,
                                     public_host=self.options.public_host,
                                     allow_non_loopback=self.options.mock_host != RunOptions.mock_host,
                                     backend=self.scenario.setup.backend,
                                     background_api=self.scenario.setup.background_api,
                                     front_door=run_app.front_door if run_app else None)
        self.server.start()  # a port in use fails here, before any output is written
        try:
            self.folder = self._create_folder()
        except BaseException:
            self.server.stop()
            raise
        choice = self.resources.browser
        self.driver = BrowserDriver(self.timeline, DriverOptions(
            executable=choice.info.path, mode=choice.mode, headless=self.options.headless,
            slowmo=self.options.slowmo, mask_webdriver=self.scenario.setup.webdriver == "masked",
            watch_cookies=self.sdk.watch_cookies,
            watch_storage=self.sdk.session_store.names if self.sdk.session_store.kind != "cookie" else (),
            storage_renewal=self.sdk.session_store.renews_with, storage_area=self.sdk.session_store.kind,
            storage_place=self.sdk.session_store.place, storage_identity=self.sdk.session_store.identity,
            init_scripts=(self.sdk.init_script,) + ((run_app.init_script,) if run_app else ()),
            tracing=self.options.tracing and not self.resources.source.attached), self.resources.source)
        self.ctx = RunContext(timeline=self.timeline, driver=self.driver, server=self.server, sdk=self.sdk,
                              start_focused=self.scenario.setup.start_focused)
        try:
            self.driver.start()
        except (HarnessError, PlaywrightError) as err:
            self.error = f"the browser did not start: {one_line(err)}"
        self.timeline.emit("runner", "run.ready", setup=round(time.time() - self.began, 3), app_url=self.app_url,
                           repeat=self.repeat, app=app.describe() if app is not None else None)
        return self

    def _create_folder(self) -> artifacts.RunFolder | None:
        if self.options.reports_dir is None:
            return None
        try:
            return artifacts.RunFolder.create(self.options.reports_dir, self.scenario.id, self.version)
        except OSError as err:
            raise HarnessError(f"cannot write results to {self.options.reports_dir} ({err.strerror or err}); "
                               "pick another folder with --reports") from None

    def play(self) -> RunResult:
        """Start, play every step of the scenario (stopping at the first that fails), finish."""
        self.start()
        self._paced = True  # from here the harness alone sets the pace between steps
        try:
            for step in self.scenario.steps:
                if self.error:
                    break
                try:
                    self.step(step)
                except StepFailed as err:
                    self.error = str(err)
        except BaseException:  # Ctrl-C, or a bug: no verdict, but nothing left running and the trace kept
            self.abandon()
            raise
        return self.finish()

    def abandon(self) -> None:
        """Close everything without judging: the folder keeps its ``INCOMPLETE`` marker (and the trace, if it
        could be saved). For an interrupted run."""
        if self._finished is None:
            self._close(keep_trace=self.options.tracing and self.folder is not None)

    def step(self, step: Step, label: str | None = None) -> None:
        """Play one step now; raises :class:`StepFailed` (after recording it on the timeline) if it cannot."""
        assert self.ctx is not None and self.driver is not None
        if self.error and not self.steps_done:
            raise StepFailed(self.error)
        index = len(self.steps_done) + 1
        label = label or step.label or step.describe()
        self.steps_done.append({"index": index, "name": step.name, "label": label, "line": step.line or None})
        spec = STEPS[step.name]
        timeout = step.timeout or DEFAULT_TIMEOUT
        self._note_stall(index)
        start = self.timeline.emit("runner", "step.start", index=index, name=step.name, label=label,
                                   line=step.line or None)
        self.ctx.step_started_at = start.at
        where = f"step {index} `{label}`" + (f" (line {step.line})" if step.line else "")
        grouped = self.driver.context is not None and self.options.tracing
        watch = self._watchdog.arm(index, where, timeout)
        try:
            if grouped:
                assert self.driver.context is not None  # `grouped` says so
                try:
                    self.driver.context.tracing.group(f"{index}. {label}")
                except PlaywrightError:  # an attached context its owner does not trace
                    grouped = False
            spec.run(self.ctx, spec.args.model_validate(step.args, context={"sdk": self.sdk}), timeout)
            problem = self.harness_problem()
            if problem:  # the step "passed" on a dead mock or browser: that is no evidence of anything
                raise HarnessError(problem)
            ended = self.timeline.emit("runner", "step.end", index=index)
            self._last_step_done = (index, ended.at)  # the store cross-check and screenshot below count as harness time
            if not self.timeline.events("clock.offset"):
                self.driver.measure_clock("start")  # once the first page is up: one clock for page and server events
            cross_check_store(self.driver, self.sdk.session_store, self.timeline)
            if step.name in SCREENSHOT_AFTER:
                self._screenshot(f"step-{index:02d}-{step.name}", f"after step {index}")
        except (HarnessError, PlaywrightError) as err:
            problem = self.harness_problem()
            error = f"{where}: {problem}" if problem else f"{where}: {one_line(err)}"
            failed = self.timeline.emit("runner", "step.error", index=index, error=error)
            self._last_step_done = (index, failed.at)
            if not problem:
                self._screenshot(f"step-{index:02d}-error", f"when step {index} failed")
            raise StepFailed(error) from None
        finally:
            watch.disarm()
            if grouped and self.driver.context is not None:
                try:
                    self.driver.context.tracing.group_end()
                except PlaywrightError:
                    pass

    def _note_stall(self, index: int) -> None:
        """Record ``harness.stalled`` when the harness took longer than :data:`STALL_S` since the previous step ended
        (or failed). Only while :meth:`play` plays a file: under ``serve`` or a Python-driven run the pause between
        steps is a person's or a test's, not the harness's."""
        if not self._paced or self._last_step_done is None:
            return
        after, at = self._last_step_done
        gap = self.timeline.now() - at
        if gap > STALL_S:
            self.timeline.emit("runner", "harness.stalled", after_step=after, before_step=index, seconds=round(gap, 3))

    def harness_problem(self) -> str | None:
        """What broke on the harness's side, if anything: then the run is `error`, whatever the SDK did."""
        hung = self.timeline.events("step.hung")
        if hung:
            return hung[-1].data["why"]
        app_problem = self.resources.app.problem() if self.resources.app is not None else None
        if app_problem:
            return app_problem
        if self.server is not None and not self.server.alive:
            return "the mock server stopped answering (its thread or loop is gone), so no verdict can be drawn"
        crashed = self.timeline.events("page.crashed")
        if crashed:
            return f"the page of tab {crashed[-1].data.get('tab')} crashed (its renderer process is gone)"
        driver = self.driver
        if driver is None or driver.context is None:
            return None
        exited = driver.real is not None and not driver.real.running
        if exited or (driver.browser is not None and not driver.browser.is_connected()):
            # Which of the two is seen first is a race (the connection drops as the process dies): one sentence.
            return "the browser went away in the middle of the run (its process exited or its connection was lost)"
        return None

    def verdict(self) -> Judgement:
        """The oracles' answer on the timeline so far (live, for ``serve``; final after :meth:`finish`)."""
        return judge(self.timeline, [s["label"] for s in self.steps_done], self.sdk.session_store,
                     user_view=self.sdk.user_view)

    def snapshot(self) -> RunResult:
        """The result as it stands now, the browser still open (``serve`` saves a session this way)."""
        return self._result(self.verdict(), self._last_step_end())

    def finish(self) -> RunResult:
        """Let events arrive, judge, close the browser and the mock, write the result folder. Idempotent."""
        if self._finished is not None:
            return self._finished
        last_step_end = self._last_step_end()
        verdict: Judgement | None = None
        try:
            if self.driver is not None and self.driver.context is not None and not self.error:
                if not self._last_step_photographed():
                    self._screenshot("final", "at the end")
                self.driver.flush(SETTLE_S)
                self.driver.measure_clock("end")
            self.error = self.error or self.harness_problem()
            verdict = self.verdict()
        except (HarnessError, PlaywrightError) as err:
            self.error = self.error or one_line(err)
        finally:
            self._close(keep_trace=self._keeps_trace(verdict))
        if verdict is None:
            verdict = self.verdict()
        self._watchdog.stop()
        result = self._result(verdict, last_step_end)
        if self.folder is not None and not (self.cancelled is not None and self.cancelled.is_set()):
            try:
                self.folder.finish(result)
            except OSError as err:  # the folder keeps its INCOMPLETE marker; the run is an error, not a verdict
                self.error = self.error or f"could not write the result folder {self.folder.path} " \
                                           f"({err.strerror or err})"
                result = self._result(verdict, last_step_end)
        self._finished = result
        return result

    def _last_step_photographed(self) -> bool:
        """The last step ended in a screenshot (a reload, a check): that is the end state already."""
        return bool(self.steps_done) and self.steps_done[-1]["name"] in SCREENSHOT_AFTER

    def _keeps_trace(self, verdict: Judgement | None) -> bool:
        if not self.options.tracing or self.folder is None or self.resources.source.attached:
            return False  # an attached context's trace is its owner's (pytest-playwright's --output)
        if self.options.trace != "retain-on-failure":
            return True
        expected = self.expected()
        return bool(self.error) or verdict is None or (expected is not None and verdict.outcome != expected)

    def _close(self, keep_trace: bool) -> None:
        # The trace is written under a temporary name and renamed, so an interrupted run never leaves half a zip.
        trace = self.folder.partial("trace.zip") if self.folder is not None and keep_trace else None
        try:
            if self.driver is not None:
                self.driver.close(trace_path=trace)
        finally:
            if self.server is not None:
                self.server.stop()
            if self.resources.app is not None:
                self.resources.app.release(self.sdk)
        if trace is not None and self.folder is not None:
            self.folder.adopt(trace, "trace.zip", "trace")

    def _last_step_end(self) -> float | None:
        ends = self.timeline.events("step.end") + self.timeline.events("step.error")
        return max((e.at for e in ends), default=None)

    # -- the result ---------------------------------------------------------------------------------------------

    def _result(self, verdict: Judgement, last_step_end: float | None) -> RunResult:
        outcome, sentence = verdict.outcome, verdict.sentence
        if self.error:
            outcome, sentence = "error", self.error
        error = self.error or verdict.error  # a failure of the mock itself, with its traceback
        choice = self.resources.browser
        ended = time.time()
        return RunResult(
            scenario=self.scenario.id, title=self.scenario.title,
            scenario_path=str(self.scenario.path) if self.scenario.path else None, sdk=self.sdk.package,
            version=self.version,
            browser={"path": str(choice.info.path), "kind": choice.info.kind, "mode": choice.mode,
                     **({"mode_note": choice.note} if choice.note else {}),
                     **({"cdp_endpoint": self.resources.source.cdp_endpoint}
                        if self.resources.source.cdp_endpoint else {}),
                     "headless": self.options.headless, "webdriver": self.scenario.setup.webdriver,
                     # navigator.connection rtt/downlink are pinned non-zero while online (driver.PIN_CONNECTION_JS)
                     "connection": "pinned"},
            outcome=outcome, expected=self.expected(), sentence=sentence,
            checks=[c.to_dict() for c in verdict.checks], steps=list(self.steps_done),
            events=self.timeline.to_list(), started_at=self.timeline.started_at,
            duration=ended - self.timeline.started_at, error=error,
            reproduce=self.reproduce,
            timing=self._timing(ended, last_step_end), repeat=self.repeat, backend=self._backend_description(),
            clock=self._clock_summary(), build=self._build_identity())

    def expected(self) -> Outcome | None:
        """The file's claim for this run: a build's by its package.json version, or ``--claims-as``."""
        return self.scenario.expected(claims_version(self.version, self.options.claims_as))

    def _build_identity(self) -> dict[str, str] | None:
        if self.build is None:
            return None
        claims = claims_version(self.version, self.options.claims_as)
        return {**self.build, "label": self.version, "claims_as": claims}

    def _backend_description(self) -> str:
        described = self.timeline.events("server.backend")
        return described[-1].data.get("description", "") if described else ""

    def _clock_summary(self) -> dict[str, Any]:
        """The page clock's offset to the timeline's, measured at start and end (ms), and how much it drifted."""
        offsets = {e.data["label"]: e.data["offset_ms"] for e in self.timeline.events("clock.offset")}
        out: dict[str, Any] = {"base": "timeline (the mock's and the runner's wall clock)", **{
            f"{label}_offset_ms": value for label, value in offsets.items()}}
        if "start" in offsets and "end" in offsets:
            out["skew_ms"] = round(offsets["end"] - offsets["start"], 3)
        return out

    def _timing(self, ended: float, last_step_end: float | None) -> dict[str, float]:
        starts = self.timeline.events("step.start")
        wall = ended - self.began
        if not starts or last_step_end is None:
            return {"wall": round(wall, 3), "setup": round(wall, 3), "steps": 0.0, "teardown": 0.0,
                    "overhead": round(wall, 3)}
        first = starts[0].at
        steps = max(0.0, last_step_end - first)
        return {"wall": round(wall, 3), "setup": round(first - self.began, 3), "steps": round(steps, 3),
                "teardown": round(ended - last_step_end, 3), "overhead": round(wall - steps, 3)}

    # -- evidence -----------------------------------------------------------------------------------------------

    def _screenshot(self, name: str, label: str) -> None:
        """The page as the user would see it at an oracle check, recorded on the timeline."""
        driver = self.driver
        if driver is None or driver.page is None:
            return
        if self.folder is not None:
            try:
                file = self.folder.screenshot(driver.page, name)
            except OSError as err:  # the disk refused: the run goes on, but it cannot end in a verdict
                self.error = self.error or f"could not write the result folder {self.folder.path} " \
                                           f"({err.strerror or err})"
                return
        elif self.keep_shots_in_memory:
            file = self._shot_in_memory(name)
        else:
            return
        if file:
            self.timeline.emit("runner", "screenshot", file=file, label=label)

    def _shot_in_memory(self, name: str) -> str | None:
        assert self.driver is not None and self.driver.page is not None
        try:
            data = self.driver.page.screenshot(type="png", clip=artifacts.content_clip(self.driver.page))
        except PlaywrightError:
            return None
        self.shots.append((f"{name}.png", data))
        return f"{name}.png"

    def __enter__(self) -> "Run":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.finish()


class _Watchdog:
    """Ends the browser when a step overruns its timeout by :data:`HANG_GRACE_S` (a call that never returns): the
    blocked Playwright call then fails, and the run ends in `error` naming the hung step. Kills only what needs no
    Playwright call (the self-launched Chromium's process group, or a launched browser's process by the pid it
    gave at start), so it may act from its own thread. A browser reached over ``--cdp-endpoint`` is left alone."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self._timer: threading.Timer | None = None

    def arm(self, index: int, where: str, timeout: float) -> "_Watchdog":
        self.disarm()
        limit = timeout + HANG_GRACE_S
        self._timer = threading.Timer(limit, self._fire, args=(where, timeout))
        self._timer.daemon = True
        self._timer.start()
        return self

    def _fire(self, where: str, timeout: float) -> None:
        why = (f"the step did not return within its timeout ({timeout:g} s, plus {HANG_GRACE_S:g} s of grace), so "
               "the harness ended the browser")
        driver = self.run.driver
        ours = driver is not None and driver.owns_browser_process
        if not ours:
            why = (f"the step did not return within its timeout ({timeout:g} s, plus {HANG_GRACE_S:g} s of grace); "
                   "the browser is not the harness's to end (--cdp-endpoint, or a test's own page), so the step is "
                   "left to return")
        self.run.timeline.emit("runner", "step.hung", why=why, step=where)  # first: the kill fails the step
        if driver is not None and ours:
            driver.kill_browser()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def stop(self) -> None:
        self.disarm()


def cross_check_store(driver: BrowserDriver, store: SessionStore, timeline: Timeline) -> None:
    """After a step: the watcher against the browser's own record of the store the adapter names."""
    if store.kind == "cookie":
        cross_check_jar(driver, store.names, timeline)
    elif driver.context is not None:
        cross_check_storage(driver, store, timeline)


def cross_check_jar(driver: BrowserDriver, names: tuple[str, ...], timeline: Timeline) -> None:
    """Compare what the watcher saw with the browser's own cookie jar; a disagreement is an event, not a guess."""
    if driver.context is None:
        return
    for attempt in range(2):
        jar = driver.jar()
        seen: dict[str, bool] = {}
        for event in timeline.events("cookie"):
            if event.data.get("name") in names:
                seen[event.data["name"]] = event.data.get("op") == "set"
        differ = {n: (seen.get(n, False), n in jar) for n in names if seen.get(n, False) != (n in jar)}
        if not differ:
            timeline.emit("browser", "cookie.jar", present=[n for n in names if n in jar])
            return
        if attempt == 0:
            driver.pump(0.1)  # a write may be on its way from the page
    # What the jar holds is recorded either way: the end-of-run check reads the last one.
    timeline.emit("browser", "cookie.jar", present=[n for n in names if n in jar])
    mismatch: dict[str, Any] = {n: {"watcher": w, "jar": j} for n, (w, j) in differ.items()}  # cookie name -> views
    timeline.emit("browser", "cookie.mismatch", **mismatch)
