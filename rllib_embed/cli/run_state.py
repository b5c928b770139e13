"""How a Tune run ended, read from Tune's own state, and how to continue it.

A trial is finished only when Tune marks it TERMINATED (its stop criterion or budget was
reached) and failed when ERROR; anything else (PENDING, RUNNING, PAUSED) means Tune's loop
was left early: Ctrl-C / SIGINT, which Tune catches itself, then saves the experiment
state and returns normally. The statuses are read from that saved experiment state
(`experiment_state-*.json`, what `Tuner.restore` resumes from): after an interrupt Tune
stops the trials and marks them TERMINATED in memory, so the ResultGrid alone reads
"done". `rllib train` then exits 130, as a shell does on SIGINT.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from typing import List, Optional

from rllib_embed.cli.errors import CLIError

EXIT_INTERRUPTED = 130  # 128 + SIGINT
TERMINATED, ERROR = "TERMINATED", "ERROR"


@dataclass
class TrialEnd:
    status: str  # Tune's Trial.status: TERMINATED, ERROR, RUNNING, PAUSED, PENDING
    path: Optional[str]
    checkpoint: Optional[str]  # its newest complete checkpoint, None without one

    @property
    def finished(self) -> bool:
        return self.status in (TERMINATED, ERROR)

    @property
    def label(self) -> str:
        return {TERMINATED: "done", ERROR: "ERROR"}.get(self.status, f"interrupted: {self.status}")


def trial_ends(results) -> List[TrialEnd]:
    """Each trial's end, in the ResultGrid's order: Tune's saved trial status, and the checkpoint
    a `--resume` continues from (`resume_checkpoint`)."""
    saved = saved_trials(results.experiment_path)
    ends = []
    for trial, result in zip(results._experiment_analysis.trials, results):
        saved_trial = saved.get(trial.trial_id)
        status = str(saved_trial.status) if saved_trial is not None else str(trial.status)
        if trial.status == ERROR or result.error:
            status = ERROR
        ends.append(TrialEnd(status=status, path=result.path, checkpoint=resume_checkpoint(saved_trial, result.path)))
    return ends


def saved_trials(path: str) -> dict:
    """{trial_id: Trial} of Tune's last experiment-state snapshot of ``path`` (empty where none):
    what `Tuner.restore` resumes from."""
    from ray.tune import ExperimentAnalysis

    try:
        return {t.trial_id: t for t in ExperimentAnalysis(path).trials}
    except Exception:  # noqa: BLE001  (no snapshot on this file system: fall back to the in-memory state)
        return {}


def resume_checkpoint(saved_trial, trial_path: Optional[str]) -> Optional[str]:
    """The checkpoint a resumed trial continues from: the one Tune's saved state records (a
    Ctrl-C can arrive after a checkpoint is written but before Tune records it, and then Tune
    resumes from the one before); without a record, the trial folder's newest complete one."""
    from rllib_embed.embed_pg.checkpoint_files import newest_complete_checkpoint

    recorded = getattr(getattr(saved_trial, "checkpoint", None), "path", None)
    if recorded and os.path.isdir(recorded):
        return recorded
    return newest_complete_checkpoint(trial_path)[0] if trial_path and os.path.isdir(trial_path) else None


def interrupted(ends: List[TrialEnd]) -> bool:
    return any(not end.finished for end in ends)


def resume_command(argv: List[str], experiment_path: str) -> str:
    """The exact `rllib ...` line that continues this experiment: the same flags, its name and
    storage path spelled out, plus --resume."""
    argv = list(argv)
    if not _has_flag(argv, "--name", "--experiment-name", "-n"):
        argv += ["--name", os.path.basename(experiment_path)]
    if not _has_flag(argv, "--storage-path", "--local-dir"):
        argv += ["--storage-path", os.path.dirname(experiment_path)]
    if "--resume" not in argv:
        argv.append("--resume")
    return shlex.join(["rllib", *argv])


def print_interrupted(ends: List[TrialEnd], argv: List[str], experiment_path: str) -> None:
    import sys

    unfinished = [i for i, end in enumerate(ends) if not end.finished]
    lines = [f"\nrllib: interrupted: {len(unfinished)} of {len(ends)} trials unfinished"]
    for i in unfinished:
        where = ends[i].checkpoint or "none (add --checkpoint-freq N to keep one every N iterations)"
        lines.append(f"  trial {i} last checkpoint: {where}")
    lines.append(f"  resume with: {resume_command(argv, experiment_path)}")
    print("\n".join(lines), file=sys.stderr, flush=True)


def experiment_path(name: Optional[str], storage_path: Optional[str]) -> Optional[str]:
    """Where Tune puts experiment ``name`` (None without a name: Tune makes a fresh timestamped one)."""
    if not name:
        return None
    if storage_path:
        storage = os.path.abspath(os.path.expanduser(storage_path))
    else:
        from ray.train.constants import DEFAULT_STORAGE_PATH
        storage = DEFAULT_STORAGE_PATH
    return os.path.join(storage, name)


def check_name_free_or_resuming(path: Optional[str], resume: bool) -> None:
    """Before any work: --resume needs an experiment to continue; a fresh run must not reuse one's name."""
    exists = path is not None and os.path.isdir(path) and bool(os.listdir(path))
    if resume and path is None:
        raise CLIError("--resume needs --name NAME (the experiment to continue, under --storage-path)")
    if resume and not exists:
        raise CLIError(f"--resume: no experiment to continue at {path}; check --name and --storage-path")
    if resume:
        from ray import tune
        if not tune.Tuner.can_restore(path):
            raise CLIError(f"--resume: {path} holds no Tune experiment state to continue "
                           f"(experiment_state-*.json); choose another --name")
    if not resume and exists:
        raise CLIError(f"experiment name {os.path.basename(path)!r}: {path} already exists; pass --resume to "
                       f"continue it, or choose another --name")


def _has_flag(argv: List[str], *flags: str) -> bool:
    return any(a in flags or any(a.startswith(f + "=") for f in flags if f.startswith("--")) for a in argv)
