"""What a QA reader sees on the app page (and so in the screenshots a run takes) is true for every SDK: after
``signed_in`` the SDK view names the user even where the page loaded signed out and signed in through the SDK's own
API (Supabase), and the server view speaks of the adapter's credential, never another SDK's cookie."""

from __future__ import annotations

import pytest

from harness.scenario.model import parse_scenario
from harness.sdks import adapter_class

_PAGE_TEXT = "() => document.body.innerText"


@pytest.mark.scenario
@pytest.mark.parametrize("sdk", ["clerk", "supabase"])
def test_the_page_after_signed_in_shows_the_user_in_the_adapters_words(harness_options, sdk):
    from harness.engine import Engine, RunPlan

    scenario = parse_scenario(f"id: page-after-sign-in\ntitle: t\nsetup:\n  sdk: {sdk}\nsteps:\n  - signed_in\n"
                              "verdicts:\n  '*': survived\n")
    with Engine(harness_options) as engine:  # its own Playwright, stopped when done (see tests/test_stalls.py)
        run = engine.run_here(RunPlan(scenario, adapter_class(sdk).known_versions[1])).start()
        run.step(scenario.steps[0])
        assert run.driver is not None
        text = run.driver.evaluate(_PAGE_TEXT)  # the text the screenshot taken after signed_in shows
        run.finish()
    assert "SDK view: signed in as " in text, text
    assert "SDK view: signed out" not in text, text
    if sdk != "clerk":
        assert "__session" not in text, text
