"""Test-wide set-up."""

pytest_plugins = ["tests.fixtures"]
