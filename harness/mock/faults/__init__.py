"""Server-side faults, injected on cue into matching requests (the Toxiproxy/WireMock part of the mock).

One module per kind (``status``, ``delay``, ``drop``, ``hold``, ``hang``), each a class registered by name
(:func:`~harness.mock.faults.kind.fault_kind`) that owns its arguments, words, behaviour and release; what every
fault shares -- which requests, which calls, its life until released -- is :mod:`~harness.mock.faults.envelope`;
kinds combine on one request as a chain (:mod:`~harness.mock.faults.chain`). The fault steps
(:mod:`harness.scenario.fault_steps`), the reference docs and the report's words (:mod:`~harness.mock.faults.wording`)
are derived from the registry, :data:`KINDS`.

A new kind is one new module in this package: every module here that is not one of the shared parts below is a
kind module, imported (and so registered) when the package is; the shared parts that read the registry (``args``,
``wording``) are imported after it, on use.
"""

from __future__ import annotations

import importlib
import pkgutil

from harness.mock.faults.envelope import Envelope, Fault, FaultBook, FaultCall, FaultState, MockHooks
from harness.mock.faults.kind import KINDS, FaultKind, FaultTarget, ReleaseOutcome, fault_kind

SHARED_PARTS = frozenset({"args", "chain", "envelope", "kind", "wording"})

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in SHARED_PARTS):
    importlib.import_module(f"{__name__}.{_module}")  # each kind module registers its kind on import
_registered = sorted(KINDS.items())  # by name, whatever order the modules imported each other in
KINDS.clear()
KINDS.update(_registered)

__all__ = ["KINDS", "Envelope", "Fault", "FaultBook", "FaultCall", "FaultKind", "FaultState", "FaultTarget",
           "MockHooks", "ReleaseOutcome", "fault_kind"]
