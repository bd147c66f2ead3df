"""The ``clock`` step: set a party's wall clock wrong, or make the world's clock jump while the tab sleeps.

Forms (offsets are signed and measured from true time; setting one replaces that party's previous offset):

* ``clock: +2h`` / ``clock: {browser: -30s}`` -- the page's ``Date`` reads that far from true time, in every tab and
  every later load; its timers, ``performance.now`` and the harness's page stamps stay real;
* ``clock: {auth: -5m}`` -- the auth server's clock: the mock mints tokens (``iat``/``exp``), rotates and checks them
  on it; ``clock: {backend: +30s}`` -- the app server's clock: it checks the tokens it is sent on it. Any of the three
  may be set in one step;
* ``clock: {jump: 8h}`` -- a lid closed for eight hours: the current tab is frozen (hidden first, as a sleeping
  machine's is), the world's clock moves 8 h forward for every party at once -- so tokens minted before it are 8 h
  old to the servers too -- and the tab resumes with its ``Date`` 8 h later while its timers, like a sleeping
  machine's monotonic clock, have not moved. Needs a browser mode with a tab lifecycle (real or simulated).

Every change is a ``clock`` event: true time (``at``), each party's offset and its clock's reading then, and the
offset each live tab's ``Date`` was measured to read. The parties' clocks are :class:`harness.clock.RunClocks`,
owned by the run's mock server and read by its adapter (``set_clocks``); an adapter without it refuses the
``auth``/``backend`` forms when the file is loaded.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from harness.clock import PARTIES, Party, RunClocks, parse_offset, signed
from harness.errors import HarnessError
from harness.mock.faults.kind import target_in
from harness.scenario.step_registry import RunContext, step
from harness.scenario.tab_steps import TAB_MODES


class ClockArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    value: float | None = Field(None, alias="browser", description="the page's `Date` offset from true time "
                                  "(`+2h`, `-30s`): every tab and every later load; timers stay real")
    auth: float | None = Field(None, description="the auth server's clock offset: tokens minted, rotated and "
                                                 "checked on it")
    backend: float | None = Field(None, description="the app server's clock offset: the tokens it is sent are "
                                                    "checked on it")
    jump: float | None = Field(None, gt=0, description="a lid close: freeze the tab, move every party's clock this "
                                                       "far forward (`8h`), resume; alone in its step")

    @field_validator("value", "auth", "backend", mode="before")
    @classmethod
    def _offset(cls, value: Any) -> float | None:
        return None if value is None else parse_offset(value)

    @field_validator("jump", mode="before")
    @classmethod
    def _length(cls, value: Any) -> float | None:
        return None if value is None else parse_offset(value, signed_required=False)

    @field_validator("auth", "backend")
    @classmethod
    def _adapter_reads_clocks(cls, value: float | None, info: ValidationInfo) -> float | None:
        target = target_in(info)
        if value is not None and target is not None and not hasattr(target, "set_clocks"):
            raise ValueError(f"the {target.name} adapter's mock does not read the harness's clocks (set_clocks), so "
                             "its server clocks cannot be set; set only `browser`, or give the adapter set_clocks")
        return value

    def offsets(self) -> dict[Party, float]:
        """The parties this step sets, and their offsets (s)."""
        given = {"browser": self.value, "auth": self.auth, "backend": self.backend}
        return {p: v for p, v in given.items() if v is not None}  # type: ignore[misc]  # keys are parties

    @model_validator(mode="after")
    def _one_form(self) -> "ClockArgs":
        skews = self.offsets()
        if self.jump is None and not skews:
            raise ValueError("say which clock: `clock: +2h` (the browser's), or {browser|auth|backend: OFFSET}, or "
                             "{jump: 8h}")
        if self.jump is not None and skews:
            raise ValueError("`jump` moves every clock at once and stands alone; set offsets in a step of their own")
        return self


def describe(args: ClockArgs) -> str:
    if args.jump is not None:
        return f"jump {signed(args.jump)}"
    return ", ".join(f"{p} {signed(v)}" for p, v in args.offsets().items())


@step("clock", ClockArgs)
def clock(ctx: RunContext, args: ClockArgs, timeout: float) -> None:
    """Set a party's wall clock: ``clock: +2h`` (the page's ``Date``, in every tab and later load, its timers and the
    harness's page stamps left real), ``{auth: -5m}`` (the mock mints, rotates and checks tokens on it), ``{backend:
    +30s}`` (the app server checks tokens on it); several in one step. ``{jump: 8h}`` is a lid close: the current tab
    is frozen, every party's clock moves 8 h forward at once, and the tab resumes with its timers where they were
    (real or simulated browser mode). Each change is a ``clock`` event with true time and every party's clock."""
    clocks: RunClocks = ctx.server.clocks
    if args.jump is not None:
        _jump(ctx, clocks, args.jump, timeout)
        return
    offsets = args.offsets()
    clocks.skew.update(offsets)
    observed = ctx.driver.set_date_offset(clocks.offset("browser")) if "browser" in offsets else {}
    _record(ctx, clocks, describe(args), observed)


def _jump(ctx: RunContext, clocks: RunClocks, seconds: float, timeout: float) -> None:
    mode = ctx.driver.options.mode
    if mode not in TAB_MODES:
        raise HarnessError(f"`clock: {{jump}}` freezes the tab, which needs browser_mode real or simulated, but this "
                           f"run uses {mode}; run with --browser-mode real or set setup.browser_mode")
    after = clocks.offset("browser") + seconds
    ctx.driver.arm_date_offset(after)  # the tab takes it as it wakes, before its own handlers run
    ctx.driver.freeze(timeout=timeout)
    clocks.jumped += seconds
    _record(ctx, clocks, f"jump {signed(seconds)} while tab {ctx.driver.tab_number()} sleeps", {})
    ctx.driver.set_date_offset(after)  # the other tabs now, later loads by the init script
    ctx.driver.resume(timeout=timeout)
    _record(ctx, clocks, "tab resumed", ctx.driver.observed_date_offsets())


def _record(ctx: RunContext, clocks: RunClocks, change: str, observed: dict[int, float]) -> None:
    at = ctx.timeline.now()
    data = clocks.describe(at)
    if observed:
        data["page_observed"] = {str(tab): offset for tab, offset in observed.items()}
    ctx.timeline.emit("runner", "clock", at=at, change=change, **data)


def party_offsets(event_data: dict[str, Any]) -> dict[Party, float]:
    """A ``clock`` event's offsets by party (for reports)."""
    return {p: float(event_data.get(f"{p}_offset", 0.0)) for p in PARTIES}
