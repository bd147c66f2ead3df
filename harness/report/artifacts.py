"""A run's result folder under ``reports/``: written so that an interrupted run never leaves a half-written file.

Each file is written to a temporary name and renamed into place. The folder carries an ``INCOMPLETE`` marker from
the moment it is created until ``result.json`` is in place, so a run cut short by Ctrl-C or a crash is visibly
incomplete rather than silently partial.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

MARKER = "INCOMPLETE"


def write_atomic(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class RunFolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, str] = {}

    @classmethod
    def create(cls, root: Path, scenario: str, version: str) -> "RunFolder":
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = root / f"{stamp}-{_slug(scenario)}-{_slug(version)}"
        path, n = base, 1
        while path.exists():
            n += 1
            path = base.with_name(f"{base.name}-{n}")
        path.mkdir(parents=True)
        write_atomic(path / MARKER, "this run did not finish; its files may be missing\n")
        return cls(path)

    def add(self, kind: str, name: str) -> None:
        self.files[kind] = name

    def finish(self, result: Any) -> Path:
        result.artifacts = {k: str(self.path / v) for k, v in self.files.items()}
        result.artifacts["folder"] = str(self.path)
        result.artifacts["result"] = str(self.path / "result.json")
        out = write_atomic(self.path / "result.json", json.dumps(result.to_dict(), indent=2, default=str))
        (self.path / MARKER).unlink(missing_ok=True)
        return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "run"
