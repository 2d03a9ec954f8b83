"""Exit codes of every painel command, in one place, and the error that carries one."""

from __future__ import annotations

OK = 0
FAILED = 1  # the work ran and failed (a run, a check)
USAGE = 2  # bad input: unknown job, bad parameter, broken YAML, unknown user
BUSY = 3  # the job is already running elsewhere
INTERRUPTED = 130


class CliError(Exception):
    """A one-line message for the terminal and the exit code that goes with it."""

    def __init__(self, message: str, code: int = USAGE):
        super().__init__(message)
        self.code = code
