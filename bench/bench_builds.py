"""What a local SDK build costs before its first run: clerk-js 6.0.0's published tarball, repacked, as a build.

- tarball, new: copy, check whole (safe paths, package.json, dist file), hash, move into a throwaway cache;
- tarball, unchanged: the same checks and hash, then the cached entry is reused (every later command);
- folder, unchanged: pack the folder's package.json and dist/ first, then as above;
- URL over loopback: one download (a local http server), then as a new tarball.

Prints a table and a JSON line; asserts nothing about speed. Run: .venv/bin/python bench/bench_builds.py
"""

from __future__ import annotations

import http.server
import json
import statistics
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from harness.sdks import adapter_class
from harness.sdks.builds import BuildSpec, resolve
from harness.sdks.npm import NpmBundleCache

PACKAGE, VERSION, REPEATS = "@clerk/clerk-js", "6.0.0", 5
BUNDLE = adapter_class("clerk").bundle_file


def timed(action: Callable[[], object], times: int = REPEATS) -> list[float]:
    out = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    release = NpmBundleCache().get(PACKAGE, VERSION)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with tarfile.open(release.tarball) as tar:
            tar.extractall(root / "src", filter="data")
        folder = root / "src" / "package"
        meta = json.loads((folder / "package.json").read_text())
        (folder / "package.json").write_text(json.dumps({**meta, "description": "bench"}))  # not the release itself
        tgz = root / "build.tgz"
        with tarfile.open(tgz, "w:gz") as tar:
            tar.add(folder, arcname="package")

        def play(text: str, cache: NpmBundleCache) -> str:
            return resolve(BuildSpec.parse(text), PACKAGE, BUNDLE, cache, list)

        fresh = [play(str(tgz), NpmBundleCache(root / f"cache-{i}")) for i in range(1)]  # warm the page cache
        new = timed(lambda: play(str(tgz), NpmBundleCache(root / f"cache-{time.monotonic_ns()}")))
        shared = NpmBundleCache(root / "shared")
        play(str(tgz), shared)
        unchanged = timed(lambda: play(str(tgz), shared))
        folder_unchanged = timed(lambda: play(str(folder), shared))

        body = tgz.read_bytes()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        url = timed(lambda: play(f"{base}/{time.monotonic_ns()}.tgz",
                                 NpmBundleCache(root / f"u-{time.monotonic_ns()}")))
        server.shutdown()
        size = len(body)
    rows = {"tarball, new": new, "tarball, unchanged": unchanged, "folder, unchanged (packed first)": folder_unchanged,
            "URL over loopback, new": url}
    print(f"{PACKAGE} {VERSION} repacked as a build ({size / 1e6:.1f} MB tarball), label {fresh[0]}")
    print(f"{'case':<36} {'median':>9} {'min':>9}")
    for name, times in rows.items():
        print(f"{name:<36} {statistics.median(times) * 1000:>7.0f} ms {min(times) * 1000:>6.0f} ms")
    print(json.dumps({name: {"median_ms": round(statistics.median(t) * 1000, 1), "min_ms": round(min(t) * 1000, 1),
                             "runs": len(t)} for name, t in rows.items()}))


if __name__ == "__main__":
    main()
