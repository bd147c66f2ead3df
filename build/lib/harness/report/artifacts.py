"""A run's result folder under ``reports/``: written so that an interrupted run never leaves a half-written file.

The folder holds ``result.json`` (the run, its timeline included), ``requests.json`` (the mock's request log, each
request with its status or fault) and ``console.json`` (console messages and page errors) -- both views of the
timeline --, ``trace.zip`` (the Playwright trace, one group per step), and a screenshot at each oracle check
(``step-NN-<step>.png``, ``final.png``).

Each file is written to a temporary name and renamed into place; so is the folder itself, under a unique name
(:meth:`RunFolder.create`: concurrent harness processes never collide). The folder carries an ``INCOMPLETE`` marker from
the moment it is created until ``result.json`` is in place, so a run cut short by Ctrl-C or a crash is visibly
incomplete rather than silently partial.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

MARKER = "INCOMPLETE"
PARTIAL = ".partial"  # suffix of files still being written (hidden, and never left behind by a clean exit)
# A screenshot larger than this is stored as JPEG instead, so that reports embedding it stay small.
MAX_PNG_BYTES = 200_000


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to a hidden temporary file beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PARTIAL, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; reports are meant to be read and attached
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
        """A new folder ``<stamp>-<scenario>-<version>[-N]`` under ``root``, already holding its ``INCOMPLETE``
        marker. It is built under a hidden temporary name and renamed into place: the rename fails when the name is
        taken (by another process writing in the same second, too), and the next ``-N`` is tried, so two creators
        never share a folder and no reader ever sees one without its marker."""
        root.mkdir(parents=True, exist_ok=True)
        base = f"{_stamp()}-{_slug(scenario)}-{_slug(version)}"
        staging = Path(tempfile.mkdtemp(prefix=f".{base}.", suffix=PARTIAL, dir=root))
        try:
            write_atomic(staging / MARKER, "this run did not finish; its files may be missing\n")
            os.chmod(staging, 0o755)  # mkdtemp makes it private; reports are meant to be read and attached
            for n in range(1, 10_000):
                path = root / (base if n == 1 else f"{base}-{n}")
                if path.exists():  # a taken name; the rename below settles a race for a free one
                    continue
                try:
                    os.rename(staging, path)
                except OSError as err:
                    if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                        raise
                    continue
                return cls(path)
            raise FileExistsError(errno.EEXIST, "no free result folder name", str(root / base))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def add(self, kind: str, name: str) -> None:
        self.files[kind] = name

    def partial(self, name: str) -> Path:
        """A temporary path for a file another program writes (the trace); :meth:`adopt` renames it into place."""
        return self.path / f".{name}{PARTIAL}"

    def adopt(self, partial: Path, name: str, kind: str) -> Path | None:
        if not partial.exists():
            return None
        os.replace(partial, self.path / name)
        self.add(kind, name)
        return self.path / name

    def screenshot(self, page: Any, name: str) -> str | None:
        """Capture ``page`` into ``<name>.png`` (``.jpg`` when the PNG would be large); None if it cannot be taken."""
        try:
            clip = content_clip(page)
            data, ext = page.screenshot(type="png", clip=clip), "png"
            if len(data) > MAX_PNG_BYTES:
                data, ext = page.screenshot(type="jpeg", quality=70, clip=clip), "jpg"
        except Exception:  # a closed or crashed page has nothing to show; the run goes on
            return None
        file = f"{name}.{ext}"
        write_atomic(self.path / file, data)
        self.add(f"screenshot:{name}", file)
        return file

    def finish(self, result: Any) -> Path:
        """Write the views of the run (request log, console) and then ``result.json``; drop the marker last."""
        from harness.report.view import console_log, request_log

        result.artifacts = {k: str(self.path / v) for k, v in self.files.items()}
        data = result.to_dict()
        write_atomic(self.path / "requests.json", json.dumps(request_log(data["events"]), indent=1))
        write_atomic(self.path / "console.json", json.dumps(console_log(data["events"]), indent=1))
        result.artifacts.update({"requests": str(self.path / "requests.json"),
                                 "console": str(self.path / "console.json"),
                                 "folder": str(self.path), "result": str(self.path / "result.json")})
        out = write_atomic(self.path / "result.json", json.dumps(result.to_dict(), indent=2, default=str))
        (self.path / MARKER).unlink(missing_ok=True)
        return out


# The viewport, cropped to the page's text (at least 480 x 240 px): a short page then stays legible in a report.
_CONTENT_BOX_JS = """() => {
  const w = document.documentElement.clientWidth || window.innerWidth, h = window.innerHeight;
  let right = 0, bottom = 0, n = 0;
  const walker = document.body ? document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT) : null;
  const range = document.createRange();
  while (walker && walker.nextNode() && n++ < 2000) {
    if (!walker.currentNode.textContent.trim()) continue;
    range.selectNodeContents(walker.currentNode);
    const r = range.getBoundingClientRect();
    right = Math.max(right, r.right); bottom = Math.max(bottom, r.bottom);
  }
  if (!right) return {x: 0, y: 0, width: w, height: h};
  return {x: 0, y: 0, width: Math.min(w, Math.max(480, Math.ceil(right + 32))),
          height: Math.min(h, Math.max(240, Math.ceil(bottom + 32)))};
}"""


class Clip(TypedDict):
    """A screenshot's clip rectangle, in CSS pixels (the shape Playwright's ``screenshot(clip=...)`` takes)."""

    x: float
    y: float
    width: float
    height: float


def content_clip(page: Any) -> Clip | None:
    try:
        box = page.evaluate(_CONTENT_BOX_JS)
    except Exception:  # mid-navigation: the whole viewport will do
        return None
    return box if box and box.get("width") and box.get("height") else None


def _stamp() -> str:
    """The local time to the second, the start of a result folder's name (sorts by time)."""
    return time.strftime("%Y%m%d-%H%M%S")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "run"
