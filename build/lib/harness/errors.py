"""Errors a user can act on.

Every failure that comes from the user's input or machine (a bad scenario file, an unknown SDK version, no npm,
no browser, a port in use) is raised as a :class:`HarnessError`. The CLI and the pytest plugin print its message
as one line and exit non-zero; they never show a traceback for it. The message says what to do.
"""


class HarnessError(Exception):
    """A failure the user can fix; ``str(err)`` is the one line shown to them."""


class BundleError(HarnessError):
    """The SDK bundle could not be obtained or failed its integrity check."""


class BrowserNotFound(HarnessError):
    """No usable Chromium was found (and none could be installed)."""


class ScenarioError(HarnessError):
    """A scenario file is malformed; the message names the file, line and field."""


def one_line(err: BaseException) -> str:
    """The first line of an error's message (Playwright's carry call logs below it), or its type's name."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
