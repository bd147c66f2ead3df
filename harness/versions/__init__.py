"""Which releases to run: the published versions of the SDK, ranges and samples of them, versions read from a
project's lockfile, and the search for the release where a scenario's verdict flips.

    published.py   the registry's release list (version + publish date), cached on disk with a short TTL
    select.py      "--versions" text (npm ranges, lists, every:K, from:PATH) -> releases, oldest first
    lockfiles.py   from:PATH -> the version a package-lock.json / pnpm-lock.yaml / yarn.lock / package.json resolves
    bisect.py      the pure search over a verdict function (no browser)
    runs.py        the one place that runs (scenario, version) pairs; the concurrent engine replaces it
    commands.py    ``harness matrix`` and ``harness bisect``

The releases x scenarios grid those results make is a view of results, so it lives with the other views in
:mod:`harness.report.matrix`.
"""
