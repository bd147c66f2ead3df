"""``hold``: keep the request open until ``release``, which says whether it then goes on (``pass``: the next
stage, or the normal answer) or has its connection closed (``drop``).

Released with ``drop``, the fault goes on closing every matching request before any byte until it is released once
more (Chromium's silent resend of the POST among them: see :mod:`harness.mock.faults.envelope`). With
``token: arrival`` the late answer carries the token minted when the request arrived.
"""

from __future__ import annotations

from typing import Any, Mapping

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from harness.mock.faults.kind import FaultKind, RequestContext, TokenTiming, fault_kind, token_timing_field


class HoldArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: TokenTiming = token_timing_field()


async def held_until_released(ctx: RequestContext) -> web.StreamResponse | None:
    """Record the hold, wait for the release; a release with ``drop`` (or the run's end) closes the connection."""
    ctx.emit("fault.held")
    if await ctx.released() == "drop":
        return ctx.drop(after="run-end" if ctx.left_armed else "hold")
    return None


def held_words(event: Mapping[str, Any], held: str) -> str:
    """A held request's fate in words: ``held``, then dropped by its release or by the end of the run."""
    after = event.get("after")
    if after == "run-end":
        return f"{held} until the run ended, then dropped"
    return f"{held}, then dropped" if after == "hold" else held


@fault_kind("hold")
class HoldFault(FaultKind[HoldArgs]):
    Args = HoldArgs
    summary = "keep requests open until `release`, then answer them, or close them if released with a drop"
    doc = ("Keep matching requests open until ``release`` (``hold: {times: 1, name: h}`` holds the next token "
           "request).")
    scalar = "path"
    ends_request = False
    waits_for_release = True
    on_release = ("held requests go on (`pass`) or are closed (`drop`); released with a drop it keeps closing "
                  "matching requests until released once more")

    def fields(self) -> dict[str, Any]:
        return {"token": "arrival"} if self.pins_token else {}

    @property
    def pins_token(self) -> bool:
        return self.args.token == "arrival"

    async def apply(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse | None:
        if self.pins_token:
            ctx.pin_token()
        return await held_until_released(ctx)

    @classmethod
    def did(cls, event: Mapping[str, Any]) -> str:
        return held_words(event, "held")

    @classmethod
    def arming(cls, event: Mapping[str, Any]) -> str:
        return "hold" + (" (the answer carries the token of the request's arrival)"
                         if event.get("token") == "arrival" else "")
