"""`rllib regress FILE...`: RLlib-style learning-regression tests of tuned configs.

Each file runs as `rllib train file` would; then every trial's last result must reach
the file's criteria: `pass_criteria` if the file has it, else the `stop` keys that are
not budgets (training_iteration, num_env_steps_sampled_lifetime, time_total_s, ...).
A NaN value (from an iteration in which no episode ended) is replaced by the trial's last
finite value, and the verdict says so.
Exit 0 when every file passes, 1 when any misses, 2 on bad input (nothing run).
"""

from __future__ import annotations

import copy
from typing import Dict, List

import rllib_embed
from rllib_embed.cli.checks import check_experiment
from rllib_embed.cli.errors import EXIT_FAILED, CLIError
from rllib_embed.cli.experiment import experiment_from_args
from rllib_embed.cli.finite_metrics import last_finite
from rllib_embed.cli.run_state import EXIT_INTERRUPTED, TrialEnd, interrupted, trial_ends
from rllib_embed.cli.train import check_local_cpus, flat_metrics, print_summary, run_experiment, start_ray


def regress_command(args) -> int:
    planned = []
    for path in args.files:  # check every file before anything runs
        file_args = copy.copy(args)
        file_args.file = path
        experiment = experiment_from_args(file_args)
        criteria = experiment.criteria()
        if not criteria:
            raise CLIError(f"{path}: nothing to check: `stop` has only budget keys ({', '.join(experiment.stop)}) "
                           f"and there is no `pass_criteria`; add a metric to reach, e.g. "
                           f"env_runners/episode_return_mean: -5")
        rllib_embed.register()  # the registry, for check_experiment's algorithm and env names
        planned.append((path, experiment, check_experiment(experiment), criteria))
        check_local_cpus(experiment, file_args)
    start_ray(args)
    verdicts, was_interrupted = [], False
    for path, experiment, param_space, criteria in planned:
        results = run_experiment(experiment, param_space, args)
        ends = trial_ends(results)  # Tune's saved state: finished, errored or interrupted
        print_summary(results, extra_keys=list(criteria), ends=ends)
        verdicts.append((path, judge(results, criteria, ends)))
        if interrupted(ends):  # Ctrl-C: Tune stopped the run; run no further file
            was_interrupted = True
            break
    print("\nLearning regression:" + (" (interrupted)" if was_interrupted else ""))
    for path, failures in verdicts:
        print(f"  {'PASS' if not failures else 'FAIL'}  {path}" + "".join(f"\n        {f}" for f in failures))
    if was_interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if any(failures for _, failures in verdicts) else 0


def judge(results, criteria: Dict[str, float], ends: List[TrialEnd]) -> List[str]:
    """Why the run failed (empty: passed). Every trial's last result must reach every criterion.

    `ends`: each trial's end as `run_state.trial_ends` reads it from Tune's state.
    """
    failures = []
    for i, result in enumerate(results):
        if result.error:
            failures.append(f"trial {i}: errored: {' '.join(str(result.error).split())[:300]}")
            continue
        if not ends[i].finished:  # Tune's state: stopped before its stop criterion or budget
            failures.append(f"trial {i}: unfinished ({ends[i].status}): interrupted before its stop criterion")
            continue
        metrics = flat_metrics(result)
        for key, target in criteria.items():
            # Never NaN: a last iteration without a finished episode is judged by the last finite value.
            value, note = last_finite(result, metrics, key)
            if value is None:
                failures.append(f"trial {i}: {key}: no value to judge {note} (stopped at {_budget(metrics)})")
            elif not value >= target:
                failures.append(f"trial {i}: {key} = {value} < {target} {note}".rstrip()
                                + f" (stopped at {_budget(metrics)})")
    return failures


def _budget(metrics) -> str:
    keys = ("training_iteration", "num_env_steps_sampled_lifetime", "time_total_s")
    return ", ".join(f"{k}={metrics[k]:.4g}" if isinstance(metrics[k], float) else f"{k}={metrics[k]}"
                     for k in keys if k in metrics)
