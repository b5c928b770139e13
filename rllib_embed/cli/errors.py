"""The one kind of error the command reports as a single line (exit code 2)."""

EXIT_USAGE = 2  # bad input: as argparse and RLlib's former CLI
EXIT_FAILED = 1  # the run itself failed (a trial errored, a regression missed its criterion)


class CLIError(Exception):
    """Bad input found before any work started: printed as `rllib: error: <message>`."""
