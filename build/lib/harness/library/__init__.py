"""Data, not code: the scenario library (``*.yaml``). Installed as the package ``harness.library`` (mapped in
pyproject.toml) so that ``harness run <id>`` works from any folder; look it up through :mod:`harness.resources`."""
