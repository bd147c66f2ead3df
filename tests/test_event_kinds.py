"""Every event kind the package emits is declared once (harness/events.py), and every reader uses the declaration.

The emitted kinds are read from the sources themselves: each ``emit(...)`` call in the Python modules (the
timeline's ``emit(source, kind)`` and the mock's ``emit(kind)``), each ``emit('kind', ...)`` in the page scripts
(JavaScript files, the app page, and JavaScript held in Python strings), and the page events the probe forwards by
name. A new ``emit`` of an undeclared kind fails here, before any run shows it as a bare word.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from harness.events import EVENTS, WAITS, event_kind

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for p in (ROOT / "harness").rglob("*") if p.suffix in (".py", ".js")] + \
    [p for p in (ROOT / "fixtures").rglob("*") if p.suffix in (".html", ".js")]
_JS_EMIT = re.compile(r"""(?:emit|__harnessEmit)\(\s*'([a-z_.]+)'""")
_PROBE_LISTS = re.compile(r"for \(const type of \[([^\]]*)\]\)")


def _python_emits(path: Path) -> set[str]:
    kinds: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        call = node.func if isinstance(node, ast.Call) else None
        emits = isinstance(call, ast.Attribute) and call.attr in ("emit", "_emit")  # _emit: to every live run
        if not emits:
            continue
        words = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args[:2]]
        if len(words) == 2 and words[1] is not None:
            kinds.add(words[1])  # timeline.emit(source, kind, ...)
        elif len(words) == 1 and words[0] is not None:
            kinds.add(words[0])  # the mock's emit(kind, ...); emit(source, a_variable) passes a kind read elsewhere
    return kinds


def emitted_kinds() -> dict[str, set[str]]:
    """Kind -> the files that emit it."""
    found: dict[str, set[str]] = {}
    for path in SOURCES:
        text = path.read_text()
        kinds = set(_JS_EMIT.findall(text))
        if path.suffix == ".py":
            kinds |= _python_emits(path)
        for listed in _PROBE_LISTS.findall(text):  # the page events the probe forwards under their own names
            kinds |= {"visibility" if k == "visibilitychange" else k for k in re.findall(r"'([a-z]+)'", listed)}
        for kind in kinds:
            found.setdefault(kind, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_scan_finds_the_emits_it_is_meant_to_find():
    found = emitted_kinds()
    # One of each form: timeline.emit(source, kind), the mock's emit(kind), a page script, the probe's list.
    assert {"step.start", "fault.held", "sdk.token.end", "visibility", "api.answer"} <= set(found)


def test_every_emitted_event_kind_is_declared():
    undeclared = {k: sorted(v) for k, v in emitted_kinds().items() if k not in EVENTS}
    assert not undeclared, f"declare these event kinds in harness/events.py (event_kind): {undeclared}"


def test_every_declared_kind_is_emitted_somewhere():
    emitted = emitted_kinds()
    unused = sorted(set(EVENTS) - set(emitted))
    assert not unused, f"declared but never emitted (remove them from harness/events.py): {unused}"


def test_each_wait_is_over_declared_kinds_and_a_kind_cannot_be_declared_twice():
    for wait in WAITS.values():
        assert all(k in EVENTS for k in wait.kinds), wait.name
    with pytest.raises(ValueError, match="two event kinds named 'step.start'"):
        event_kind("step.start", "runner", "again")


def test_the_report_describes_only_declared_kinds_and_hides_the_declared_minor_ones():
    from harness.report import view

    assert set(view.LINES) <= set(EVENTS)
    row = view.timeline_rows([{"t": 0.0, "at": 0.0, "source": "runner", "kind": "screenshot", "step": 1,
                               "data": {"file": "a.png"}}])[0]
    assert row.minor and EVENTS["screenshot"].minor
