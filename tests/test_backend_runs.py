"""The backend choice, in a real browser on the real SDK: the same timeline (offline past the token's expiry, then
an immediate reload) is a false alarm on the fixed release under the strict ``jwt`` backend and a survival, with the
handshake named, under the default ``clerk`` one; the buggy release reproduces under both. One run each."""

from __future__ import annotations

from harness.scenario.model import load_scenario

from conftest import BUGGY, FIXED, SCENARIOS

SCENARIO = SCENARIOS / "offline-past-token-expiry.yaml"


def _with_backend(backend: str):
    scenario = load_scenario(SCENARIO)
    scenario.setup = scenario.setup.model_copy(update={"backend": backend})
    return scenario


def test_fixed_release_survives_an_expired_kept_token_with_a_handshake(run):
    result = run(_with_backend("clerk"), FIXED)
    assert result.outcome == "survived", result.sentence
    assert "after a handshake (session-token-expired" in result.sentence
    assert result.backend.startswith("clerk")
    # One clock: the page's offset was measured at start and end, and the skew recorded.
    assert {"start_offset_ms", "end_offset_ms", "skew_ms"} <= set(result.clock)


def test_the_strict_backend_calls_the_same_timeline_a_sign_out(run):
    result = run(_with_backend("jwt"), FIXED)
    assert result.outcome == "reproduced", result.sentence  # the false alarm a real Clerk backend does not raise
    assert "expired `__session`" in result.sentence and "[backend: jwt" in result.sentence


def test_buggy_release_reproduces_and_the_sentence_names_the_handshake(run):
    result = run(_with_backend("clerk"), BUGGY)
    assert result.outcome == "reproduced", result.sentence
    assert result.lost_at is not None and "signed in after a handshake (client-uat-but-no-session-token)" \
        in result.sentence
