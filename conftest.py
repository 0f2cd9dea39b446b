"""Test plugins shared by every test folder: real services started once per session."""

pytest_plugins = ["tests.services.couch", "tests.services.slurm"]
