"""Durations as scenario files write them: ``2``, ``2.5``, ``"2s"``, ``"500ms"``, ``"1m"``, always read as seconds.

One parser for every field that takes a time (a ``wait``, a step's ``timeout``, a ``delay`` fault), so a file means
the same thing by ``500ms`` everywhere.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator


def parse_duration(value: Any) -> float:
    """``2``, ``2.5``, ``"2s"``, ``"500ms"``, ``"1m"`` → seconds; anything else is a ValueError that says the forms."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m)?\s*", str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration (e.g. 2, 2.5s, 500ms, 1m)")
    number, unit = float(match.group(1)), match.group(2) or "s"
    return number * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]


# A field of seconds that a scenario may write as a duration (``delay: 500ms``). The parser sits in the type, so a
# model that reuses the field (the ``fault`` step's, built from the fault kinds') parses it the same way.
Seconds = Annotated[float, BeforeValidator(parse_duration)]
