"""The app under test for one session: its process, the Backend API mock, and what each run's front door needs.

The engine starts it once, before the first run (after the bundles are fetched: bad input fails first), and stops it
when it closes -- on every exit path, since the engine's ``close`` runs on Ctrl-C, SIGTERM and errors alike, and
:func:`harness.app.process.kill_all` backs it up at exit. Order: the Backend API mock first (its URL goes into the
app's environment), then the app.

Per run (:meth:`AppSession.for_run`) it hands the run what differs from the harness's own page: a key id of the run's
own for Clerk (the app caches keys by id), the session's Supabase project secret (the app's anon key is fixed at
start), the front door's upstream and bundles, and the readiness init script.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness.app.front_door import Bundles, FrontDoor
from harness.app.process import AppProcess, answers, free_port
from harness.app.readiness import script_for
from harness.app.spec import ANON_KEY, BACKEND_API, PORT, AppSpec
from harness.errors import HarnessError
from harness.sdks.npm import NpmBundleCache
from harness.timeline import Timeline

CLERK_UI_PACKAGE = "@clerk/ui"
# Steps and set-up that only the harness's own test page supports, with the reason.
PAGE_ONLY_SETUP = {"background_api": "the app page has no /api/me poller of the harness's; name the app's own API "
                                      "with --app-whoami instead"}


@dataclass
class RunApp:
    """What one run needs from the session's app."""

    front_door: FrontDoor
    init_script: str
    session: "AppSession"


if TYPE_CHECKING:  # the Clerk Backend API mock and GoTrue's state live in their adapters, imported when used
    from harness.sdks.clerk.backend_api import BackendApiMock
    from harness.sdks.supabase.gotrue import GoTrueState


class AppSession:
    """``AppSession(spec, sdk, cache).start()`` ... ``stop()``; one per session (see the module docstring)."""

    def __init__(self, spec: AppSpec, sdk: str, cache: NpmBundleCache) -> None:
        self.spec = spec.resolved()
        self.sdk = sdk
        self.cache = cache
        self.backend_api: BackendApiMock | None = None
        self.process: AppProcess | None = None
        self.url = ""
        self.clerk_ui_dist: Path | None = None
        self.supabase_secret = secrets.token_urlsafe(32)
        self.supabase_created_at = time.time() - 3600
        self.started_s: float | None = None
        self._runs = 0

    @property
    def upstream(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def start(self) -> "AppSession":
        spec = self.spec
        if spec.sdk and spec.sdk != self.sdk:
            raise HarnessError(f"--app-preset {spec.preset} is for {spec.sdk} scenarios, but these are {self.sdk}'s")
        if self.sdk == "clerk":
            self.clerk_ui_dist = self.cache.get(CLERK_UI_PACKAGE, spec.clerk_ui_version).dist
        try:
            if self.sdk == "clerk":
                from harness.sdks.clerk.backend_api import BackendApiMock

                self.backend_api = BackendApiMock(port=spec.backend_api_port)
                self.backend_api.start()
            port = str(free_port()) if any(PORT in s for s in self._templated()) else ""
            bapi = self.backend_api.url if self.backend_api else ""
            anon = self._supabase_state().anon_key
            fill = lambda s: s.replace(PORT, port).replace(BACKEND_API, bapi).replace(ANON_KEY, anon)  # noqa: E731
            self.url = fill(spec.url or "")
            env = {k: fill(v) for k, v in spec.env.items()}
            if answers(self.url):
                if not spec.reuse_existing_server:
                    raise HarnessError(f"something already answers at {self.url} (a port in use); stop it, or pass "
                                       "--reuse-existing-server to play against it")
            elif spec.command:
                cwd = Path(spec.cwd).expanduser() if spec.cwd else None
                self.process = AppProcess(fill(spec.command), self.url, cwd=cwd, env=env,
                                          timeout=spec.timeout).start()
                self.started_s = self.process.started_s
            else:
                raise HarnessError(f"no app answers at {self.url} and no --app-command was given to start one")
        except BaseException:
            self.stop()
            raise
        return self

    def _supabase_state(self) -> "GoTrueState":
        """The mock Supabase project every run of the session plays: one secret, so the app's anon key holds."""
        from harness.sdks.supabase.gotrue import GoTrueState

        return GoTrueState(ttl=60.0, jwt_secret=self.supabase_secret, created_at=self.supabase_created_at)

    def _templated(self) -> list[str]:
        return [self.spec.url or "", self.spec.command or "", *self.spec.env.values()]

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        if self.backend_api is not None:
            self.backend_api.stop()
            self.backend_api = None

    def unanswered(self) -> str:
        """The Backend API paths the mock could not answer this session, counted ("" for none)."""
        seen = self.backend_api.unhandled if self.backend_api is not None else []
        return ", ".join(f"{what} ({seen.count(what)}x)" for what in dict.fromkeys(seen))

    def problem(self) -> str | None:
        """Why the app can no longer serve runs (its process exited), with its output's last lines; None if fine."""
        process = self.process
        if process is None or process.exit_code is None:
            return None
        return f"the app under test exited (status {process.exit_code}): {process.tail() or '(no output)'}"

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "preset": self.spec.preset, "command": self.spec.command, "cwd": self.spec.cwd,
                "reused": self.process is None, "started_s": self.started_s, "whoami": self.spec.whoami}

    # -- per run ------------------------------------------------------------------------------------------------

    def for_run(self, sdk_adapter: Any, timeline: Timeline, sdk_dist: Path, sdk_file: str) -> RunApp:
        """Tune the run's adapter for the app (key id, project secret), attach it to the Backend API mock, and
        build its front door."""
        self._runs += 1
        if self.sdk == "clerk":
            sdk_adapter.state.issuer.key_id = f"ins_harness_{self._runs}_{secrets.token_hex(4)}"
            if self.backend_api is not None:
                self.backend_api.attach(sdk_adapter.state, timeline)
        elif self.sdk == "supabase":
            sdk_adapter.state.jwt_secret = self.supabase_secret
            sdk_adapter.state.created_at = self.supabase_created_at
        store = sdk_adapter.session_store
        door = FrontDoor(upstream=self.upstream, timeline=timeline, store=store,
                         bundles=Bundles(sdk_dist, sdk_file, self.clerk_ui_dist), whoami=self.spec.whoami,
                         observe_pages=sdk_adapter.page_carries_session and self.spec.server_view == "clerk-headers")
        return RunApp(door, script_for(self.sdk, self.spec.whoami), self)

    def release(self, sdk_adapter: Any) -> None:
        if self.backend_api is not None and self.sdk == "clerk":
            self.backend_api.detach(sdk_adapter.state)


def refuse_unsupported(scenario: Any) -> None:
    """A scenario whose set-up only the harness's own page supports is refused at load, with the reason."""
    setup = scenario.setup
    for key, reason in PAGE_ONLY_SETUP.items():
        if getattr(setup, key, None):
            raise HarnessError(f"{scenario.id}: setup.{key} cannot be played against an app: {reason}")
    if setup.backend not in (None,) and setup.backend != "clerk":
        raise HarnessError(f"{scenario.id}: setup.backend {setup.backend!r} cannot be played against an app: the "
                           "app's own server decides, and the harness observes it")
