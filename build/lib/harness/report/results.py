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

    Returns the finished runs, oldest first, and the run folders marked INCOMPLETE (skipped). A path that cannot be
    read, or a file that is not a harness result, is a :class:`HarnessError` of one line naming it."""
    entries: list[Entry] = []
    incomplete: list[Path] = []
    for path in paths:
        path = Path(path)
        try:
            files = _result_files(path)
        except OSError as err:
            raise HarnessError(f"{path}: cannot be read ({err.strerror or err}); pass result.json files, run "
                               "folders or a reports folder") from None
        for file in files:
            if (file.parent / MARKER).exists():
                incomplete.append(file.parent)
                continue
            try:
                data = json.loads(file.read_text())
            except OSError as err:
                raise HarnessError(f"{file}: cannot be read ({err.strerror or err}); pass the files a run wrote") \
                    from None
            except ValueError as err:
                raise HarnessError(f"{file}: not a harness result (not JSON: {err}); pass the files a run wrote") \
                    from None
            missing = malformed(data)
            if missing:
                raise HarnessError(f"{file}: not a harness result (missing {missing}); pass the files a run wrote")
            entries.append(Entry(data, file.parent))
    entries.sort(key=lambda e: e.result.get("started_at") or 0)
    return entries, incomplete


def _result_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if (path / "result.json").is_file() or (path / MARKER).exists():
        return [path / "result.json"]
    if path.is_dir():
        # Hidden folders are result folders still being created (RunFolder.create), not runs.
        files = sorted(p / "result.json" for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")
                       and ((p / "result.json").is_file() or (p / MARKER).exists()))
        if not files:
            raise HarnessError(f"{path} holds no result folders; pass result.json files or run folders")
        return files
    raise HarnessError(f"{path} does not exist; pass result.json files, run folders or a reports folder")


def malformed(data: Any) -> str | None:
    """What a saved result lacks that the reports read (None: nothing), e.g. ``"source" in event 3``."""
    if not isinstance(data, dict):
        return "an object at the top level"
    for key, kind in (("outcome", str), ("events", list)):
        if not isinstance(data.get(key), kind):
            return f'"{key}"'
    for i, e in enumerate(data["events"], start=1):
        if not isinstance(e, dict):
            return f"an object as event {i}"
        for key, kinds in (("t", (int, float)), ("source", str), ("kind", str)):
            if not isinstance(e.get(key), kinds) or isinstance(e.get(key), bool):
                return f'"{key}" in event {i}'
        if not isinstance(e.get("data") or {}, dict):
            return f'"data" (an object) in event {i}'
    if not isinstance(data.get("browser") or {}, dict):
        return '"browser" (an object)'
    for field_name, needs in (("checks", ("name", "passed", "detail")), ("steps", ("index",))):
        items = data.get(field_name, [])
        if not isinstance(items, list):
            return f'"{field_name}" (a list)'
        for i, item in enumerate(items, start=1):
            gap = next((k for k in needs if not isinstance(item, dict) or k not in item), None)
            if gap is not None:
                return f'"{gap}" in {field_name[:-1]} {i}'
    return None
