"""Tune's progress table as `rllib train` prints it: one truth about where results go.

Tune's `CLIReporter` heads every status block with `Result logdir: /tmp/ray/session_.../
driver_artifacts` (Ray's staging folder), while results, checkpoints and the resume command
name the experiment folder under the storage path. `ProgressTable` prints that folder
instead. It overrides `CLIReporter._print`, Tune's one output call for the table (a private
method: pinned by tests/test_rllib_contract.py).
"""

from __future__ import annotations

from ray.tune import CLIReporter

TUNE_LOGDIR_LINE = "Result logdir: "


class ProgressTable(CLIReporter):
    """`CLIReporter` whose status blocks say `Results: <experiment folder>`."""

    def __init__(self, *, results_path: str, **kwargs):
        super().__init__(**kwargs)
        self.results_path = results_path

    def _print(self, msg: str) -> None:
        lines = [f"Results: {self.results_path}" if line.startswith(TUNE_LOGDIR_LINE) else line
                 for line in msg.split("\n")]
        super()._print("\n".join(_once(lines)))


def _once(lines):
    """``lines`` with the repeated `Results:` line (one per trial's staging folder) kept once."""
    seen = False
    for line in lines:
        if line.startswith("Results: "):
            if seen:
                continue
            seen = True
        yield line
