"""pytest plugin (filled in as the runner lands)."""
