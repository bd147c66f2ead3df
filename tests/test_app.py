"""The app under test (harness/app/): bad settings are one line and exit 2, the app never outlives the harness
(normal end, SIGTERM, its own crash), the Backend API mock's answers, and a scenario an app cannot play refused.

The app here is a third one, neither example: ``tests/data/tiny_app.py``, a plain page loading clerk-js through
the front door. The examples' own runs are in tests/test_example_apps.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest


from harness.sdks.clerk.backend_api import BackendApiMock
from harness.sdks.clerk import ClerkSdk
from harness.timeline import Timeline

ROOT = Path(__file__).resolve().parents[1]
TINY_APP = ROOT / "tests" / "data" / "tiny_app.py"
TINY = ["--app-preset", "clerk", "--app-command", f"{sys.executable} {TINY_APP} {{app_port}}",
        "--app-url", "http://127.0.0.1:{app_port}/"]


def harness(*args: str, cwd: Path, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def gone(pid: int, within: float = 10.0) -> bool:
    until = time.monotonic() + within
    while time.monotonic() < until:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


# -- bad settings: one line, exit 2, nothing left running ----------------------------------------------------------

def test_command_that_exits(tmp_path):
    proc = harness("run", "offline-refresh-due", "--sdk-version", "6.1.0", "--app-command", "echo boom >&2; exit 7",
                   "--app-url", "http://127.0.0.1:{app_port}/", cwd=tmp_path)
    one_line_error(proc, "exited (status 7)", "boom", "--app-command")
    assert not (tmp_path / "reports").exists()


def test_url_that_never_answers(tmp_path):
    pidfile = tmp_path / "pid"
    proc = harness("run", "offline-refresh-due", "--sdk-version", "6.1.0", "--app-command",
                   f"echo $$ > {pidfile}; exec sleep 60", "--app-url", "http://127.0.0.1:{app_port}/",
                   "--app-timeout", "2", cwd=tmp_path)
    one_line_error(proc, "did not answer", "within 2 s", "--app-timeout")
    assert gone(int(pidfile.read_text())), "the app command outlived the harness"


def test_port_in_use(tmp_path):
    class Ok(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        proc = harness("run", "offline-refresh-due", "--sdk-version", "6.1.0", "--app-command", "sleep 60",
                       "--app-url", url, cwd=tmp_path)
        one_line_error(proc, "already answers", url, "--reuse-existing-server")
    finally:
        server.shutdown()


def test_unknown_preset(tmp_path):
    proc = harness("run", "offline-refresh-due", "--app-preset", "rails", cwd=tmp_path)
    one_line_error(proc, "unknown preset 'rails'", "nextjs-clerk")


def test_page_only_setup_refused_at_load(tmp_path):
    scenario = tmp_path / "polls.yaml"
    scenario.write_text("id: polls\ntitle: polls\nsetup: {background_api: true}\nsteps: [signed_in]\n"
                        "verdicts: {'>=0.0.0': survived}\n")
    proc = harness("run", str(scenario), "--sdk-version", "6.1.0", *TINY, cwd=tmp_path)
    one_line_error(proc, "setup.background_api cannot be played against an app", "--app-whoami")


# -- the app's life: started once, judged on its origin, stopped on every exit path ----------------------------------

def test_tiny_app_plays_and_is_stopped(tmp_path):
    pidfile = tmp_path / "pid"
    proc = harness("run", "offline-refresh-due", "--sdk-version", "6.0.0", "--sdk-version", "6.1.0", "--jobs", "2",
                   "--no-trace", *TINY, cwd=tmp_path, env={"TINY_APP_PIDFILE": str(pidfile)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6.0.0  reproduced" in proc.stdout and "6.1.0  survived" in proc.stdout, proc.stdout
    assert gone(int(pidfile.read_text())), "the app outlived the harness"
    result = json.loads(next((tmp_path / "reports").glob("*-6.0.0/result.json")).read_text())
    assert "observed from the app" in result["sentence"]
    assert result["events"][0]  # judged from the timeline as ever
    assert any(e["kind"] == "server.backend" and e["data"]["backend"] == "app" for e in result["events"])


def test_sigterm_stops_the_app(tmp_path):
    pidfile = tmp_path / "pid"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "offline-refresh-due", "--sdk-version",
                             "6.1.0", "--no-trace", *TINY], cwd=tmp_path, env={**os.environ,
                            "TINY_APP_PIDFILE": str(pidfile)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        until = time.monotonic() + 120
        while not pidfile.exists() and time.monotonic() < until:
            time.sleep(0.1)
        time.sleep(3)  # the run is under way
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert gone(int(pidfile.read_text())), "the app outlived a SIGTERM of the harness"


def test_app_crash_is_an_error_with_its_output(tmp_path):
    pidfile = tmp_path / "pid"
    proc = harness("run", "offline-refresh-due", "--sdk-version", "6.1.0", "--no-trace", *TINY, cwd=tmp_path,
                   env={"TINY_APP_PIDFILE": str(pidfile), "TINY_APP_EXIT_AFTER": "1"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    result = json.loads(next((tmp_path / "reports").glob("*-6.1.0/result.json")).read_text())
    assert result["outcome"] == "error"
    assert "the app under test exited (status 3)" in result["sentence"]
    assert "exiting on purpose" in result["sentence"]


# -- the Backend API mock --------------------------------------------------------------------------------------------

def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def test_backend_api_mock():
    runs = [(ClerkSdk(), Timeline()) for _ in range(2)]
    for n, (sdk, _) in enumerate(runs):
        sdk.state.issuer.key_id = f"ins_run{n}"
    with BackendApiMock() as bapi:
        for sdk, timeline in runs:
            bapi.attach(sdk.state, timeline)
        status, ctype, body = _get(bapi.url + "/v1/jwks")
        assert (status, ctype) == (200, "application/json")  # exactly: @clerk/backend parses nothing else
        assert sorted(k["kid"] for k in json.loads(body)["keys"]) == ["ins_run0", "ins_run1"]
        sdk, timeline = runs[1]
        sdk.state.handshakes["n1"] = sdk.state.issuer.mint("http://127.0.0.1:1")
        status, ctype, body = _get(bapi.url + "/v1/clients/handshake_payload?nonce=n1")
        assert (status, ctype) == (200, "application/json")
        directives = json.loads(body)["directives"]
        assert any(d.startswith("__session=ey") for d in directives)
        assert any(d.startswith("__client_uat=") for d in directives)
        assert _get(bapi.url + "/v1/clients/handshake_payload?nonce=n1")[0] == 404  # a nonce is used once
        status, _, _ = _get(bapi.url + "/v1/organizations")
        assert status == 501
        assert bapi.unhandled == ["GET /v1/organizations"]
        assert any(e.kind == "mock.unhandled" for e in timeline.events())


def test_free_port_helper_binds_loopback():
    from harness.app.process import free_port

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_docs_name_every_option_and_key():
    from harness.app.options import APP_OPTIONS
    from harness.app.spec import AppSpec

    docs = (ROOT / "docs" / "your-app.md").read_text()
    for flag, _ in APP_OPTIONS:
        assert f"`{flag}" in docs, f"docs/your-app.md does not explain {flag}"
    for key in AppSpec.model_fields:
        assert f"`{key}`" in docs, f"docs/your-app.md does not explain the app: key {key}"


# -- the front door, without a browser -------------------------------------------------------------------------------

class _Upstream:
    """A stand-in app: a page that signs out (Clerk's debug headers and a cookie removal), and a WebSocket echo."""

    def __init__(self) -> None:
        from aiohttp import web

        from harness.mock.threaded import ThreadedApp

        self.hits: list[str] = []
        hits = self.hits

        async def page(request: web.Request) -> web.StreamResponse:
            hits.append(request.headers.get("Host", ""))
            response = web.Response(text="page", headers={"x-clerk-auth-status": "signed-out",
                                                          "x-clerk-auth-reason": "session-token-expired"})
            response.del_cookie("__session", path="/")
            return response

        async def echo(request: web.Request) -> web.StreamResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            async for msg in ws:
                await ws.send_str("echo " + msg.data)
            return ws

        class App(ThreadedApp):
            def build_app(self) -> web.Application:
                app = web.Application()
                app.add_routes([web.get("/", page), web.get("/ws", echo)])
                return app

            def guard(self):  # the app answers whatever Host the front door keeps
                from harness.mock.guard import Guard

                class Open(Guard):
                    def refusal(self, request):  # noqa: ANN001
                        return None
                return Open(self)

        self.server = App()


def test_front_door_proxies_observes_and_guards(tmp_path):
    import asyncio

    import aiohttp

    from harness.app.front_door import Bundles, FrontDoor
    from harness.mock.server import MockAuthServer

    upstream = _Upstream()
    sdk = ClerkSdk()
    timeline = Timeline()
    with upstream.server:
        door = FrontDoor(upstream=upstream.server.url, timeline=timeline, store=sdk.session_store,
                         bundles=Bundles(tmp_path, "clerk.browser.js"))
        (tmp_path / "clerk.browser.js").write_text("// the run's bundle")
        with MockAuthServer(timeline, sdk, bundle_dist=None, sdk_version="6.1.0", front_door=door) as mock:
            request = urllib.request.Request(mock.url + "/", headers={"Accept": "text/html",
                                                                      "Cookie": "__session=old"})
            with urllib.request.urlopen(request, timeout=10) as r:
                assert r.read() == b"page"
            assert upstream.hits == [f"127.0.0.1:{mock.port}"]  # Host kept: the app builds URLs for the front door
            view = timeline.events("server.view")[-1].data
            assert (view["backend"], view["signed_in"], view["reason"]) == ("app", False, "session-token-expired")
            cookie = timeline.events("cookie")[-1].data
            assert (cookie["name"], cookie["op"], cookie["via"]) == ("__session", "removed", "Set-Cookie")
            assert _get(mock.url + "/__clerk/npm/@clerk/clerk-js@6/dist/clerk.browser.js")[2] == b"// the run's bundle"
            foreign = urllib.request.Request(mock.url + "/", headers={"Host": "evil.test"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(foreign, timeout=10)
            assert refused.value.code == 403 and len(upstream.hits) == 1  # refused before any proxying

            async def ws_round_trip() -> str:
                async with aiohttp.ClientSession() as session:
                    async with session.ws_connect(mock.url.replace("http", "ws") + "/ws") as ws:
                        await ws.send_str("hi")
                        return (await ws.receive()).data

            assert asyncio.run(ws_round_trip()) == "echo hi"
