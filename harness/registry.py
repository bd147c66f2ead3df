"""The one registration style every extension point shares: a :class:`Registry` maps a name to its declaration.

Steps (:data:`harness.scenario.step_registry.STEPS`), checks (:data:`harness.oracles.checks.CHECKS`), fault kinds
(:data:`harness.mock.faults.kind.KINDS`) and event kinds (:data:`harness.events.EVENTS`) are each one ``Registry``,
filled by a decorator or a call next to the code that owns the thing (``@step``, ``@check``, ``@fault_kind``,
``event_kind``) and read by everything else -- the loader, the runner, the reference docs, the report. Adapters
(:data:`harness.sdks.SDKS`) are a plain name -> loader table, so that an adapter's module is imported only when used.

Invariant: a name is registered once; a second registration under the same name is a programming error, refused at
import, never a silent replacement.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class DuplicateName(ValueError, RuntimeError):
    """A second registration under a name already taken (a ValueError, and a RuntimeError as fault kinds raised)."""


class Registry(dict[str, T]):
    """Name -> declaration, in registration order; :meth:`add` refuses a name already taken."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what  # "step", "check", ...: for the refusal's words

    def add(self, name: str, item: T) -> T:
        if name in self:
            raise DuplicateName(f"two {self.what}s named {name!r}: {_where(self[name])} and {_where(item)}")
        self[name] = item
        return item


def _where(item: object) -> str:
    """Where a declaration comes from (its module), for the refusal."""
    return str(getattr(item, "__module__", None) or getattr(getattr(item, "run", None), "__module__", None) or item)
