"""How long the SDK bundle cache takes for @clerk/clerk-js@6.0.0, in a throwaway cache folder.

- miss, npm's cache empty: npm view + a real download + integrity check + unpack (a first run on a new machine);
- miss, npm's cache warm: the same, with the tarball already in npm's own cache (a new harness cache dir);
- hit: no npm; re-hashes the tarball and every unpacked file (every later run).

Run: .venv/bin/python bench/bench_bundle_cache.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from harness.sdks.npm import NpmBundleCache

PACKAGE, VERSION, HITS = "@clerk/clerk-js", "6.0.0", 20


def timed_get(cache: NpmBundleCache) -> float:
    start = time.perf_counter()
    cache.get(PACKAGE, VERSION)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # npm reads its cache folder from this variable; an empty one forces a real download.
        os.environ["npm_config_cache"] = str(Path(tmp) / "npm-cache")
        cold = NpmBundleCache(Path(tmp) / "cold")
        miss_cold = timed_get(cold)
        assert cold.last_event == "miss"
        del os.environ["npm_config_cache"]

        warm = NpmBundleCache(Path(tmp) / "warm")
        timed_get(warm)  # make sure the user's npm cache holds the tarball
        warm = NpmBundleCache(Path(tmp) / "warm-again")
        miss_warm = timed_get(warm)

        hits = [timed_get(warm) for _ in range(HITS)]
        assert warm.last_event == "hit"
        size = sum(f.stat().st_size for f in warm.get(PACKAGE, VERSION).root.rglob("*") if f.is_file())

    print(f"{PACKAGE}@{VERSION} ({size / 1e6:.1f} MB unpacked)")
    print(f"miss: {miss_cold:.2f} s (npm's cache empty)")
    print(f"miss: {miss_warm:.2f} s (npm's cache warm)")
    print(f"hit: median {statistics.median(hits) * 1000:.1f} ms over {HITS} (min {min(hits) * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
