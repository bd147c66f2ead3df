"""What the user says about the app under test, validated at load: an ``app:`` block or ``--app-*`` options.

The keys are Playwright's ``webServer`` keys (``command``, ``url``, ``cwd``, ``env``, ``timeout``,
``reuse_existing_server``) plus the harness's own: ``preset`` (fills the environment that points a known kind of
app at the mocks), ``whoami`` (a path of the app whose answer, 200 or 401, is the app server's view of the user) and
``clerk_ui_version`` (the ``@clerk/ui`` bundle a Core 3 Clerk app loads).

``{app_port}`` in the command, the URL or an env value is replaced by a free loopback port picked at start;
``{backend_api}`` in an env value by the URL of the session's Backend API mock, ``{supabase_anon_key}`` by the
mock Supabase project's public key. Options given on the command line
win over the scenario's block, key by key; ``--app-env`` adds to (and overrides) the block's ``env``.

The options themselves are defined once, in :mod:`harness.app.options` (kept free of pydantic: the CLI imports it
before it can handle a signal).
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.app.options import DEFAULT_TIMEOUT_S, overrides
from harness.errors import HarnessError

PORT = "{app_port}"
BACKEND_API = "{backend_api}"
ANON_KEY = "{supabase_anon_key}"

SessionStoreHint = str


class Preset(BaseModel):
    """A kind of app the harness knows how to point at its mocks."""

    model_config = ConfigDict(frozen=True)

    name: str
    sdk: str  # the adapter whose scenarios it plays
    description: str
    command: str | None  # None: the user gives it
    url: str | None
    env: dict[str, str]
    whoami: str | None = None
    server_view: Literal["clerk-headers", "none"] = "none"
    # the app page must expose the SDK's client for steps that read the SDK's view (`window.<global>`)
    sdk_global: str


def _presets() -> dict[str, Preset]:
    from harness.sdks.clerk import PUBLISHABLE_KEY
    from harness.sdks.clerk.fapi import PROXY_PATH

    clerk_env = {
        "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY": PUBLISHABLE_KEY, "CLERK_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "CLERK_SECRET_KEY": "sk_live_harness_mock_secret", "CLERK_API_URL": BACKEND_API,
        "NEXT_PUBLIC_CLERK_PROXY_URL": PROXY_PATH, "NEXT_PUBLIC_CLERK_TELEMETRY_DISABLED": "1",
        "NEXT_PUBLIC_CLERK_KEYLESS_DISABLED": "1", "NEXT_TELEMETRY_DISABLED": "1",
    }
    return {p.name: p for p in (
        Preset(name="nextjs-clerk", sdk="clerk",
               description="Next.js with @clerk/nextjs (Core 3): the FAPI through the same-origin proxy /__clerk, "
                           "the Backend API at the harness's mock",
               # -H localhost, not 127.0.0.1: Clerk's same-URL rewrite fails on an IP (vercel/next.js#94745)
               command=f"npm run dev -- -H localhost -p {PORT}", url=f"http://localhost:{PORT}/",
               env=clerk_env, sdk_global="window.Clerk", server_view="clerk-headers"),
        Preset(name="clerk", sdk="clerk",
               description="any other app on Clerk: the mock's keys and URLs under the names Next.js, Vite and plain "
                           "servers read; give the command and URL yourself",
               command=None, url=None,
               env={**clerk_env, "VITE_CLERK_PUBLISHABLE_KEY": PUBLISHABLE_KEY, "VITE_CLERK_PROXY_URL": PROXY_PATH,
                    "CLERK_PROXY_URL": PROXY_PATH, "CLERK_JS_URL": "/__harness/sdk/clerk.browser.js",
                    "VITE_CLERK_JS_URL": "/__harness/sdk/clerk.browser.js"},
               sdk_global="window.Clerk"),
        Preset(name="supabase-spa", sdk="supabase",
               description="a single-page app on supabase-js: SUPABASE_URL is the page's own origin (the front "
                           "door serves GoTrue under /auth/v1), the bundle from SUPABASE_JS_URL",
               command=f"npm start -- --port {PORT}", url=f"http://127.0.0.1:{PORT}/",
               env={"SUPABASE_URL": "same-origin", "SUPABASE_ANON_KEY": ANON_KEY,
                    "SUPABASE_JS_URL": "/__harness/sdk/supabase.js"},
               whoami="/api/me", sdk_global="window.__harnessSupabase"),
    )}


def presets() -> dict[str, Preset]:
    return _presets()


class AppSpec(BaseModel):
    """The app under test, as a scenario's ``setup.app`` block holds it (Playwright ``webServer`` keys)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str | None = Field(None, description="the shell command that starts the app (in its own process "
                                                  "group); {app_port} is a free port")
    url: str | None = Field(None, description="the app's URL, polled until it answers 2xx, 3xx or 400-403")
    cwd: str | None = Field(None, description="the folder the command runs in (default: the current one)")
    env: dict[str, str] = Field(default_factory=dict, description="extra environment (over the preset's)")
    timeout: float = Field(DEFAULT_TIMEOUT_S, gt=0, description="seconds to wait for the URL to answer")
    reuse_existing_server: bool = Field(False, description="use a server already answering at the URL (then the "
                                                         "command is not run, and the env must already be its)")
    preset: str | None = Field(None, description="nextjs-clerk, supabase-spa, or clerk (env only): fills command, "
                                                 "url, env, whoami")
    whoami: str | None = Field(None, description="a path of the app: 200 = its server sees the user, 401 = not")
    server_view: Literal["clerk-headers", "none"] | None = Field(
        None, description="how page loads show the app server's view: clerk-headers (Clerk's middleware: "
                          "x-clerk-auth-status, handshake redirects; a page without them is signed in), or none "
                          "(only the whoami path). Default: the preset's, else none")
    clerk_ui_version: str = Field("1.36.0", description="the @clerk/ui bundle a Core 3 Clerk app loads")
    backend_api_port: int = Field(0, ge=0, le=65535, description="port of the Backend API mock (0: any free one); "
                                  "fix it for an app started by hand (reuse_existing_server) with CLERK_API_URL "
                                  "pointing there")

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in presets():
            raise ValueError(f"unknown preset {value!r}; one of: {', '.join(sorted(presets()))}")
        return value

    @field_validator("whoami")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError(f"whoami is a path of the app starting with /, not {value!r}")
        return value

    def resolved(self) -> "AppSpec":
        """With the preset's values filled in where the spec leaves them out; refuses a spec without a URL."""
        preset = presets()[self.preset] if self.preset else None
        filled = self.model_copy(update={
            "command": self.command or (preset.command if preset else None),
            "url": self.url or (preset.url if preset else None),
            "env": {**(preset.env if preset else {}), **self.env},
            "whoami": self.whoami or (preset.whoami if preset else None),
            "server_view": self.server_view or (preset.server_view if preset else "none")})
        if not filled.url:
            raise HarnessError("the app under test needs a URL to wait for: give --app-url (or app.url), or a "
                               "--app-preset")
        if not filled.command and not filled.reuse_existing_server:
            raise HarnessError("the app under test needs a command to start it (--app-command, app.command), or "
                               "--reuse-existing-server for one already running")
        return filled

    @property
    def sdk(self) -> str | None:
        return presets()[self.preset].sdk if self.preset else None

    def merged(self, over: Mapping[str, Any]) -> "AppSpec":
        """This spec with ``over``'s keys (command-line options) winning; ``env`` is merged key by key."""
        update = {k: v for k, v in over.items() if v is not None and k != "env"}
        env = {**self.env, **dict(over.get("env") or {})}
        return AppSpec.model_validate({**self.model_dump(), **update, "env": env})


def spec_from_options(get: Callable[[str], Any]) -> AppSpec | None:
    """The app the options name (None: no app options given)."""
    found = overrides(get)
    if not found:
        return None
    try:
        return AppSpec().merged(found)
    except ValueError as err:  # pydantic's, e.g. an unknown preset
        raise HarnessError(f"app options: {_first_error(err)}") from None


def _first_error(err: ValueError) -> str:
    errors = getattr(err, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first.get("msg", err)).removeprefix("Value error, ")
    return str(err)
