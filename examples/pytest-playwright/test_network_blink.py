"""A network-blink check added to an existing pytest-playwright suite: the test's own `page`, with the harness's
mock, network switch, session watcher and oracles attached to it (`harness_attach`).

    pytest examples/pytest-playwright/ --output results/      # one result folder per run, as `harness run` writes
    pytest examples/pytest-playwright/ --headed --slowmo 250  # watch it (under xvfb-run -a without a desktop)
"""

import pytest


@pytest.mark.parametrize("version, outcome", [("6.0.0", "reproduced"), ("6.1.0", "survived")])
def test_offline_refresh_keeps_the_session(page, harness_attach, version, outcome):
    # The founding bug (clerk/javascript PR #7912), played on pytest-playwright's page: a token refresh comes due
    # while offline. The claim is checked when the test ends, as a scenario file's is.
    run = harness_attach(page, version=version, setup={"token_ttl": 60},
                         expect={"<6.1.0": "reproduced", ">=6.1.0": "survived"})
    run.signed_in()                      # the page loads the mock's app (run.app_url); the SDK signs in
    assert page.url == run.app_url       # the same page the rest of the test drives
    run.offline()                        # context.set_offline(True), once the page saw `offline`
    run.clear_token_cache()              # the SDK's next poll must fetch a token
    run.wait_for("token_attempt", timeout=15)
    run.online()
    run.reload()                         # the server reads __session from this request
    result = run.finish()                # judged; the result folder is written
    assert result.outcome == outcome, result.sentence


def test_my_own_steps_between_the_harness_steps(page, harness_attach):
    # The page stays the test's: Playwright calls of your own go between the harness's steps.
    run = harness_attach(page, version="6.1.0", expect={"*": "survived"})
    run.signed_in()
    assert page.evaluate("document.cookie").count("__session=") >= 1
    run.offline()
    page.wait_for_timeout(2000)          # offline a while, as a person on a train is
    run.online()
    run.reload()
    assert run.finish().outcome == "survived"


@pytest.mark.parametrize("version, outcome", [("2.26.0", "reproduced"), ("2.27.0", "survived")])
def test_supabase_keeps_the_session_when_the_refresh_drops(page, harness_attach, version, outcome):
    # Supabase's adapter, the same way: the page reloads while the refresh request's connection drops (a fault at
    # the mock's GoTrue); auth-js before 2.27.0 removes the stored session on that network error.
    run = harness_attach(page, version=version, setup={"sdk": "supabase", "token_ttl": 8},
                         expect={"<2.27.0": "reproduced", ">=2.27.0": "survived"})
    run.signed_in()                      # signInWithPassword; the SDK writes sb-127-auth-token
    run.drop(on="token", name="refreshes")
    run.reload(timeout=45)               # the SDK's refresh on load meets the dropped connection
    run.wait_for("token_attempt", timeout=45)
    run.release("refreshes")
    run.reload()
    assert run.finish().outcome == outcome
