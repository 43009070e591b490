"""The gateway's request path: Claude Code -> maskgate -> provider, masked both ways."""
