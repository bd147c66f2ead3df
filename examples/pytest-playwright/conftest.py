"""pytest-playwright launches the Chromium that `playwright install chromium` downloads. A machine without that
download (CI images with a system Chromium) points it at the browser the harness finds instead; delete this file
if `playwright install chromium` is part of your set-up."""

import pytest

from harness.browser.discovery import find_browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(find_browser().path)}
