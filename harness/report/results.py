"""Results to report on: runs in memory (RunResult) or saved in result folders (``result.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from harness.errors import HarnessError
from harness.report.artifacts import MARKER


@dataclass
class Entry:
    """One run to show: its result and the folder its artifacts live in (None when it was not saved)."""

    result: dict[str, Any]
    folder: Path | None = None


def entry_of(result: Any) -> Entry:
    """An :class:`Entry` from a RunResult, a result dict, or an Entry."""
    if isinstance(result, Entry):
        return result
    data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    folder = data.get("artifacts", {}).get("folder")
    return Entry(data, Path(folder) if folder else None)


def load_results(paths: Iterable[Path]) -> tuple[list[Entry], list[Path]]:
    """Read saved results: ``result.json`` files, run folders, or folders of run folders (e.g. ``reports/``).

    Returns the finished runs, oldest first, and the run folders marked INCOMPLETE (skipped)."""
    entries: list[Entry] = []
    incomplete: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_file():
            files = [path]
        elif (path / "result.json").is_file() or (path / MARKER).exists():
            files = [path / "result.json"]
        elif path.is_dir():
            files = sorted(p / "result.json" for p in path.iterdir() if p.is_dir()
                           and ((p / "result.json").is_file() or (p / MARKER).exists()))
            if not files:
                raise HarnessError(f"{path} holds no result folders; pass result.json files or run folders")
        else:
            raise HarnessError(f"{path} does not exist; pass result.json files, run folders or a reports folder")
        for file in files:
            if (file.parent / MARKER).exists():
                incomplete.append(file.parent)
                continue
            try:
                data = json.loads(file.read_text())
            except (OSError, ValueError) as err:
                raise HarnessError(f"{file} is not a readable result.json ({err}); pass the files a run wrote") from None
            if not isinstance(data, dict) or "events" not in data or "outcome" not in data:
                raise HarnessError(f"{file} is not a harness result (no events/outcome); pass the files a run wrote")
            entries.append(Entry(data, file.parent))
    entries.sort(key=lambda e: e.result.get("started_at") or 0)
    return entries, incomplete
