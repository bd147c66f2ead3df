"""How many runs bisect needs, against the ceil(log2 n) it promises, on fake verdict functions (no browser).

    .venv/bin/python bench/bench_bisect.py

For range sizes up to the whole @clerk/clerk-js line, it places the flip at every position (or 200 spread ones),
optionally makes a share of the releases end in ``error``, and prints the mean and worst number of runs beside
2 + ceil(log2(n - 1)) (the two ends, then the halvings). A table, then the same figures as JSON. Asserts nothing.
"""

from __future__ import annotations

import json
import math
import random
import statistics

from harness.versions.bisect import bisect_versions

SIZES = (3, 10, 50, 100, 277, 391)
ERROR_SHARES = (0.0, 0.1, 0.3)


def runs_for(n: int, flip: int, errors: frozenset[int]) -> tuple[int, bool]:
    versions = [f"1.{i}.0" for i in range(n)]

    def verdict_of(version: str) -> str:
        i = int(version.split(".")[1])
        if i in errors:
            return "error"
        return "reproduced" if i < flip else "survived"

    answer = bisect_versions(versions, verdict_of)
    exact = len(answer.flips) == 1 and answer.flips[0].exact
    return answer.runs, exact


def main() -> None:
    rng = random.Random(7912)
    rows = []
    for n in SIZES:
        flips = range(1, n) if n <= 200 else sorted(rng.sample(range(1, n), 200))
        for share in ERROR_SHARES:
            runs, exact = [], 0
            for flip in flips:
                inner = [i for i in range(1, n - 1)]
                errors = frozenset(rng.sample(inner, int(len(inner) * share))) if share else frozenset()
                used, ok = runs_for(n, flip, errors)
                runs.append(used)
                exact += ok
            rows.append({"releases": n, "error_share": share, "promised": 2 + math.ceil(math.log2(n - 1)),
                         "mean_runs": round(statistics.mean(runs), 2), "worst_runs": max(runs),
                         "exact_answers": f"{exact}/{len(runs)}"})
    print(f"{'releases':>8} {'errors':>6} {'promised':>8} {'mean':>6} {'worst':>5}  exact pair")
    for r in rows:
        print(f"{r['releases']:>8} {r['error_share']:>6.0%} {r['promised']:>8} {r['mean_runs']:>6} "
              f"{r['worst_runs']:>5}  {r['exact_answers']}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
