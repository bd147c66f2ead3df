"""The Supabase scenario library (scenarios/supabase/), without a browser: every file is a Supabase scenario that
says where it comes from, claims an outcome on both sides of the fix (supabase-js 2.26.0 and 2.27.0), and the
library holds a bug scenario, a negative control and a positive control. The runs themselves are the pytest items
collected from scenarios/supabase/*.yaml, on both versions: they prove both directions."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.scenario.model import load_scenario
from harness.sdks import adapter_class
from harness.sdks.supabase import KNOWN_BUGGY, KNOWN_FIXED, STORAGE_KEY

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "scenarios" / "supabase").glob("*.yaml"))

REQUIRED = {
    "supabase-offline-tab-visible",          # the founding case: back to the tab while offline
    "supabase-dropped-refresh-tab-visible",  # ... while the refresh's connection drops
    "supabase-dropped-refresh-on-load",      # the page loads while the refresh's connection drops
    "supabase-session-revoked",              # the negative control: a real revocation must sign out
    "supabase-refresh-online-control",       # the positive control
    "supabase-two-tabs-offline-return",      # two tabs, one localStorage: the storage-event path
    "supabase-token-429-ticker",             # a 429 on the ticker's refresh (supabase-js#2145): 2.39.1 .. 2.108.1
    "supabase-token-500-tab-visible",        # a 500 on return to the tab (supabase-js#2145): before 2.108.2
}


@pytest.fixture(scope="module", params=FILES, ids=lambda p: p.stem)
def scenario(request):
    return load_scenario(request.param)


def test_the_library_covers_the_issue():
    assert REQUIRED <= {p.stem for p in FILES}


def test_every_file_is_a_supabase_scenario_named_by_its_id(scenario):
    # ids say the SDK: reports and `harness run` keep them apart from the Clerk library's (session-revoked)
    assert scenario.setup.sdk == "supabase" and scenario.id == scenario.path.stem
    assert scenario.id.startswith("supabase-")
    assert scenario.refs and all(r.startswith("https://") for r in scenario.refs)
    assert scenario.path.read_text().startswith("# ")


def test_claims_both_sides_of_the_fix_and_a_control_says_so(scenario):
    buggy, fixed = scenario.expected(KNOWN_BUGGY), scenario.expected(KNOWN_FIXED)
    assert buggy is not None and fixed is not None
    header = "\n".join(line for line in scenario.path.read_text().splitlines() if line.startswith("#"))
    if buggy == fixed:
        # A control, or a bug whose flips lie at other releases: then its verdicts name them (bisected, header).
        assert "CONTROL" in header or (len(set(scenario.verdicts.values())) > 1 and "Bisected" in header)
    else:
        assert (buggy, fixed) == ("reproduced", "survived")


def test_refreshes_come_due_through_the_token_lifetime(scenario):
    # gotrue-js refreshes on recovery only inside its 10 s margin, and has no token cache to clear; its 30 s
    # auto-refresh ticker refreshes a token with under three ticks (90 s) left, so a ticker scenario may keep its
    # access token valid through the refresh it faults.
    header = scenario.path.read_text()
    clocked = "clock" in {s.name for s in scenario.steps}  # a clock set wrong makes the refresh due instead
    assert clocked or scenario.setup.token_ttl < 10 or (scenario.setup.token_ttl < 90 and "ticker" in scenario.id
                                                        and "auto-refresh ticker" in header)
    assert "clear_token_cache" not in {s.name for s in scenario.steps}


def test_both_directions_are_claimed():
    claims = {(s.expected(KNOWN_BUGGY), s.expected(KNOWN_FIXED)) for s in map(load_scenario, FILES)}
    assert {("reproduced", "survived"), ("signed-out", "signed-out"), ("survived", "survived")} <= claims


def test_the_adapter_names_its_store_and_versions():
    cls = adapter_class("supabase")
    assert cls.session_store.kind == "localStorage" and cls.session_store.names == (STORAGE_KEY,)
    assert STORAGE_KEY == "sb-127-auth-token"
    assert cls.known_versions == (KNOWN_BUGGY, KNOWN_FIXED)


def test_an_unknown_sdk_is_a_one_line_error():
    from harness.errors import ScenarioError
    from harness.scenario.model import parse_scenario

    with pytest.raises(ScenarioError) as err:
        parse_scenario("id: x\ntitle: x\nsetup: {sdk: auth0}\nsteps: [signed_in]\nverdicts: {'*': survived}\n")
    assert "setup.sdk must be one of 'clerk', 'supabase'" in str(err.value) and "\n" not in str(err.value)


def test_pytest_collects_the_supabase_library_on_its_own_versions(pytester_free_collect):
    names = pytester_free_collect
    for path in FILES:
        stem = path.stem
        assert f"{stem}[{KNOWN_BUGGY}]" in names and f"{stem}[{KNOWN_FIXED}]" in names


@pytest.fixture(scope="module")
def pytester_free_collect() -> set[str]:
    """Item names `pytest --collect-only scenarios/supabase` gives, run as a subprocess (no browser starts)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          str(ROOT / "scenarios" / "supabase")], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return {line.split("::", 1)[1] for line in out.stdout.splitlines() if "::" in line}
