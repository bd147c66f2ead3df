"""``harness serve``: the mock, the app and a browser, left running with a control panel, for reproducing by hand.

An engineer with a user's "I got signed out" report starts ``harness serve --sdk supabase --sdk-version 2.26.0``
(any registered SDK; its founding-bug version by default), opens the panel, and pokes at the session:
offline/online, hide/show the tab, hold/release/drop the SDK's token requests, revoke the session, reload --
watching the session store (cookies, or the localStorage entry the adapter names), the verdict and the request log
live beside the buttons. Each button is a
scenario step (the same registry the runner uses), recorded on the timeline as a step, so the live verdict comes from
the same oracles as a scripted run, and when the session ends it is saved as a result folder with an HTML report and
a scenario file replaying what was done (its ``setup.sdk`` is the session's SDK, so ``harness run`` replays it).

Nothing here knows one SDK: the app page, the token path the fault buttons arm, whether a token cache can be
cleared, the token lifetime to start with and the store shown all come from the adapter.

Threads: Playwright's sync API may only be called from the thread that started it. The panel's HTTP handlers run in
their own thread (aiohttp, its own loop); they put commands on a queue and wait for a future. The main thread loops:
pump the page (so browser events arrive), run queued commands. Ctrl-C or SIGTERM stops the loop, saves the session
and closes the browser, the panel and the mock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import queue
import secrets
import signal
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml
from aiohttp import web
from playwright.sync_api import Error as PlaywrightError

from harness import resources
from harness.browser.driver import BrowserChoice, choose_browser
from harness.engine.options import RunOptions
from harness.engine.result import reproduce_command
from harness.engine.run import Run, RunResources, StepFailed
from harness.errors import HarnessError, one_line
from harness.mock.guard import Guard
from harness.mock.threaded import ThreadedApp
from harness.report import view
from harness.report.artifacts import RunFolder, write_atomic
from harness.scenario.model import Scenario, Setup, Step, load_scenario
from harness.sdk_protocol import SdkAdapter
from harness.sdks import adapter_class
from harness.sdks.npm import NpmBundleCache

PANEL_PATH = "/__harness/panel"


@dataclass
class ServeOptions:
    """``serve``'s own choices; everything a run needs comes from ``run`` (the engine's options, one set of
    defaults: real tabs where the browser allows, a masked navigator.webdriver, any free port)."""

    version: str | None = None  # default: the adapter's version with its founding bug
    run: RunOptions = field(default_factory=lambda: RunOptions(reports_dir=Path("reports"), trace="off"))
    browser: BrowserChoice | None = None  # an already-resolved browser (tests pass the session's); else discovery
    panel_port: int = 0
    token_ttl: float | None = None  # default: the adapter's ``serve_token_ttl`` (a refresh comes due by hand)
    sdk: str = field(default_factory=lambda: Setup().sdk)  # a name registered in harness/sdks/ (setup.sdk's default)
    cache: NpmBundleCache | None = None
    open_panel: bool | None = None  # open the panel in its own browser window (default: when headed)

    @property
    def adapter(self) -> type[SdkAdapter]:
        return adapter_class(self.sdk)

    @property
    def sdk_version(self) -> str:
        return self.version or self.adapter.known_versions[0]

    @property
    def ttl(self) -> float:
        return self.token_ttl if self.token_ttl is not None else self.adapter.serve_token_ttl

    @property
    def reports_dir(self) -> Path | None:
        return self.run.reports_dir

    @property
    def webdriver(self) -> str:
        return self.run.webdriver or "masked"


# Stands for the adapter's token request path (``SdkAdapter.request_paths["token"]``) in a command's arguments.
TOKEN_PATH = "<the SDK's token path>"


@dataclass(frozen=True)
class Command:
    """A panel button: the step it runs (scenario syntax) and what the panel shows."""

    step: str
    args: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def args_for(self, sdk: SdkAdapter) -> dict[str, Any]:
        """The step's arguments for this SDK (:data:`TOKEN_PATH` replaced by its token path)."""
        return {k: sdk.request_paths["token"] if v == TOKEN_PATH else v for k, v in self.args.items()}


# The panel's buttons, as scenario steps. Their order is the panel's.
COMMANDS: dict[str, Command] = {
    "offline": Command("offline", label="go offline"),
    "online": Command("online", label="go online"),
    "hide": Command("hide", label="hide the tab"),
    "show": Command("show", label="show the tab"),
    "hold": Command("fault", {"kind": "hold", "path": TOKEN_PATH}, "hold token requests"),
    "drop": Command("fault", {"kind": "drop", "path": TOKEN_PATH}, "drop token requests"),
    "status503": Command("fault", {"kind": "status", "status": 503, "path": TOKEN_PATH}, "answer token requests 503"),
    "release": Command("release", {"fault": "all", "outcome": "pass"}, "release faults (held requests answered)"),
    "release_drop": Command("release", {"fault": "all", "outcome": "drop"}, "release faults (held requests dropped)"),
    "clear_token_cache": Command("clear_token_cache", label="clear the SDK's token cache (a refresh comes due)"),
    "wait_for_token": Command("wait_for", {"event": "token_attempt"}, "wait for the SDK's next token attempt"),
    "get_token": Command("get_token", {"skip_cache": True, "wait": False}, "ask the SDK for a fresh token"),
    "revoke": Command("revoke_session", label="revoke the session on the server"),
    "reload": Command("reload", label="reload the page"),
    "check_sdk": Command("check_sdk", label="record the SDK's view"),
}
_SPECIAL = ("save",)
TAB_COMMANDS = ("hide", "show")


class ServeSession:
    """One manual session. ``start()``, then ``serve_forever()`` on the same thread, then ``stop()``."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.run: Run | None = None
        self._queue: "queue.Queue[tuple[str, Future]]" = queue.Queue()
        self._owner = threading.get_ident()
        self._busy: str | None = None
        self._panel = _PanelServer(self, options.panel_port)
        self._panel_context: Any = None
        self._saved: Path | None = None
        self._stopped = False

    # -- what the session is made of: one engine Run, whose steps come from the panel --------------------------

    @property
    def timeline(self) -> Any:
        assert self.run is not None
        return self.run.timeline

    @property
    def driver(self) -> Any:
        return self.run.driver if self.run is not None else None

    @property
    def server(self) -> Any:
        return self.run.server if self.run is not None else None

    @property
    def sdk(self) -> Any:
        assert self.run is not None
        return self.run.sdk

    @property
    def steps(self) -> list[dict[str, Any]]:
        return self.run.steps_done if self.run is not None else []

    @property
    def mode(self) -> str:
        return self.run.mode if self.run is not None else (self.options.run.browser_mode or "real")

    # -- life cycle (main thread) -----------------------------------------------------------------------------

    @property
    def app_url(self) -> str:
        assert self.run is not None
        return self.run.app_url

    @property
    def panel_url(self) -> str:
        return self._panel.url + PANEL_PATH

    def start(self) -> "ServeSession":
        opts = self.options
        choice = opts.browser or self._choose_browser()
        manual = Scenario(id="manual", title=f"Manual session (harness serve) on {opts.sdk_version}", refs=[],
                          description=None, setup=Setup(token_ttl=opts.ttl, webdriver=opts.webdriver, sdk=opts.sdk),
                          steps=[], verdicts={})
        # The folder is written when the session is saved; until then screenshots are kept in memory (Ctrl-C may
        # take the browser down before saving).
        cache = opts.cache or NpmBundleCache()
        try:
            if opts.run.app is not None:  # the user's app under test, started for the session (stopped by stop())
                from harness.app.session import AppSession

                cache.get(manual_sdk_package(opts.sdk), opts.sdk_version)  # a bad version fails before the app starts
                self._app = AppSession(opts.run.app, opts.sdk, cache).start()
            self.run = Run(manual, opts.sdk_version, opts.run.with_(reports_dir=None, trace="off"),
                           RunResources(choice, cache, app=self._app), keep_shots_in_memory=True)
            self.run.start()
            if self.run.error:
                raise HarnessError(self.run.error)
            self._panel.start()
            self._run_step("signed_in", {}, "signed_in")
            if opts.open_panel if opts.open_panel is not None else not opts.run.headless:
                self._open_panel_window()
        except BaseException:
            self.stop()
            raise
        return self

    _app: Any = None  # the app under test's AppSession, when --app-* options name one

    def _choose_browser(self) -> BrowserChoice:
        run = self.options.run
        choice = choose_browser(run.browser_mode or "real", run.chromium, strict=run.browser_mode == "real",
                                explicit_source=run.chromium_source)
        if choice.note:
            print(f"warning: {choice.note}", file=sys.stderr, flush=True)
        return choice

    def _open_panel_window(self) -> None:
        """The panel in its own browser context: the app's context goes offline, the panel's must not."""
        assert self.driver is not None
        # Only beside Playwright's own page lifecycle: with real tabs, a new window would take the app's focus.
        if self.driver.browser is None or self.mode != "emulated":
            return
        self._panel_context = self.driver.browser.new_context(viewport={"width": 900, "height": 900})
        self._panel_context.new_page().goto(self.panel_url)

    def serve_forever(self, stop: threading.Event | None = None) -> None:
        """Pump the page and run queued commands until ``stop`` is set, the page closes, or Ctrl-C."""
        if threading.get_ident() != self._owner:
            raise RuntimeError("serve_forever must run on the thread that started the session (Playwright's rule)")
        assert self.driver is not None
        while not (stop is not None and stop.is_set()):
            self._drain()
            try:
                self.driver.pump(0.05)
            except PlaywrightError:
                # The window was closed, or Ctrl-C reached Playwright's driver process (it shares the terminal's
                # process group) before it reached us: either way the browser is gone and the session ends.
                if self.driver.page is None or self.driver.page.is_closed():
                    print("the browser has gone (window closed or Ctrl-C); stopping", file=sys.stderr)
                    return
                raise

    def stop(self) -> None:
        """Close everything (idempotent): pending commands fail, the browser, the panel and the mock stop."""
        if self._stopped:
            return
        self._stopped = True
        while True:
            try:
                _, fut = self._queue.get_nowait()
            except queue.Empty:
                break
            fut.set_exception(HarnessError("the session is stopping"))
        for closer in (lambda: self._panel_context and self._panel_context.close(),
                       lambda: self.run and self.run.finish(), self._panel.stop,
                       lambda: self._app and self._app.stop()):
            try:
                closer()
            except Exception:  # closing must reach the end: no Chromium left behind
                pass

    # -- commands ------------------------------------------------------------------------------------------

    def submit(self, name: str) -> Future:
        """Queue a command (any thread); the future resolves when the main thread has run it."""
        if name not in COMMANDS and name not in _SPECIAL:
            raise HarnessError(f"unknown command {name!r} (known: {', '.join(list(COMMANDS) + list(_SPECIAL))})")
        fut: Future = Future()
        if self._stopped:
            fut.set_exception(HarnessError("the session is stopping"))
        else:
            self._queue.put((name, fut))
        return fut

    def _drain(self) -> None:
        while True:
            try:
                name, fut = self._queue.get_nowait()
            except queue.Empty:
                return
            if not fut.set_running_or_notify_cancel():
                continue
            self._busy = name
            try:
                fut.set_result(self.run_command(name))
            except (StepFailed, HarnessError, PlaywrightError) as err:
                fut.set_exception(HarnessError(one_line(err)))
            except Exception as err:  # a bug must reach the panel, not kill the session
                fut.set_exception(err)
            finally:
                self._busy = None

    def run_command(self, name: str) -> dict[str, Any]:
        """Run one command now (main thread only)."""
        if name == "save":
            return {"saved": str(self.save())}
        cmd = COMMANDS[name]
        capability = self.capabilities()[name]
        if not capability["enabled"]:
            raise HarnessError(f"{name}: {capability['note']}")
        args = cmd.args_for(self.sdk)
        self._run_step(cmd.step, args, f"{Step(cmd.step, args, line=0).describe()} (panel)")
        return {"done": name}

    def capabilities(self) -> dict[str, Any]:
        out = {}
        for name, cmd in COMMANDS.items():
            ok, note = True, ""
            if name in TAB_COMMANDS and self.mode == "emulated":
                ok, note = False, ("Playwright keeps the page visible and focused in the emulated browser mode; "
                                   "start serve with --browser-mode real (or simulated) to hide and show the tab")
            elif name == "clear_token_cache" and not self.sdk.token_cache:
                ok, note = False, (f"{self.sdk.package} keeps no token cache: a refresh comes due as the token "
                                   f"nears expiry (this session's tokens live {self.options.ttl:g} s; --token-ttl)")
            out[name] = {"enabled": ok, "label": cmd.label, "note": note}
        return out

    def _run_step(self, step_name: str, args: dict[str, Any], label: str) -> None:
        assert self.run is not None
        self.run.step(Step(step_name, dict(args), line=0), label=label)  # every panel command is a registered step
        self.steps[-1].update(args=dict(args), at=self._step_start(len(self.steps)))

    def _step_start(self, index: int) -> float:
        return next((e.at for e in self.timeline.events("step.start") if e.data.get("index") == index),
                    self.timeline.now())

    # -- the live view (any thread: reads the timeline only) ---------------------------------------------------

    def state(self) -> dict[str, Any]:
        assert self.run is not None
        events = self.timeline.to_list()
        verdict = self.run.verdict()
        checks = [c.to_dict() for c in verdict.checks]
        # The first loss is the verdict's (its failed cookie-never-removed check), as in the saved report.
        strip = view.strip({"events": events, "checks": checks,
                            "duration": self.timeline.now() - self.timeline.started_at})
        rows = [r for r in view.timeline_rows(events, self.steps, view.lost_at({"checks": checks})) if not r.minor]
        page = view.current_state(events)
        names = view.store_names(events)
        store = self.sdk.session_store
        return {
            "version": self.options.sdk_version, "sdk": self.sdk.package, "sdk_name": self.sdk.name,
            "app_url": self.app_url,
            "panel_url": self.panel_url, "t": round(self.timeline.now() - self.timeline.started_at, 2),
            "busy": self._busy, "state": page.to_dict(),
            # Where the session lives, as the adapter names it: cookies, or a localStorage entry.
            "store": {"kind": store.kind, "where": store.where, "names": list(store.names),
                      "present": {n: page.cookies.get(n) for n in names}},
            "store_names": names, "first_loss": strip.first_loss,
            "verdict": {"outcome": verdict.outcome, "sentence": verdict.sentence, "checks": checks},
            "faults": active_faults(events),
            "requests": view.request_log(events, include_static=False)[-60:],
            "events": [{"t": r.t, "step": r.step, "what": r.what, "tone": r.tone} for r in rows][-60:],
            "steps": [{k: v for k, v in s.items() if k != "at"} for s in self.steps],
            "commands": self.capabilities(), "saved": str(self._saved) if self._saved else None,
        }

    # -- saving (main thread) -----------------------------------------------------------------------------------

    def save(self) -> Path | None:
        """Write the session so far as a result folder (result.json, request log, console, screenshot, a scenario
        file replaying the steps) plus ``report.html`` in it; returns the report's path."""
        from harness.report.html import write_report

        if self.options.reports_dir is None or not self.steps or self.run is None:
            return None
        run = self.run
        version = self.options.sdk_version
        folder = RunFolder.create(self.options.reports_dir, "manual", version)
        for file, data in run.shots:
            write_atomic(folder.path / file, data)
            folder.add(f"screenshot:{file.rsplit('.', 1)[0]}", file)
        if self.driver is not None and self.driver.page is not None and not self.driver.page.is_closed():
            final = folder.screenshot(self.driver.page, "final")
            if final:
                self.timeline.emit("runner", "screenshot", file=final, label="when saved")
        scenario = folder.path / "scenario.yaml"
        write_atomic(scenario, self.scenario_yaml())
        folder.add("scenario", scenario.name)
        result = dataclasses.replace(
            run.snapshot(), scenario_path=str(scenario),
            reproduce=reproduce_command(load_scenario(scenario), version))
        folder.finish(result)
        self._saved = write_report([result], folder.path / "report.html",
                                   title=f"Manual session on {self.sdk.package} {version}")
        return self._saved

    def scenario_yaml(self) -> str:
        """The steps done so far as a scenario file; idle gaps of half a second or more become ``wait`` steps."""
        steps: list[Any] = []
        previous_end = None
        for s in self.steps:
            if previous_end is not None and s["at"] - previous_end >= 0.5:
                steps.append({"wait": f"{s['at'] - previous_end:.1f}s"})
            steps.append({s["name"]: s["args"]} if s["args"] else s["name"])
            end = next((e.at for e in self.timeline.events("step.end") if e.data.get("index") == s["index"]), s["at"])
            previous_end = end
        assert self.run is not None
        verdict = self.run.verdict()
        version = self.options.sdk_version
        doc: dict[str, Any] = {
            "id": f"manual-{time.strftime('%Y%m%d-%H%M%S')}",
            "title": f"Replay of a manual session on {self.sdk.package} {version}",
            "setup": {"sdk": self.sdk.name, "token_ttl": self.options.ttl, "webdriver": self.options.webdriver,
                      "browser_mode": self.mode},
            "steps": steps}
        if verdict.outcome in ("survived", "reproduced", "signed-out", "stuck"):
            doc["verdicts"] = {version: verdict.outcome}
        head = (f"# Written by `harness serve` from the panel's steps; waits are the idle time between clicks.\n"
                f"# The verdict is what the manual session showed on {self.sdk.package} {version}: a claim to "
                "check, not a result.\n")
        return head + yaml.safe_dump(doc, sort_keys=False)


def active_faults(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Faults armed and not (fully) released, from the timeline."""
    active: dict[Any, dict[str, Any]] = {}  # by fault id, as the events name it
    for e in events:
        d = e.get("data") or {}
        if e["kind"] == "fault.armed":
            active[d.get("fault")] = {k: v for k, v in d.items() if k != "fault"} | {"id": d.get("fault")}
        elif e["kind"] == "fault.released":
            if d.get("still_dropping"):
                active.setdefault(d.get("fault"), {"id": d.get("fault")})["still_dropping"] = True
            else:
                active.pop(d.get("fault"), None)
    return list(active.values())



class _PanelServer(ThreadedApp):
    """The control panel's small HTTP app, in its own thread and loop; handlers only queue commands.

    Its only client is its own page, so a command (a POST) needs that page's Origin or the per-session token the
    page carries; any request needs this server's own address in Host (:mod:`harness.mock.guard`)."""

    label = "the control panel"
    port_option = "--panel-port"

    def __init__(self, session: ServeSession, port: int) -> None:
        super().__init__(port=port)
        self.session = session
        self.token = secrets.token_urlsafe(24)

    def guard(self) -> Guard:
        return Guard(self, origin="required", token=self.token, names=self.served_as)

    def build_app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.get("/", self._root), web.get(PANEL_PATH, self._page),
                        web.get("/__harness/state", self._state), web.post("/__harness/do/{command}", self._do)])
        return app

    async def _root(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(PANEL_PATH)

    async def _page(self, request: web.Request) -> web.Response:
        page = (resources.pages_dir() / "panel.html").read_text().replace("__HARNESS_TOKEN__", self.token)
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})

    async def _state(self, request: web.Request) -> web.Response:
        state = await asyncio.get_running_loop().run_in_executor(None, self.session.state)
        return web.json_response(state, dumps=lambda o: json.dumps(o, default=str))

    async def _do(self, request: web.Request) -> web.Response:
        name = request.match_info["command"]
        try:
            fut = self.session.submit(name)
        except HarnessError as err:
            return web.json_response({"ok": False, "error": str(err)}, status=404)
        started = time.monotonic()
        try:
            result = await asyncio.wrap_future(fut)
        except Exception as err:
            return web.json_response({"ok": False, "error": str(err) or type(err).__name__}, status=409)
        return web.json_response({"ok": True, "took": round(time.monotonic() - started, 3), **result})


# What a stop signal makes ``harness serve`` exit with, shells' convention (128 + the signal's number).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve(options: ServeOptions, out: Callable[[str], None] = print) -> int:
    """The ``harness serve`` command: start, print the URLs, serve until Ctrl-C or SIGTERM (a CI runner, ``timeout``,
    a container stop), save the session, stop. Either signal saves exactly the same; the exit status is 130 for
    SIGINT, 143 for SIGTERM, 0 when the browser went away on its own."""
    stop = threading.Event()
    received: list[int] = []

    def on_stop_signal(signum: int, frame: Any) -> None:
        # Ask the loop to stop instead of raising KeyboardInterrupt inside Playwright's dispatcher, which can
        # leave it waiting forever; a second Ctrl-C interrupts at once.
        received.append(signum)
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    # Installed before anything starts: a stop signal during start-up still ends in a saved session, and never
    # kills the process before it has closed the browser.
    previous = {sig: signal.signal(sig, on_stop_signal) for sig in STOP_SIGNALS}
    try:
        session = ServeSession(options)
        session.start()
        try:
            out(f"app:    {session.app_url}   ({session.sdk.package} {options.sdk_version}, signed in)")
            out(f"panel:  {session.panel_url}")
            out("Ctrl-C stops the browser, the mock and the panel, and saves the session as a report.")
            sys.stdout.flush()
            try:
                session.serve_forever(stop)
            except KeyboardInterrupt:
                received.append(signal.SIGINT)
            _save(session, out)
        finally:
            session.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 + received[0] if received else 0


def _save(session: ServeSession, out: Callable[[str], None]) -> None:
    """Save the session as a result folder; a failure to save is one line on stderr, never a traceback."""
    try:
        saved = session.save()
    except (HarnessError, PlaywrightError, OSError) as err:
        print(f"could not save the session: {one_line(err)}", file=sys.stderr)
        return
    if saved:
        out(f"report: {saved}")


def manual_sdk_package(sdk: str) -> str:
    from harness.sdks import adapter_class

    return adapter_class(sdk).package
