"""Launch + first page for each browser mode: what the real tab lifecycle costs against Playwright's own launch.

For each mode (and binary), N times: start the driver (Playwright, the browser, the context, the probe scripts and
the binding), load the harness's plain probe page from the mock server, and close (for real mode: kill the process
group and remove the temporary profile). Prints the median of each phase in milliseconds, after one warm-up.

- real: the full Chromium, launched by the harness and reached over CDP (connect_over_cdp, no defaults);
- emulated / simulated: Playwright's own launch; with the binary discovery prefers (the old-headless shell when
  installed) and, for comparison, with the full Chromium.

Run: .venv/bin/python bench/bench_browser_modes.py [N]   (default N=5)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from harness.browser.discovery import find_browser
from harness.browser.driver import BrowserDriver, BrowserMode, DriverOptions
from harness.mock.server import MockAuthServer
from harness.sdks.clerk import ClerkSdk
from harness.timeline import Timeline


def one_cycle(server: MockAuthServer, executable: Path, mode: BrowserMode) -> tuple[float, float, float]:
    start = time.perf_counter()
    driver = BrowserDriver(Timeline(), DriverOptions(executable=executable, mode=mode)).start()
    launched = time.perf_counter()
    try:
        driver.goto(server.url + "/probe/tabs")
        loaded = time.perf_counter()
    finally:
        driver.close()
    closed = time.perf_counter()
    return launched - start, loaded - launched, closed - loaded


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    full = find_browser(need_tabs=True).path
    preferred = find_browser().path
    cases: list[tuple[BrowserMode, Path]] = [("real", full), ("emulated", preferred), ("simulated", preferred)]
    if preferred != full:
        cases += [("emulated", full), ("simulated", full)]
    server = MockAuthServer(Timeline(), ClerkSdk(), bundle_dist=None, sdk_version="none").start()
    try:
        print(f"{'mode':<10} {'binary':<44} {'launch':>7} {'page':>6} {'close':>6} {'total':>6}  (median ms of {runs})")
        for mode, executable in cases:
            one_cycle(server, executable, mode)  # warm-up: page cache, fonts, Playwright's driver
            samples = [one_cycle(server, executable, mode) for _ in range(runs)]
            launch, page, close = (statistics.median(s[i] for s in samples) * 1000 for i in range(3))
            total = statistics.median(sum(s) for s in samples) * 1000
            print(f"{mode:<10} {str(executable):<44} {launch:7.0f} {page:6.0f} {close:6.0f} {total:6.0f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
