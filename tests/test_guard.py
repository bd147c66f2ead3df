"""The mock and the control panel let no one in: forged ``Host`` (DNS rebinding), cross-site ``Origin`` (a plain form
POST from another page) and a missing ``Origin`` are refused, while the harness's own pages keep working -- checked
with hand-made requests and with a real Chromium doing the attacks itself."""

from __future__ import annotations

import http.client
import http.server
import threading
from concurrent.futures import Future
from typing import Any, Iterator

import pytest
from playwright.sync_api import sync_playwright

from harness.errors import HarnessError
from harness.mock.guard import TOKEN_HEADER
from harness.mock.server import MockAuthServer
from harness.mock.threaded import ThreadedApp
from harness.sdks.clerk import ClerkSdk
from harness.sdks.clerk.fapi import PROXY_PATH, SESSION_ID
from harness.serve import PANEL_PATH, _PanelServer
from harness.timeline import Timeline

TOKENS = f"{PROXY_PATH}/v1/client/sessions/{SESSION_ID}/tokens"


def ask(server: ThreadedApp, method: str, path: str, **headers: str) -> tuple[int, str]:
    """One request to ``server`` with exactly these headers (``Host`` included when given)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(method, path, body=b"" if method == "POST" else None, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


@pytest.fixture
def mock() -> Iterator[MockAuthServer]:
    server = MockAuthServer(Timeline(), ClerkSdk(), bundle_dist=None, sdk_version="6.1.0").start()
    try:
        yield server
    finally:
        server.stop()


class StubSession:
    """What the panel asks of a serve session: commands are recorded, never run."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def submit(self, name: str) -> Future:
        self.commands.append(name)
        fut: Future = Future()
        fut.set_result({"done": name})
        return fut

    def state(self) -> dict[str, Any]:
        return {}


@pytest.fixture
def panel() -> Iterator[tuple[_PanelServer, StubSession]]:
    session = StubSession()
    server = _PanelServer(session, 0)  # type: ignore[arg-type]  # the stub has the two methods the panel calls
    server.start()
    try:
        yield server, session
    finally:
        server.stop()


# -- the mock ------------------------------------------------------------------------------------------------------

def test_the_mock_refuses_a_host_it_does_not_serve_and_records_it(mock):
    where = f"127.0.0.1:{mock.port}"
    assert ask(mock, "GET", "/", Host=where)[0] == 200
    assert ask(mock, "GET", "/", Host=f"localhost:{mock.port}")[0] == 200
    for forged in (f"rebind.example:{mock.port}", "127.0.0.1", f"127.0.0.1:{mock.port + 1}", ""):
        status, body = ask(mock, "GET", "/api/me", Host=forged)
        assert status == 403 and body.startswith("refused: Host") and where in body, (forged, body)
    kinds = [(e.kind, e.data.get("path")) for e in mock.timeline.events() if e.kind.startswith("request")]
    # A refused request is on the timeline as such, and never as a request the app backend answered.
    assert kinds.count(("request", "/")) == 2 and ("request", "/api/me") not in kinds
    assert kinds.count(("request.refused", "/api/me")) == 4


def test_the_mock_refuses_a_state_change_from_another_site(mock):
    host = f"127.0.0.1:{mock.port}"
    status, body = ask(mock, "POST", TOKENS, Host=host, Origin="https://evil.example")
    assert status == 403 and "from 'https://evil.example' is refused" in body
    assert ask(mock, "POST", TOKENS, Host=host, Origin="null")[0] == 403  # a sandboxed or opaque origin
    assert ask(mock, "POST", TOKENS, Host=host, Origin=f"http://{host}")[0] == 200  # the SDK's own request
    assert ask(mock, "POST", TOKENS, Host=host)[0] == 200  # not a browser: no Origin, no cross-site risk
    assert len(mock.timeline.events("token.minted")) == 2, "a refused request minted a token"


def test_the_check_is_against_the_address_actually_served():
    # Parallel runs may each take their own loopback address; a server on 127.0.0.2 is not reached as 127.0.0.1.
    server = MockAuthServer(Timeline(), ClerkSdk(), bundle_dist=None, sdk_version="6.1.0", host="127.0.0.2",
                            served_as=("app.test",)).start()
    try:
        assert ask(server, "GET", "/", Host=f"127.0.0.2:{server.port}")[0] == 200
        assert ask(server, "GET", "/", Host=f"app.test:{server.port}")[0] == 200  # a name it was told it has
        assert ask(server, "GET", "/", Host=f"127.0.0.1:{server.port}")[0] == 403
        assert ask(server, "GET", "/", Host=f"localhost:{server.port}")[0] == 403  # localhost is 127.0.0.1
    finally:
        server.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.org", "::"])
def test_servers_listen_on_loopback_only(host):
    with pytest.raises(HarnessError, match="only listens on a loopback address"):
        MockAuthServer(Timeline(), ClerkSdk(), bundle_dist=None, sdk_version="6.1.0", host=host)


# -- the panel -----------------------------------------------------------------------------------------------------

def test_the_panel_takes_commands_from_its_own_page_only(panel):
    server, session = panel
    host, own = f"127.0.0.1:{server.port}", f"http://127.0.0.1:{server.port}"
    do = "/__harness/do/offline"
    refused = {
        "a cross-site form POST": dict(Host=host, Origin="https://evil.example"),
        "a missing Origin": dict(Host=host),
        "an opaque Origin": dict(Host=host, Origin="null"),
        "a wrong token": dict(Host=host, **{TOKEN_HEADER: "guessed"}),
        "a rebinding Host with its own Origin": dict(Host=f"rebind.example:{server.port}",
                                                     Origin=f"http://rebind.example:{server.port}"),
        "another port's Origin": dict(Host=host, Origin=f"http://127.0.0.1:{server.port + 1}"),
    }
    for what, headers in refused.items():
        status, body = ask(server, "POST", do, **headers)
        assert status == 403 and body.startswith("refused:"), (what, status, body)
    assert session.commands == [], "a refused request reached the session"
    assert ask(server, "POST", do, Host=host, Origin=own)[0] == 200
    assert ask(server, "POST", do, Host=host, **{TOKEN_HEADER: server.token})[0] == 200
    assert session.commands == ["offline", "offline"]
    # Reads need the right Host too: a rebinding page cannot read the panel (nor the token in it).
    assert ask(server, "GET", PANEL_PATH, Host=f"rebind.example:{server.port}")[0] == 403
    status, page = ask(server, "GET", PANEL_PATH, Host=host)
    assert status == 200 and server.token in page and "__HARNESS_TOKEN__" not in page


class _AttackerPage(http.server.BaseHTTPRequestHandler):
    """Another site's page: a plain form that posts a command to the panel."""

    target = ""

    def do_GET(self) -> None:
        body = (f'<form method="post" action="{self.target}"><button>win a prize</button></form>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_real_browser_uses_the_panel_and_cannot_be_turned_against_it(panel, chromium):
    server, session = panel
    own = f"http://127.0.0.1:{server.port}"
    _AttackerPage.target = f"{own}/__harness/do/revoke"
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AttackerPage)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(chromium.path), args=[
                # A DNS-rebinding name: resolves to the panel's address, as an attacker's DNS would make it.
                "--host-resolver-rules=MAP rebind.example 127.0.0.1"])
            try:
                page = browser.new_page()
                # The panel's own page: a button press reaches the session (its Origin and its token).
                page.goto(own + PANEL_PATH)
                with page.expect_response(lambda r: "/__harness/do/" in r.url) as answer:
                    page.click('button[data-cmd="offline"]')
                assert answer.value.status == 200 and session.commands == ["offline"]
                # Another site's form, submitted by the user: the browser sends that site's Origin; refused.
                page.goto(f"http://127.0.0.1:{attacker.server_address[1]}/")
                with page.expect_navigation() as nav:
                    page.click("button")
                assert nav.value.status == 403 and "refused" in page.content()
                # A rebinding page: the browser reaches the panel under the attacker's name; refused.
                assert page.goto(f"http://rebind.example:{server.port}{PANEL_PATH}").status == 403
                status = page.evaluate("async () => (await fetch('/__harness/do/revoke', {method: 'POST'})).status")
                assert status == 403
            finally:
                browser.close()
    finally:
        attacker.shutdown()
        attacker.server_close()
    assert session.commands == ["offline"]
