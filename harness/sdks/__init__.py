"""Auth-SDK adapters: everything the harness knows about one SDK lives in one module here.

An adapter says how to obtain a version's bundle (an npm package), what the app page loads, the API routes the mock
serves for it, where the session is stored (:class:`harness.sdk_protocol.SessionStore`), and the page-side snippets
that read the SDK's own view. The protocol itself lives in :mod:`harness.sdk_protocol`, below both this package and
the mock server. Adapters: Clerk's browser SDK (:mod:`harness.sdks.clerk`, session in cookies) and Supabase's
(:mod:`harness.sdks.supabase`, session in localStorage) and Firebase Auth's (:mod:`harness.sdks.firebase`, session in
IndexedDB, or in localStorage as ``firebase-local``); another SDK is one more module registered in :data:`SDKS`,
selected by a scenario's ``setup.sdk``.
"""

from __future__ import annotations

from typing import Any, Callable

from harness.sdk_protocol import SdkAdapter, SessionStore

__all__ = ["DEFAULT_SDK", "SDKS", "SdkAdapter", "SessionStore", "adapter_class", "adapter_for_package", "sdk_for"]


def _clerk() -> type[SdkAdapter]:
    from harness.sdks.clerk import ClerkSdk

    return ClerkSdk


def _supabase() -> type[SdkAdapter]:
    from harness.sdks.supabase import SupabaseSdk

    return SupabaseSdk


def _firebase() -> type[SdkAdapter]:
    from harness.sdks.firebase import FirebaseSdk

    return FirebaseSdk


def _firebase_local() -> type[SdkAdapter]:
    from harness.sdks.firebase import FirebaseLocalStorageSdk

    return FirebaseLocalStorageSdk


# name -> a function returning the adapter class (imported lazily: an adapter's module loads only when used).
SDKS: dict[str, Callable[[], type[SdkAdapter]]] = {"clerk": _clerk, "supabase": _supabase, "firebase": _firebase,
                                                   "firebase-local": _firebase_local}
# The SDK of a scenario file without ``setup.sdk`` (the harness's first adapter; every older file is its), and of a
# command line without ``--sdk``.
DEFAULT_SDK = "clerk"


def adapter_class(name: str) -> type[SdkAdapter]:
    """The adapter class registered as ``name`` (its class attributes: package, known versions, store)."""
    return SDKS[name]()


def sdk_for(name: str, **options: Any) -> SdkAdapter:
    """A fresh adapter (its own signing key and session state) for one run."""
    return adapter_class(name)(**options)


def adapter_for_package(package: str) -> type[SdkAdapter] | None:
    """The adapter whose npm package is ``package`` (a result names its SDK by package), or None."""
    return next((cls for cls in (adapter_class(n) for n in SDKS) if cls.package == package), None)
