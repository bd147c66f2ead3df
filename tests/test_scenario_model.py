"""The scenario format: valid files load into typed steps; every malformed one is ONE line naming file, line, field
and what is allowed. No browser; fast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario.model import find_scenarios, load_scenario, parse_scenario
from harness.scenario.steps import STEPS, parse_duration

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
id: example
title: An example
refs: [https://github.com/clerk/javascript/pull/7912]
setup:
  token_ttl: 20
  webdriver: masked
steps:
  - signed_in
  - offline
  - STEP
  - online
verdicts:
  "<6.1.0": reproduced
  ">=6.1.0": survived
"""


def scenario_with(step: str) -> str:
    return GOOD.replace("STEP", step)


def error_of(text: str, path: Path | None = None) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, path)
    message = str(info.value)
    assert "\n" not in message, "an error is one line"
    return message


# -- what loads ---------------------------------------------------------------------------------------------------

def test_a_valid_scenario_loads_into_typed_steps():
    s = parse_scenario(scenario_with("wait_for: {event: token_attempt, timeout: 15s}"), Path("x.yaml"))
    assert s.id == "example" and s.setup.token_ttl == 20 and s.setup.webdriver == "masked"
    assert [st.name for st in s.steps] == ["signed_in", "offline", "wait_for", "online"]
    assert s.steps[2].args == {"value": "token_attempt", "timeout": 15.0}
    assert [st.line for st in s.steps] == [8, 9, 10, 11]
    assert s.expected("6.0.0") == "reproduced" and s.expected("5.128.0") == "reproduced"
    assert s.expected("6.1.0") == "survived" and s.expected("6.40.0") == "survived"


def test_uncovered_versions_have_no_claim():
    s = parse_scenario(scenario_with("wait: 1").replace('">=6.1.0": survived', '"6.1.0": survived'))
    assert s.expected("6.2.0") is None


@pytest.mark.parametrize("ranges,overlap", [
    (('"*": survived', '">=6.1.0": reproduced'), "6.1.0"),
    (('"<=6.1.0": reproduced', '">=6.1.0": survived'), "6.1.0"),
    (('"<6.1.0": reproduced', '">=6.0.5": survived'), "6.0.5"),
])
def test_overlapping_ranges_are_refused_so_no_claim_goes_unchecked(ranges, overlap):
    text = scenario_with("wait: 1").replace('"<6.1.0": reproduced', ranges[0]).replace('">=6.1.0": survived',
                                                                                       ranges[1])
    message = error_of(text, Path("x.yaml"))
    assert message.startswith("x.yaml:") and f"both cover {overlap}" in message and "disjoint" in message


@pytest.mark.parametrize("step,name,args", [
    ("status: 429", "status", {"status": 429}),
    ('status: {status: 503, path: "*/v1/client", method: GET}', "status", {"status": 503, "path": "*/v1/client",
                                                                          "method": "GET"}),
    ("delay: 500ms", "delay", {"delay": 0.5}),
    ('drop: "*/tokens"', "drop", {"path": "*/tokens"}),
    ("drop: {at: body, name: cut}", "drop", {"at": "body", "name": "cut"}),
    ("hold: {times: 1, name: h}", "hold", {"times": 1, "name": "h"}),
    ("hang", "hang", {}),
    ("fault: {kind: status, status: 500, calls: [2, 4]}", "fault", {"kind": "status", "status": 500,
                                                                    "calls": [2, 4]}),
    ("release: {fault: h, outcome: drop}", "release", {"value": "h", "outcome": "drop"}),
    ("status: {status: 429, on: token}", "status", {"status": 429, "on": "token"}),
    ("fault: {on: token, chain: [{delay: 2s}, {drop: body}]}", "fault",
     {"on": "token", "chain": [{"delay": {"delay": 2.0}}, {"drop": {"at": "body"}}]}),
    ("fault: {chain: [hold, {status: {status: 503, error_code: x}}]}", "fault",
     {"chain": [{"hold": {}}, {"status": {"status": 503, "error_code": "x"}}]}),
    ("fault: {chain: [{drop: {at: body}}]}", "fault", {"chain": [{"drop": {"at": "body"}}]}),
    ("get_token: {skip_cache: true, wait: false, expect: token}", "get_token",
     {"skip_cache": True, "wait": False, "expect": "token"}),
    ("wait: 2s", "wait", {"value": 2.0}),
    ("navigate: /app/settings", "navigate", {"value": "/app/settings"}),
    ("revoke_session", "revoke_session", {}),
])
def test_step_forms(step, name, args):
    s = parse_scenario(scenario_with(step))
    assert s.steps[2].name == name and s.steps[2].args == args


def test_label_and_timeout_sit_beside_a_step():
    s = parse_scenario(scenario_with("wait_for: token_attempt\n    label: the poll\n    timeout: 15s"))
    assert s.steps[2].label == "the poll" and s.steps[2].timeout == 15.0


@pytest.mark.parametrize("text,seconds", [(2, 2.0), (2.5, 2.5), ("2s", 2.0), ("500ms", 0.5), ("1m", 60.0)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


# -- what does not, and what it says ----------------------------------------------------------------------------------

def test_unknown_step_names_the_line_suggests_and_lists():
    msg = error_of(scenario_with("clear_tokn_cache"), Path("s.yaml"))
    assert msg.startswith("s.yaml:10: steps[2]: unknown step 'clear_tokn_cache'")
    assert "did you mean 'clear_token_cache'" in msg and "known steps: " in msg and "wait_for" in msg


def test_wrong_argument_type():
    msg = error_of(scenario_with("status: {status: lots}"), Path("s.yaml"))
    assert msg == "s.yaml:10: steps[2] status: status must be a valid integer (got 'lots')"


def test_wrong_scalar_argument():
    msg = error_of(scenario_with("wait: soon"), Path("s.yaml"))
    assert msg == "s.yaml:10: steps[2] wait: 'soon' is not a duration (e.g. 2, 2.5s, 500ms, 1m)"


def test_out_of_range_argument():
    msg = error_of(scenario_with("status: 999"), Path("s.yaml"))
    assert msg.startswith("s.yaml:10: steps[2] status: ") and "less than or equal to 599" in msg


def test_bad_enum_in_a_step_lists_the_allowed_values():
    msg = error_of(scenario_with("fault: {kind: explode}"), Path("s.yaml"))
    assert msg == "s.yaml:10: steps[2] fault: kind must be one of 'delay', 'drop', 'hang', 'hold' or 'status'"


def test_bad_wait_event_lists_the_events():
    msg = error_of(scenario_with("wait_for: tokn_attempt"), Path("s.yaml"))
    assert msg.startswith("s.yaml:10: steps[2] wait_for: must be one of 'token_attempt'")


def test_unknown_step_argument_lists_the_allowed_ones():
    msg = error_of(scenario_with("drop: {at: body, colour: red}"), Path("s.yaml"))
    assert msg == ("s.yaml:10: steps[2] drop: colour is not a known field "
                   "(allowed: path, on, method, name, calls, times, at)")


def test_bad_enum_in_setup_points_at_its_line():
    msg = error_of(GOOD.replace("webdriver: masked", "webdriver: hidden"), Path("s.yaml"))
    assert msg == "s.yaml:6: setup.webdriver must be one of 'masked' or 'exposed'"


def test_unknown_setup_field():
    msg = error_of(GOOD.replace("token_ttl: 20", "ttl: 20"), Path("s.yaml"))
    assert msg.startswith("s.yaml:5: setup.ttl is not a known field") and "token_ttl" in msg


def test_bad_version_range_points_at_the_range():
    msg = error_of(GOOD.replace('"<6.1.0"', '"before 6.1"'), Path("s.yaml"))
    assert msg.startswith("s.yaml:13: verdicts: 'before 6.1' is not an npm version range")


def test_bad_outcome():
    msg = error_of(GOOD.replace("reproduced", "broken"), Path("s.yaml"))
    assert msg == "s.yaml:13: verdicts.<6.1.0 must be one of 'survived', 'reproduced', 'signed-out' or 'stuck'"


def test_duplicate_key_is_an_error_not_a_silent_overwrite():
    msg = error_of(GOOD + "steps: [online]\n", Path("s.yaml"))
    assert msg == "s.yaml:15: duplicate key 'steps' (first on line 7)"
    msg = error_of(GOOD.replace("token_ttl: 20", "token_ttl: 20\n  token_ttl: 30"), Path("s.yaml"))
    assert msg == "s.yaml:6: duplicate key 'setup.token_ttl' (first on line 5)"


def test_yaml_syntax_error():
    msg = error_of(GOOD.replace("  - offline", "  - offline: [unclosed"), Path("s.yaml"))
    assert msg.startswith("s.yaml:") and "not valid YAML" in msg


def test_missing_required_field():
    assert error_of(GOOD.replace("title: An example\n", ""), Path("s.yaml")) == "s.yaml:1: title is required"


def test_wrong_top_level_key():
    msg = error_of(GOOD.replace("steps:", "stpes:"), Path("s.yaml"))
    assert msg.startswith("s.yaml:7: unknown field 'stpes' (did you mean 'steps'?)")
    assert "allowed: id, title, steps, verdicts (required)" in msg


def test_not_a_mapping():
    assert error_of("- signed_in\n", Path("s.yaml")).startswith("s.yaml:1: a scenario is a mapping")


def test_two_steps_in_one_item():
    msg = error_of(scenario_with("{offline: null, online: null}"), Path("s.yaml"))
    assert msg.startswith("s.yaml:10: steps[2] must name exactly one step, got 'offline', 'online'")


def test_bad_step_timeout():
    msg = error_of(scenario_with("wait_for: token_attempt\n    timeout: never"), Path("s.yaml"))
    assert msg.startswith("s.yaml:11: steps[2].timeout ")


def test_bad_id():
    msg = error_of(GOOD.replace("id: example", "id: My Scenario"), Path("s.yaml"))
    assert msg.startswith("s.yaml:1: id must match the pattern") and "'My Scenario'" in msg


def test_calls_must_count_from_one():
    msg = error_of(scenario_with("fault: {kind: drop, calls: [0, 1]}"), Path("s.yaml"))
    assert msg == "s.yaml:10: steps[2] fault: calls must list call numbers from 1 up, e.g. [1, 3]"


# -- faults: named requests, composition, and what the scenario's SDK allows ---------------------------------------

SUPABASE = GOOD.replace("  webdriver: masked", "  webdriver: masked\n  sdk: supabase")


def test_an_unknown_named_request_names_the_ones_the_sdk_has():
    msg = error_of(scenario_with("status: {status: 429, on: tokens}"), Path("s.yaml"))
    assert msg == ("s.yaml:10: steps[2] status: on must name a request of the clerk adapter: token, client, touch, "
                   "environment, handshake (got 'tokens')")
    msg = error_of(SUPABASE.replace("STEP", "drop: {on: client}"), Path("s.yaml"))
    assert msg == ("s.yaml:11: steps[2] drop: on must name a request of the supabase adapter: token, user, logout, "
                   "settings (got 'client')")


def test_on_is_a_key_not_a_yaml_1_1_boolean():
    # PyYAML reads YAML 1.1, where `on`, `off`, `yes` and `no` are booleans; scenario files are read with 1.2's.
    s = parse_scenario(scenario_with("drop: {on: token, name: no}"))
    assert s.steps[2].args == {"on": "token", "name": "no"}


def test_on_and_path_are_exclusive():
    msg = error_of(scenario_with('drop: {on: token, path: "*/tokens"}'), Path("s.yaml"))
    assert msg == "s.yaml:10: steps[2] drop: give path or on, not both (path '*/tokens', on 'token')"


def test_token_arrival_is_refused_when_the_sdk_cannot_pin_its_tokens():
    want = ("s.yaml:11: steps[2] {step}: token: arrival needs an SDK whose tokens can be pinned; supabase's are "
            "minted when answered")
    assert error_of(SUPABASE.replace("STEP", "hold: {token: arrival}"), Path("s.yaml")) == want.format(step="hold")
    assert error_of(SUPABASE.replace("STEP", "fault: {chain: [{delay: {delay: 1s, token: arrival}}]}"),
                    Path("s.yaml")) == want.format(step="fault")
    assert parse_scenario(scenario_with("hold: {token: arrival}")).steps[2].args == {"token": "arrival"}  # Clerk pins


@pytest.mark.parametrize("step,message", [
    ("fault: {chain: [{drop: body}, {delay: 1s}]}",
     "fault: stage 1 (drop) ends the request, so nothing can follow it: put it last"),
    ("fault: {chain: [hold, hang]}", "fault: at most one stage may wait for a release (got hold and hang): a fault "
                                     "has one release for all its stages"),
    ("fault: {kind: drop, chain: [drop]}", "fault: give kind (delay, drop, hang, hold, status) or chain (a list of "
                                           "them), not both"),
    ("fault: {name: x}", "fault: give kind (delay, drop, hang, hold, status) or chain (a list of them), one of the "
                         "two"),
    ("fault: {chain: [drop], status: 503}", "fault: with chain, every argument goes in its stage (status is given "
                                            "beside the chain)"),
    ("fault: {kind: drop, status: 503}", "fault: status is not an argument of drop (drop takes: at)"),
    ("fault: {chain: [{explode: 1}]}", "fault: chain.0.explode is not a known field (allowed: delay, drop, hang, "
                                       "hold, status)"),
    ("fault: {chain: [{delay: soon}]}", "fault: chain.0.delay.delay 'soon' is not a duration (e.g. 2, 2.5s, 500ms, "
                                        "1m)"),
    ("fault: {chain: [{hold: arrival}]}", "fault: chain.0.hold hold in a chain takes a mapping of its arguments "
                                          "(token), or nothing (got 'arrival')"),
    ("fault: {chain: []}", "fault: chain needs at least one stage, e.g. [{delay: 2s}, {drop: body}]"),
])
def test_bad_faults_are_one_line_errors(step, message):
    msg = error_of(scenario_with(step), Path("s.yaml"))
    assert msg.startswith("s.yaml:10: steps[2] ") and msg.removeprefix("s.yaml:10: steps[2] ") == message, msg


def test_every_fault_kind_is_a_step_a_stage_and_a_row_of_the_reference():
    from harness.mock.faults import KINDS
    from harness.scenario import reference

    doc = reference.render()
    for name, kind in KINDS.items():
        assert STEPS[name].doc == kind.doc
        assert f"``{name}`` ({kind.summary})" in STEPS["fault"].doc
        assert f"| `{name}` |" in doc
        chain = parse_scenario(scenario_with(f"fault: {{chain: [{name}]}}")).steps[2].args["chain"]
        assert chain == [{name: {}}]


def test_unreadable_file(tmp_path):
    with pytest.raises(ScenarioError, match=r"cannot read the scenario file"):
        load_scenario(tmp_path / "nope.yaml")


# -- finding scenarios ------------------------------------------------------------------------------------------------

def test_find_by_id_path_and_folder(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    assert find_scenarios(["a"], tmp_path) == [tmp_path / "a.yaml"]
    assert find_scenarios([str(tmp_path / "b.yaml")], tmp_path) == [tmp_path / "b.yaml"]
    assert find_scenarios([str(tmp_path)], tmp_path) == [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    with pytest.raises(ScenarioError, match=r"unknown scenario 'c'.*known: a, b"):
        find_scenarios(["c"], tmp_path)


# -- through the front doors ------------------------------------------------------------------------------------------

def test_harness_run_on_a_broken_file_prints_one_line_and_exits_2(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(scenario_with("wiat: 2"))
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(broken), "--reports",
                           str(tmp_path / "reports")], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == (f"error: {broken}:10: steps[2]: unknown step 'wiat' (did you mean 'wait'?) "
                                   f"(known steps: {', '.join(sorted(STEPS))})")
    assert not (tmp_path / "reports").exists(), "a bad file must not leave a result folder"


def test_pytest_reports_a_broken_scenario_as_one_line(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "broken.yaml").write_text(GOOD.replace("webdriver: masked", "webdriver: hidden"))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder),
                           "--rootdir", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode != 0
    assert f"error: {folder / 'broken.yaml'}:6: setup.webdriver must be one of 'masked' or 'exposed'" in proc.stdout
    assert "Traceback" not in proc.stdout


def test_harness_run_refuses_an_unknown_named_request_before_any_browser(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(scenario_with("status: {status: 429, on: tokens}"))
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(broken), "--reports",
                           str(tmp_path / "reports")], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == (f"error: {broken}:10: steps[2] status: on must name a request of the clerk "
                                   "adapter: token, client, touch, environment, handshake (got 'tokens')")
    assert not (tmp_path / "reports").exists()
