"""``drop``: close the connection, before any response byte (``at: headers``) or after the headers and part of
the body (``at: body``).

A drop keeps applying until released, whatever ``calls`` and ``times`` say once it has applied: Chromium silently
resends a POST once when a reused connection closes before any response byte, so a one-shot drop would never reach
the SDK. Every application cuts where ``at`` says, the first and every later one.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal, Mapping

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from harness.mock.faults.kind import FaultKind, RequestContext, fault_kind

PARTIAL_BODY = b'{"object":"tok'  # what a mid-body cut lets through, of a body that announced 4096 bytes
CUT_AFTER_S = 0.05  # the partial body is on the wire before the connection closes


class DropArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: Literal["headers", "body"] = Field("headers", description="close before the headers, or after the headers "
                                                                  "and part of the body")


@fault_kind("drop")
class DropFault(FaultKind[DropArgs]):
    Args = DropArgs
    summary = "close the connection before the headers, or mid-body with `at: body`; keeps dropping until released"
    doc = ("Close the connection of matching requests (``drop: \"*/tokens\"``; ``at: body`` cuts mid-body). Keeps "
           "dropping until released: Chromium resends a POST once when a reused connection closes before any "
           "response byte, so a one-shot drop would never reach the SDK.")
    scalar = "path"
    stage_scalar = "at"  # in a chain, {drop: body}
    keeps_applying = True

    def fields(self) -> dict[str, Any]:
        return {"drop_at": self.args.at}  # not "at": that is an event's time stamp

    async def apply(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse | None:
        if self.args.at == "headers":
            return ctx.drop()
        ctx.emit("fault")
        stream = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                         "Content-Length": "4096"})
        await stream.prepare(request)
        await stream.write(PARTIAL_BODY)
        await asyncio.sleep(CUT_AFTER_S)
        if request.transport is not None:
            request.transport.close()
        return stream

    @classmethod
    def did(cls, event: Mapping[str, Any]) -> str:
        return "dropped " + ("mid-body" if event.get("drop_at") == "body" else "before the headers")

    @classmethod
    def arming(cls, event: Mapping[str, Any]) -> str:
        return "drop " + ("mid-body" if event.get("drop_at") == "body" else "before the headers")
