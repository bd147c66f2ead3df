"""The Firebase scenario library (scenarios/firebase/), without a browser: every file is a Firebase scenario that
says where it comes from and which releases its claims were run on, claims an outcome on both sides of the fix
(firebase 9.18.0 and 9.19.0, and 9.6.3 / 9.6.4 for the hanging lookup), and the library holds the bugs, a negative
control and a positive control. The runs themselves are the pytest items collected from scenarios/firebase/*.yaml,
on both known versions: they prove both directions. The adapter's store is the SDK's own IndexedDB record (or its
localStorage key for ``firebase-local``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.scenario.model import load_scenario
from harness.sdks import adapter_class
from harness.sdks.firebase import DATABASE, KNOWN_BUGGY, KNOWN_FIXED, OBJECT_STORE, STORAGE_KEY
from harness.sdks.firebase.identitytoolkit import API_KEY

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "scenarios" / "firebase").glob("*.yaml"))

REQUIRED = {
    "firebase-offline-start",          # the founding case (#7118): opening the app offline
    "firebase-local-offline-start",    # ... with browserLocalPersistence: the same claim on the other store
    "firebase-auth-host-down-start",   # ... with the auth host's connections closed while the page loads online
    "firebase-lookup-hangs",           # #5874/#5892: a lookup that never answers, past the SDK's 30 s timeout
    "firebase-lookup-503-json",        # a 503 with Google's JSON error body from accounts:lookup
    "firebase-user-disabled",          # the negative control: a real revocation must sign out
    "firebase-online-control",         # the positive control
    "firebase-two-tabs-offline-open",  # a second tab opened offline deletes the record both tabs share
}


@pytest.fixture(scope="module", params=FILES, ids=lambda p: p.stem)
def scenario(request):
    return load_scenario(request.param)


def test_the_library_covers_the_issue():
    assert REQUIRED <= {p.stem for p in FILES}


def test_every_file_is_a_firebase_scenario_that_names_the_releases_it_ran_on(scenario):
    assert scenario.setup.sdk in ("firebase", "firebase-local") and scenario.id == scenario.path.stem
    assert scenario.id.startswith("firebase-")
    assert scenario.refs and all(r.startswith("https://") for r in scenario.refs)
    text = scenario.path.read_text()
    assert text.startswith("# ") and "Run on:" in text  # a claim is only as good as the releases it ran on


def test_claims_both_sides_of_the_fix_and_a_control_says_so(scenario):
    buggy, fixed = scenario.expected(KNOWN_BUGGY), scenario.expected(KNOWN_FIXED)
    assert buggy is not None and fixed is not None
    header = "\n".join(line for line in scenario.path.read_text().splitlines() if line.startswith("#"))
    if buggy == fixed:
        # A control, or a bug whose flips lie at other releases (then its verdicts name them and the header says).
        assert "CONTROL" in header or len(set(scenario.verdicts.values())) > 1 or "every release" in header
    else:
        assert (buggy, fixed) == ("reproduced", "survived")


def test_the_hanging_lookup_claims_both_sides_of_its_own_fix():
    hang = load_scenario(ROOT / "scenarios" / "firebase" / "firebase-lookup-hangs.yaml")
    assert (hang.expected("9.6.3"), hang.expected("9.6.4")) == ("reproduced", "survived")


def test_both_directions_are_claimed():
    claims = {(s.expected(KNOWN_BUGGY), s.expected(KNOWN_FIXED)) for s in map(load_scenario, FILES)}
    assert {("reproduced", "survived"), ("signed-out", "signed-out"), ("survived", "survived")} <= claims


def test_the_adapter_names_its_store_and_versions():
    cls = adapter_class("firebase")
    assert cls.session_store.kind == "indexedDB" and cls.session_store.names == (STORAGE_KEY,)
    assert cls.session_store.place == (DATABASE, OBJECT_STORE) == ("firebaseLocalStorageDb", "firebaseLocalStorage")
    assert STORAGE_KEY == f"firebase:authUser:{API_KEY}:[DEFAULT]"
    assert cls.known_versions == (KNOWN_BUGGY, KNOWN_FIXED) == ("9.18.0", "9.19.0")
    local = adapter_class("firebase-local")
    assert local.session_store.kind == "localStorage" and local.session_store.names == (STORAGE_KEY,)
    assert local.package == cls.package == "firebase"
