"""Where the harness's own data is: the pages the mock serves (the app page, the control panel, the probe pages)
and the scenario library.

The one answer for every module that needs one. Both ship inside the package -- ``harness.fixtures`` and
``harness.library``, which pyproject.toml maps from the top-level ``fixtures/`` and ``scenarios/`` folders -- and are
found through :mod:`importlib.resources`, so an installed harness (``pip install .``, a wheel) finds them exactly as
a checkout with an editable install does. Invariant: no other module derives a data path from ``__file__``; user
scenario folders are wherever the user points, never looked up here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from harness.errors import HarnessError

FIXTURES_PACKAGE = "harness.fixtures"
LIBRARY_PACKAGE = "harness.library"


def _folder(package: str) -> Path:
    """The folder of a data package on disk (the harness reads it with pathlib, and jinja2 loads from it)."""
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        raise HarnessError(f"the harness is installed without its data ({package} is missing); reinstall it with "
                           "`pip install .` from the repository") from None
    if not isinstance(root, Path):
        raise HarnessError(f"{package} is installed inside an archive; install the harness unpacked (pip install .)")
    return root


def pages_dir() -> Path:
    """The app page, the control panel and the probe pages."""
    return _folder(FIXTURES_PACKAGE) / "pages"


def library_dir() -> Path:
    """The scenario library: ``<id>.yaml`` files, run by id (``harness run offline-refresh-due``)."""
    return _folder(LIBRARY_PACKAGE)
