"""The ``expect_requests`` step: a bound on how many requests of one kind reach the server in any window of time.

A clock set wrong (a client an hour fast) can make every token look due, so the SDK refreshes on every call: a refresh
storm, which a real auth server ends with a 429 (supabase/auth-js#926, firebase-js-sdk#3222). A storm that loses
nothing is not a sign-out, so the bound never changes the outcome; it is its own claim, checked by the
``request-count`` check (role ``bound``): the verdict line and the report say when it was exceeded, and the run then
does not match its file's claim.

The step records the bound on the timeline (``expect.requests``) and returns at once; the check counts the mock's
``request`` events whose path matches, from the step to the end of the run, in every window of ``within`` seconds.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from harness.duration import parse_duration
from harness.errors import HarnessError
from harness.mock.faults.kind import target_in
from harness.scenario.step_registry import RunContext, step


class ExpectRequests(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    on: str | None = Field(None, description="a request the SDK's adapter names (`token`); default `token`")
    path: str | None = Field(None, description="or a glob on the request path")
    at_most: int = Field(ge=0, description="no window may hold more than this many")
    within: float = Field(gt=0, description="the window (`10s`, `1m`)")

    @field_validator("within", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("on")
    @classmethod
    def _named(cls, value: str | None, info: ValidationInfo) -> str | None:
        target = target_in(info)
        if value is not None and target is not None and value not in target.request_paths:
            raise ValueError(f"the {target.name} adapter names no `{value}` request (its requests: "
                             f"{', '.join(target.request_paths)})")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> "ExpectRequests":
        if self.on is not None and self.path is not None:
            raise ValueError("give `on` or `path`, not both")
        return self


@step("expect_requests", ExpectRequests)
def expect_requests(ctx: RunContext, args: ExpectRequests, timeout: float) -> None:
    """Bound the requests that reach the server from now to the end of the run: ``expect_requests: {on: token,
    at_most: 5, within: 10s}`` (or ``path: GLOB``; default ``on: token``). The ``request-count`` check fails when any
    window of ``within`` seconds holds more; the outcome stays what the session's fate says (a storm that loses
    nothing is no sign-out), but the run no longer matches its claim and the verdict line says why."""
    name = args.on or ("token" if args.path is None else None)
    glob = args.path if name is None else ctx.sdk.request_paths.get(name)
    if glob is None:
        raise HarnessError(f"expect_requests: the {ctx.sdk.name} adapter names no `{name}` request")
    ctx.timeline.emit("runner", "expect.requests", what=f"`{name}` requests" if name else f"requests to {glob}",
                      path=glob, at_most=args.at_most, within=args.within)
