"""Placeholder: the `operator` command module; its owner replaces this file."""

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
