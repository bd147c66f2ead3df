"""``delay``: wait, then hand the request on (to the next stage of a chain, or to the normal answer).

With ``token: arrival`` the late answer carries the token minted when the request arrived, so a slow response can
bring an older token than one answered meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import Any, Mapping

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from harness.duration import Seconds
from harness.mock.faults.kind import FaultKind, RequestContext, TokenTiming, fault_kind, token_timing_field


class DelayArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay: Seconds = Field(0.0, ge=0, description="how long to wait before handing the request on (2s, 500ms)")
    token: TokenTiming = token_timing_field()


@fault_kind("delay")
class DelayFault(FaultKind[DelayArgs]):
    Args = DelayArgs
    summary = "wait, then answer normally, or hand the request to the next stage of a chain"
    doc = "Delay matching requests, then answer normally (``delay: 2s``)."
    scalar = stage_scalar = "delay"
    ends_request = False

    def fields(self) -> dict[str, Any]:
        return {"delay": self.args.delay, **({"token": "arrival"} if self.pins_token else {})}

    @property
    def pins_token(self) -> bool:
        return self.args.token == "arrival"

    async def apply(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse | None:
        if self.pins_token:
            ctx.pin_token()
        ctx.emit("fault")
        await asyncio.sleep(self.args.delay)
        return None

    @classmethod
    def did(cls, event: Mapping[str, Any]) -> str:
        return f"delayed {event.get('delay')} s"

    @classmethod
    def arming(cls, event: Mapping[str, Any]) -> str:
        late = ", answering with the token of the request's arrival" if event.get("token") == "arrival" else ""
        return f"delay {event.get('delay')} s{late}"
