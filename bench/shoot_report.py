"""Render an HTML report in the harness's Chromium and save full-page screenshots, for looking at it as a reader.

    .venv/bin/python bench/shoot_report.py reports/report.html /tmp/report.png [--width 1280]
    .venv/bin/python bench/shoot_report.py http://127.0.0.1:PORT/__harness/panel /tmp/panel.png   # serve's panel

Prints the time to load the report and its size; no assertion (tests/test_reports.py checks the content).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from harness.browser.discovery import find_browser


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("report", help="a report file, or a URL (e.g. the panel of `harness serve`)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--clip", type=int, default=0, help="only the first N pixels of the page")
    args = parser.parse_args()
    browser_info = find_browser()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(browser_info.path))
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        started = time.perf_counter()
        is_url = args.report.startswith("http")
        page.goto(args.report if is_url else Path(args.report).resolve().as_uri())
        if is_url:
            page.wait_for_timeout(1500)  # the panel polls its state; let one poll land
        loaded = time.perf_counter() - started
        if args.clip:
            page.screenshot(path=str(args.out), clip={"x": 0, "y": 0, "width": args.width, "height": args.clip})
        else:
            page.screenshot(path=str(args.out), full_page=True)
        height = page.evaluate("document.body.scrollHeight")
        browser.close()
    size = "" if args.report.startswith("http") else f"{Path(args.report).stat().st_size / 1000:.0f} kB, "
    print(f"{args.report}: {size}loaded in {loaded * 1000:.0f} ms, page height {height} px -> {args.out}")


if __name__ == "__main__":
    main()
