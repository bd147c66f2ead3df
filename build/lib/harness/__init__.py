"""Session-survival harness: reproduces auth-SDK sign-outs caused by network blips, in a real browser."""

__version__ = "0.1.0"
