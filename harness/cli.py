"""Command-line front door."""


def main() -> int:
    return 0
