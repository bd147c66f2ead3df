"""The generation-time model of a timeline: what the browser and the server will be like when each step runs.

The generator keeps a :class:`Model` while it emits steps and asks :func:`allowed` before each: a step that could
not play where it stands (``online`` while online, ``show`` on a visible tab, ``release`` of a fault never armed, a
page script in a frozen tab, a reload while a request is held) is not emitted. So every generated timeline is one the
harness can play to a verdict; a run that still ends in ``error`` is the harness's problem, never a finding.

:func:`closing` gives the steps every timeline ends with, so the oracles can judge it: the tab back on show, the
network back, every fault released, and a reload (the server reads the session from that request).

Invariants: the model never emits ``revoke_session`` (the invariant is about sessions the server still holds), nor a
``status`` of 401/403/422 (those are the server ending the session); :meth:`Model.apply` is the only place that
changes the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from harness.fuzz.candidate import StepData, step_arg, step_name
from harness.mock.faults import KINDS

TabState = Literal["visible", "hidden", "minimised", "frozen", "background"]

# Steps that run script in the page: refused while the tab is frozen.
PAGE_SCRIPT = frozenset({"clear_token_cache", "get_token", "api_call", "check_sdk", "reload", "navigate",
                         "new_tab", "switch_tab"})
# The fault steps: one per registered fault kind (harness/mock/faults/), and `fault` itself; a new kind is one here.
FAULT_STEPS = frozenset(KINDS) | {"fault"}
# HTTP statuses a generated fault may answer: rate limits and server errors, never an auth answer (401/403/422 say
# the session is over, and the SDK is right to sign out on them).
STATUSES = (503, 429, 500, 502)
# The step kinds the generator can emit (for coverage figures).
VOCABULARY = ("signed_in", "offline", "online", "wait", "wait_for", "clear_token_cache", "get_token", "api_call",
              "reload", "hide", "show", "minimise", "restore", "freeze", "resume", "new_tab", "switch_tab",
              "status", "hold", "hang", "drop", "delay", "release")


@dataclass
class Model:
    online: bool = True
    tab: TabState = "visible"
    before_freeze: TabState = "visible"
    tabs: int = 1
    faults: dict[str, str] = field(default_factory=dict)  # name -> kind, armed and not released
    named: int = 0  # faults named so far (f1, f2, ...)

    def copy(self) -> "Model":
        return replace(self, faults=dict(self.faults))

    def next_name(self) -> str:
        return f"f{self.named + 1}"

    @property
    def holding(self) -> bool:
        return any(kind in ("hold", "hang") for kind in self.faults.values())

    def apply(self, step: StepData) -> None:
        """The model after ``step`` has played."""
        name, arg = step_name(step), step_arg(step)
        if name in ("offline", "online"):
            self.online = name == "online"
        elif name in FAULT_STEPS:
            fault = arg.get("name") if isinstance(arg, dict) else None
            self.faults[fault or f"anon{len(self.faults) + 1}"] = name
            number = re.fullmatch(r"f(\d+)", fault or "")
            if number:  # names are f1, f2, ...: the next one is past every name used, armed or not
                self.named = max(self.named, int(number.group(1)))
        elif name == "release":
            target = arg.get("fault", "all") if isinstance(arg, dict) else (arg or "all")
            outcome = arg.get("outcome", "pass") if isinstance(arg, dict) else "pass"
            released = list(self.faults) if target == "all" else [target]
            for fault in released:
                if outcome == "drop":  # keeps closing matching requests until released once more
                    self.faults[fault] = "dropping"
                else:
                    self.faults.pop(fault, None)
        else:
            self._apply_tab(name, arg)

    def _apply_tab(self, name: str, arg: object) -> None:
        if name == "hide":
            self.tab = "hidden"
        elif name == "minimise":
            self.tab = "minimised"
        elif name in ("show", "restore"):
            self.tab = "visible"
        elif name == "freeze":
            self.before_freeze, self.tab = self.tab, "frozen"
        elif name == "resume":
            self.tab = self.before_freeze
        elif name == "new_tab":
            self.tabs += 1
            self.tab = "visible"
        elif name == "switch_tab":
            self.tab = "background" if isinstance(arg, dict) and arg.get("front") is False else "visible"


def allowed(model: Model, step: StepData) -> bool:
    """Whether ``step`` can play where the model stands."""
    name, arg = step_name(step), step_arg(step)
    if model.tab == "frozen" and name in PAGE_SCRIPT:
        return False
    rules = {
        "offline": model.online, "online": not model.online,
        "hide": model.tab == "visible", "minimise": model.tab == "visible",
        "show": model.tab == "hidden", "restore": model.tab == "minimised",
        "freeze": model.tab in ("visible", "hidden"), "resume": model.tab == "frozen",
        # A page load needs the network, a tab on show, and no request held open at the server.
        "reload": model.online and model.tab == "visible" and not model.faults,
        "new_tab": model.online and model.tabs == 1 and model.tab == "visible" and not model.holding,
        "switch_tab": model.tabs > 1 and model.tab in ("visible", "background"),
    }
    if name in rules:
        return rules[name]
    if name == "release":
        target = arg.get("fault", "all") if isinstance(arg, dict) else (arg or "all")
        return target == "all" or target in model.faults
    if name in FAULT_STEPS:
        fault = arg.get("name") if isinstance(arg, dict) else None
        return fault is None or fault not in model.faults
    return True


def closing(model: Model) -> list[StepData]:
    """The steps that end every timeline: tab on show, network back, faults released, then the judged reload."""
    out: list[StepData] = []
    tab = model.tab
    if tab == "frozen":
        out.append("resume")
        tab = model.before_freeze
    back: dict[str, list[StepData]] = {"hidden": ["show"], "minimised": ["restore"], "background": [{"switch_tab": 2}]}
    out += back.get(tab, [])
    if not model.online:
        out.append("online")
    out += [{"release": "all"}, "reload"]
    return out
