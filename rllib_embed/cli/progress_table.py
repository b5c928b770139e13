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
        lines, named = [], False
        for line in msg.split("\n"):
            if line.startswith(TUNE_LOGDIR_LINE):  # one per trial's staging folder: the experiment folder once
                if named:
                    continue
                line, named = f"Results: {self.results_path}", True
            lines.append(line)
        super()._print("\n".join(lines))
