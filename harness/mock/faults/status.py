"""``status``: answer with an HTTP status and the SDK's own error body, so the SDK takes its real error path.

The body comes from the adapter (:meth:`harness.sdk_protocol.SdkAdapter.error_body`): Clerk's ``errors`` list,
GoTrue's ``{code, error_code, msg}``. The request never reaches the mock's handler.
"""

from __future__ import annotations

from typing import Any, Mapping

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from harness.mock.faults.kind import FaultKind, RequestContext, fault_kind


class StatusArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int = Field(503, ge=100, le=599, description="the HTTP status to answer")
    error_code: str | None = Field(None, description="the error code in the body (default: the SDK's for the "
                                                     "status)")


@fault_kind("status")
class StatusFault(FaultKind[StatusArgs]):
    Args = StatusArgs
    summary = "answer with any HTTP status and the SDK's own error body"
    doc = ("Answer matching requests with an HTTP status and the SDK's own error body (``status: 429``, or "
           "``status: {status: 503, on: client}``); the same fields as ``fault``.")
    scalar = stage_scalar = "status"

    def fields(self) -> dict[str, Any]:
        return {"status": self.args.status}

    async def apply(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse | None:
        ctx.emit("fault")
        return web.json_response(dict(ctx.error_body(self.args.status, self.args.error_code)),
                                 status=self.args.status)

    @classmethod
    def did(cls, event: Mapping[str, Any]) -> str:
        return f"answered {event.get('status')}"

    @classmethod
    def arming(cls, event: Mapping[str, Any]) -> str:
        return f"answer {event.get('status')}"
