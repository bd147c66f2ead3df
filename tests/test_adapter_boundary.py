"""The adapter boundary: the generic harness imports no adapter, and what an SDK's app backend is comes from its
adapter (``backends``, ``app_backend``), so a third SDK is one more package under harness/sdks/."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.errors import ScenarioError
from harness.mock.backend import CredentialBackend
from harness.mock.server import MockAuthServer
from harness.scenario.model import parse_scenario
from harness.sdks import SDKS, adapter_class, adapter_for_package, sdk_for
from harness.timeline import Timeline

GENERIC = ["harness.mock.server", "harness.mock.backend", "harness.mock.tokens", "harness.oracles",
           "harness.engine", "harness.serve", "harness.cli", "harness.versions.commands", "harness.pytest_plugin",
           "harness.scenario.model", "harness.scenario.steps", "harness.report.html"]


def test_the_generic_modules_import_no_adapter():
    code = ("import importlib, sys\n"
            f"for name in {GENERIC!r}: importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.startswith('harness.sdks.') and m not in "
            "('harness.sdks.npm', 'harness.sdks.builds', 'harness.sdks.cache_admin')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"a generic module imports an adapter: {out.stdout}"


@pytest.mark.parametrize("name", sorted(SDKS))
def test_every_adapter_names_its_backends_and_serve_choices(name):
    cls = adapter_class(name)
    # A result names its SDK by package: the first adapter of a package stands for it (firebase-local is
    # firebase with another persistence).
    found = adapter_for_package(cls.package)
    assert cls.backends and found is not None and issubclass(cls, found)
    assert cls.request_paths["token"].startswith("*/") and cls.serve_token_ttl > 0
    sdk = sdk_for(name, token_ttl=60)
    for backend in cls.backends:
        made = sdk.app_backend(backend)
        assert made.name == backend and made.description


def test_the_server_asks_the_adapter_for_its_backend():
    clerk = MockAuthServer(Timeline(), sdk_for("clerk"), bundle_dist=None, sdk_version="0.0.0", backend="jwt")
    assert clerk.backend.name == "jwt" and "strict" in clerk.backend.note
    supabase = MockAuthServer(Timeline(), sdk_for("supabase"), bundle_dist=None, sdk_version="0.0.0")
    assert isinstance(supabase.backend, CredentialBackend) and supabase.backend.name == "supabase"


def test_a_backend_the_adapter_does_not_offer_is_a_one_line_load_error():
    text = "id: x\ntitle: x\nsetup: {sdk: supabase, backend: jwt}\nsteps: [signed_in]\nverdicts: {'*': survived}\n"
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text)
    assert "backend 'jwt' is not one of the supabase adapter's: supabase" in str(err.value)
    assert "\n" not in str(err.value)
    assert parse_scenario(text.replace("jwt", "supabase")).setup.backend == "supabase"


@pytest.mark.scenario
@pytest.mark.parametrize("sdk", ["clerk", "supabase", "firebase"])
def test_the_app_page_shows_the_user_its_adapter_names(harness_options, sdk):
    """The app page knows no SDK: each adapter's page script names the signed-in user (``window.__harnessUser``)."""
    from harness.engine import Engine, RunPlan

    scenario = parse_scenario(f"id: shows-user\ntitle: t\nsetup:\n  sdk: {sdk}\nsteps:\n  - signed_in\n  - reload\n"
                              "verdicts:\n  '*': survived\n")
    with Engine(harness_options) as engine:  # its own Playwright, stopped when done (see tests/test_stalls.py)
        run = engine.run_here(RunPlan(scenario, adapter_class(sdk).known_versions[1])).start()
        for step in scenario.steps:
            run.step(step)
        assert run.driver is not None
        shown = run.driver.evaluate("() => document.getElementById('sdk-user').textContent")
        result = run.finish()
    assert shown.startswith("signed in as "), shown
    assert result.outcome == "survived", result.sentence
