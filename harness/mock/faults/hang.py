"""``hang``: never answer; a release closes the held connections (always, whatever its ``outcome`` says), and the
fault then goes on closing matching requests until it is released once more, as a ``hold`` released with a drop.
"""

from __future__ import annotations

from typing import Any, Mapping

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from harness.mock.faults.hold import held_until_released, held_words
from harness.mock.faults.kind import FaultKind, RequestContext, fault_kind


class HangArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


@fault_kind("hang")
class HangFault(FaultKind[HangArgs]):
    Args = HangArgs
    summary = "never answer; `release` closes the held connections"
    doc = "Never answer matching requests; ``release`` closes their connections."
    scalar = "path"
    waits_for_release = True
    forced_outcome = "drop"
    on_release = ("held requests are closed, whatever `outcome` says; it then keeps closing matching requests "
                  "until released once more")

    async def apply(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse | None:
        response = await held_until_released(ctx)
        assert response is not None, "a hang is released only with a drop"  # forced_outcome
        return response

    @classmethod
    def did(cls, event: Mapping[str, Any]) -> str:
        return held_words(event, "held (hang)")

    @classmethod
    def arming(cls, event: Mapping[str, Any]) -> str:
        return "hang (never answer)"
