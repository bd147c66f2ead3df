"""Clerk's session tokens, as the real Frontend API mints them for the mock's one session.

Tokens carry what the real Frontend API's origin-minted session tokens carry: the ``oiat`` header (origin issued-at,
seconds; clerk-js >= 6.11 compares it to keep the fresher of two tokens and lets tokens without it through), the
session-token category ``cat``, and the v2 claims ``v``, ``fva``, ``sts``. Every mock token is origin-minted, so
``oiat`` is its ``iat``. Signing, verifying and minting ahead (``pin``) are the generic issuer's
(:class:`harness.mock.tokens.TokenIssuer`).
"""

from __future__ import annotations

from typing import Any

from harness.mock.tokens import TokenIssuer

ISSUER = "https://clerk.mock.test"  # the Frontend API's host: the ``iss`` a Clerk backend expects
KEY_ID = "ins_mock"
SESSION_TOKEN_CATEGORY = "cl_B7d4PD111AAA"  # @clerk/backend's JWT_CATEGORY_SESSION_TOKEN


class ClerkTokenIssuer(TokenIssuer):
    """A run's issuer of Clerk session tokens (``__session``)."""

    issuer_url = ISSUER
    key_id = KEY_ID

    def extra_claims(self, now: int) -> dict[str, Any]:
        return {"v": 2, "fva": [0, -1], "sts": "active"}

    def extra_headers(self, now: int) -> dict[str, Any]:
        return {"cat": SESSION_TOKEN_CATEGORY, "oiat": now}
