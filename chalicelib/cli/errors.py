"""The command line's user-facing error (its own module so `python -m chalicelib.cli.main` shares the class)."""

from __future__ import annotations


class CliError(Exception):
    """A user-facing problem: printed as one line, exit status `status`."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status
