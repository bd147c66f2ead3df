"""The generic app backend: an app's server that verifies the credential its SDK's adapter names.

For an SDK whose app sends its token to its own API (Supabase's sends the access token as ``Authorization: Bearer``
to ``/api/me``), the server's view of a request is the adapter's token authority's check of
:meth:`harness.sdk_protocol.SdkAdapter.credential`: signature, expiry, the session still alive. An adapter whose
SDK's server library decides more (a port of it, with a handshake through the auth server) supplies its own
:class:`harness.sdk_protocol.AppBackend` instead, from its own package.

Invariants: a page request is judged only when the adapter says it carries the session
(:attr:`~harness.sdk_protocol.SdkAdapter.page_carries_session`); otherwise the page records no view and the page's
own API call is the server's view of the load. An API call is answered 200 with the view, whatever it says, as the
page only reads it.
"""

from __future__ import annotations

from typing import Any, Callable

from aiohttp import web

from harness.sdk_protocol import BackendAnswer, ClockedAuthority, SdkAdapter


class CredentialBackend:
    """The adapter's own check of its credential, as the SDK's server library makes it."""

    note = ""

    def __init__(self, sdk: SdkAdapter, clock: Callable[[], float] | None = None) -> None:
        self.sdk = sdk
        self.clock = clock  # the app server's own wall clock (harness/clock.py); None: the token authority's
        self.name = sdk.name
        self.description = f"the {sdk.name} adapter's own check of {sdk.session_store.credential}"

    def page(self, request: web.Request) -> BackendAnswer:
        return BackendAnswer(self._view(request, document=True) if self.sdk.page_carries_session else None)

    def api(self, request: web.Request) -> BackendAnswer:
        return BackendAnswer(self._view(request, document=False))

    def _view(self, request: web.Request, document: bool) -> dict[str, Any]:
        credential = self.sdk.credential(request)
        if self.clock is None:
            check = self.sdk.issuer.check(credential, revoked=self.sdk.revoked)
        else:
            authority: ClockedAuthority = self.sdk.issuer  # type: ignore[assignment]  # a clock is given only to one
            check = authority.check(credential, revoked=self.sdk.revoked, now=self.clock())
        return {"path": request.path, "backend": self.name, "document": document, "signed_in": check.valid,
                **check.to_dict()}
