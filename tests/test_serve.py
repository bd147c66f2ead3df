"""``harness serve``: reproducing the seed bugs by hand through the control panel's HTTP endpoints (Clerk and Supabase).

The panel's handlers run in their own thread and only queue commands; the test's main thread plays the part of the
command's main loop (``serve_forever``), exactly as ``harness serve`` does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import BUGGY, FIXED, ROOT

from harness.scenario.model import load_scenario
from harness.browser.driver import BrowserChoice
from harness.engine import RunOptions
from harness.engine.single import reproduce_command, run_scenario
from harness.scenario.steps import STEPS
from harness.serve import COMMANDS, ServeOptions, ServeSession


def call(base: str, path: str, post: bool = False) -> tuple[int, Any]:
    # A command comes from the panel's own page: its Origin is the panel's (harness/mock/guard.py).
    req = urllib.request.Request(base + path, method="POST" if post else "GET", headers={"Origin": base})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            body = resp.read().decode()
            return resp.status, json.loads(body) if resp.headers.get_content_type() == "application/json" else body
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read().decode())


def drive(session: ServeSession, script) -> dict[str, Any]:
    """Run ``script(base_url)`` in a client thread while this thread serves the session, as the command does."""
    out: dict[str, Any] = {}
    done = threading.Event()
    base = session.panel_url.rsplit("/__harness/", 1)[0]

    def client() -> None:
        try:
            out["value"] = script(base)
        except BaseException as err:  # re-raised on the test's thread
            out["error"] = err
        finally:
            done.set()

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    session.serve_forever(stop=done)
    thread.join(5)
    if "error" in out:
        raise out["error"]
    return out["value"]


def by_hand(base: str) -> dict[str, Any]:
    """What an engineer does in the panel to reproduce PR #7912: offline, make a refresh due, wait for the SDK's
    token attempt, online, reload."""
    status, page = call(base, "/__harness/panel")
    assert status == 200 and 'data-cmd="offline"' in page and 'data-cmd="revoke"' in page
    steps = {}
    for command in ("offline", "clear_token_cache", "wait_for_token", "online", "reload"):
        status, body = call(base, f"/__harness/do/{command}", post=True)
        assert status == 200 and body["ok"], body
        steps[command] = call(base, "/__harness/state")[1]
    status, body = call(base, "/__harness/do/no-such-button", post=True)
    assert status == 404 and "unknown command" in body["error"]
    return steps


@pytest.mark.parametrize("version, outcome", [(BUGGY, "reproduced"), (FIXED, "survived")])
def test_panel_reproduces_the_seed_bug_by_hand(version, outcome, chromium, bundle_cache, tmp_path):
    session = ServeSession(ServeOptions(version=version, browser=BrowserChoice(chromium, "emulated", "emulated"),
                                        run=RunOptions(reports_dir=tmp_path), cache=bundle_cache)).start()
    try:
        states = drive(session, by_hand)
        saved = session.save()
    finally:
        session.stop()

    offline, waited, final = states["offline"], states["wait_for_token"], states["reload"]
    assert offline["state"]["online"] is False and offline["state"]["cookies"]["__session"] is True
    assert final["state"]["online"] is True
    assert [s["name"] for s in final["steps"]] == ["signed_in", "offline", "clear_token_cache", "wait_for", "online",
                                                   "reload"]
    paths = [r["path"] for r in final["requests"]]
    # The sign-in load and the reload, both in the panel's request log; without __session (the bug) the reload is a
    # handshake through the Frontend API and the page again, as a real Clerk backend answers it.
    assert paths.count("/") == (3 if outcome == "reproduced" else 2)
    assert final["verdict"]["outcome"] == outcome, final["verdict"]["sentence"]
    if outcome == "reproduced":
        # The loss shows live: the cookie gone after the SDK's offline token attempt, then the server's view.
        assert waited["state"]["cookies"]["__session"] is False and waited["state"]["online"] is False
        assert final["first_loss"]["name"] == "__session" and final["first_loss"]["step"] == 4
        assert any("with a handshake through the Frontend API" in e["what"] for e in final["events"])
    else:
        assert waited["state"]["cookies"]["__session"] is True and final["first_loss"] is None
    # Tab actions are offered only where the browser can really do them.
    assert final["commands"]["hide"]["enabled"] is False and "--browser-mode" in final["commands"]["hide"]["note"]

    # The session is saved as a result folder with a report and a scenario file replaying it.
    folder = saved.parent
    assert saved.name == "report.html" and (folder / "result.json").exists() and not (folder / "INCOMPLETE").exists()
    assert (folder / "step-06-reload.png").read_bytes().startswith(b"\x89PNG")
    result = json.loads((folder / "result.json").read_text())
    assert result["outcome"] == outcome and result["expected"] is None
    # The runner's own reproduce command: the replay file, quoted, watched.
    assert result["reproduce"] == reproduce_command(load_scenario(folder / "scenario.yaml"), version)
    assert f"--sdk-version {version} --headed --slowmo 250" in result["reproduce"]
    replay = load_scenario(folder / "scenario.yaml")
    assert replay.expected(version) == outcome
    assert [s.name for s in replay.steps if s.name != "wait"] == ["signed_in", "offline", "clear_token_cache",
                                                                   "wait_for", "online", "reload"]
    if outcome == "reproduced":  # the replay is a scripted run of what was done by hand, and it agrees
        again = run_scenario(replay, version, RunOptions(reports_dir=None, trace="off"), cache=bundle_cache)
        assert again.outcome == outcome and again.matches_expectation, again.sentence


SUPABASE_BUGGY, SUPABASE_FIXED = "2.26.0", "2.27.0"
STORE_KEY = "sb-127-auth-token"


def supabase_by_hand(base: str) -> dict[str, Any]:
    """The Supabase founding bug by hand: to another tab, offline, back (a refresh fails offline), wait for the
    SDK's attempt, online, reload. Then a fault button, which must arm on the SDK's own token path."""
    steps = {"start": call(base, "/__harness/state")[1]}
    for command in ("hide", "offline", "show", "wait_for_token", "online", "reload"):
        status, body = call(base, f"/__harness/do/{command}", post=True)
        assert status == 200 and body["ok"], (command, body)
        steps[command] = call(base, "/__harness/state")[1]
    status, body = call(base, "/__harness/do/clear_token_cache", post=True)
    assert status == 409 and "keeps no token cache" in body["error"], body
    status, body = call(base, "/__harness/do/drop", post=True)
    assert status == 200 and body["ok"], body
    steps["drop"] = call(base, "/__harness/state")[1]
    assert call(base, "/__harness/do/release", post=True)[0] == 200
    return steps


@pytest.mark.parametrize("version, outcome", [(SUPABASE_BUGGY, "reproduced"), (SUPABASE_FIXED, "survived")])
def test_panel_serves_supabase_and_shows_its_localstorage_session(version, outcome, browser_choice, bundle_cache,
                                                                  tmp_path):
    if browser_choice.mode == "emulated":
        pytest.skip("hide/show need the real or simulated tab mode")
    session = ServeSession(ServeOptions(sdk="supabase", version=version, browser=browser_choice,
                                        run=RunOptions(reports_dir=tmp_path), cache=bundle_cache)).start()
    try:
        states = drive(session, supabase_by_hand)
        saved = session.save()
    finally:
        session.stop()

    start, waited, final = states["start"], states["wait_for_token"], states["reload"]
    assert start["sdk"] == "@supabase/supabase-js" and start["version"] == version
    # The panel shows the adapter's store, a localStorage entry, and no cookie.
    assert start["store"]["kind"] == "localStorage" and start["store"]["names"] == [STORE_KEY]
    assert start["store"]["present"] == {STORE_KEY: True} and start["store_names"] == [STORE_KEY]
    assert start["commands"]["clear_token_cache"]["enabled"] is False
    assert states["offline"]["state"]["online"] is False
    assert waited["store"]["present"][STORE_KEY] is (outcome == "survived")
    assert final["verdict"]["outcome"] == outcome, final["verdict"]["sentence"]
    assert any(f.get("path") == "*/auth/v1/token" and f.get("kind") == "drop" for f in states["drop"]["faults"])
    if outcome == "reproduced":
        assert final["first_loss"]["name"] == STORE_KEY and final["first_loss"]["step"] == 4

    # Saved: a result folder whose scenario replays on the same SDK with `harness run`, and agrees.
    folder = saved.parent
    result = json.loads((folder / "result.json").read_text())
    assert result["sdk"] == "@supabase/supabase-js" and result["outcome"] == outcome
    replay = load_scenario(folder / "scenario.yaml")
    assert replay.setup.sdk == "supabase" and replay.setup.token_ttl == 8 and replay.expected(version) == outcome
    assert [s.name for s in replay.steps if s.name != "wait"] == ["signed_in", "hide", "offline", "show", "wait_for",
                                                                   "online", "reload", "fault", "release"]
    assert f"--sdk-version {version}" in result["reproduce"]
    if outcome == "reproduced":
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(folder / "scenario.yaml"),
                               "--no-trace", "--reports", str(tmp_path / "replay"), "--jobs", "1"],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0 and "(as expected)" in proc.stdout, proc.stdout + proc.stderr


def test_panel_hides_and_shows_the_tab_with_real_tabs(bundle_cache, tmp_path):
    from harness.browser.driver import choose_browser

    choice = choose_browser("real")
    if choice.mode != "real":
        pytest.skip(choice.note or "no full Chromium for real tabs")
    session = ServeSession(ServeOptions(version=FIXED, browser=choice, run=RunOptions(reports_dir=None),
                                        cache=bundle_cache)).start()

    def script(base: str) -> list[dict[str, Any]]:
        seen = []
        for command in ("hide", "show"):
            status, body = call(base, f"/__harness/do/{command}", post=True)
            assert status == 200 and body["ok"], body
            seen.append(call(base, "/__harness/state")[1])
        return seen

    try:
        hidden, shown = drive(session, script)
    finally:
        session.stop()
    assert hidden["commands"]["hide"]["enabled"] is True
    assert (hidden["state"]["visibility"], hidden["state"]["focused"]) == ("hidden", False)
    assert shown["state"]["visibility"] == "visible"
    assert any("visibility → hidden" in e["what"] for e in shown["events"])


def test_every_panel_command_is_a_registered_step():
    # serve runs each button as a scenario step, with no other path: a command without a step would be a bug.
    assert {name: cmd.step for name, cmd in COMMANDS.items() if cmd.step not in STEPS} == {}


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="walks /proc for the browser's processes")
@pytest.mark.parametrize("how, status, sdk", [
    ("SIGINT to the group", 130, ["--clerk-version", FIXED]),  # Ctrl-C reaches the whole foreground group
    ("SIGTERM to the process", 143, ["--clerk-version", FIXED]),  # what `timeout`, a CI runner, a container stop send
    ("SIGTERM to the process", 143, ["--sdk", "supabase"]),  # its default version: the founding bug's
])
def test_a_stop_signal_stops_the_browser_and_saves_the_session(how, status, sdk, chromium, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", *sdk, "--chromium", str(chromium.path),
         "--reports", str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)  # its own process group, as a terminal's foreground job
    try:
        lines = []
        for line in proc.stdout:  # blocks until the command prints its URLs
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        assert any(line.startswith("panel:") for line in lines), (lines, proc.stderr.read())
        package = "@supabase/supabase-js 2.26.0" if "supabase" in sdk else f"@clerk/clerk-js {FIXED}"
        assert f"({package}, signed in)" in lines[0], lines
        browser = {p for p in _descendants(proc.pid) if "chrom" in Path(f"/proc/{p}/cmdline").read_bytes().decode(
            errors="replace")}
        assert browser, "no browser process under harness serve"
        if how.startswith("SIGINT"):
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == status, err
    assert "report:" in out and "Traceback" not in err
    # Saved exactly as for Ctrl-C: a finished result folder, its report, and the scenario that replays it.
    [folder] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert out.strip().endswith(str(folder / "report.html"))
    assert {"result.json", "report.html", "scenario.yaml"} <= {p.name for p in folder.iterdir()}
    assert not (folder / "INCOMPLETE").exists()
    replay = load_scenario(folder / "scenario.yaml")
    assert [s.name for s in replay.steps] == ["signed_in"]
    assert replay.setup.sdk == ("supabase" if "supabase" in sdk else "clerk")
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in browser) and time.monotonic() < deadline:
        time.sleep(0.1)  # process exit is asynchronous: await it
    assert not [p for p in browser if _alive(p)], f"Chromium processes left behind after {how}"


def test_the_command_line_gives_back_the_callers_sigint_handler(tmp_path):
    from harness.cli import main

    def mine(signum: int, frame: Any) -> None:
        pass

    previous = signal.signal(signal.SIGINT, mine)
    try:
        assert main(["report", str(tmp_path / "nothing-here")]) == 2
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, previous)


FIREBASE_BUGGY, FIREBASE_FIXED = "9.18.0", "9.19.0"


def firebase_by_hand(base: str) -> dict[str, Any]:
    """The Firebase founding bug by hand (firebase-js-sdk#7118): offline, reload (the app opens from its service
    worker and the SDK's start-up lookup fails), online, reload."""
    steps = {"start": call(base, "/__harness/state")[1]}
    for command in ("offline", "reload", "online", "reload"):
        status, body = call(base, f"/__harness/do/{command}", post=True)
        assert status == 200 and body["ok"], (command, body)
        steps[command] = call(base, "/__harness/state")[1]
    return steps


@pytest.mark.parametrize("version, outcome", [(FIREBASE_BUGGY, "reproduced"), (FIREBASE_FIXED, "survived")])
def test_panel_serves_firebase_and_shows_its_indexeddb_session(version, outcome, browser_choice, bundle_cache,
                                                               tmp_path):
    from harness.sdks.firebase import STORAGE_KEY as FIREBASE_KEY

    session = ServeSession(ServeOptions(sdk="firebase", version=version, browser=browser_choice,
                                        run=RunOptions(reports_dir=tmp_path), cache=bundle_cache)).start()
    try:
        states = drive(session, firebase_by_hand)
    finally:
        session.stop()
    start, final = states["start"], states["reload"]
    assert start["sdk"] == "firebase" and start["sdk_name"] == "firebase"
    assert start["store"]["kind"] == "indexedDB" and start["store"]["names"] == [FIREBASE_KEY]
    assert start["store"]["present"] == {FIREBASE_KEY: True}
    assert final["verdict"]["outcome"] == outcome, final["verdict"]["sentence"]
