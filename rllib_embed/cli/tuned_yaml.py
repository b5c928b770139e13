"""Reads a tuned-config YAML file (RLlib's tuned-example format) as data.

    pointgoals-embedpg:            # the experiment's name
      env: rllib_embed/PointGoals-v0
      run: EmbedPG                 # any algorithm in RLlib's registry
      stop: {env_runners/tasks/min_success_mean: 0.9, num_env_steps_sampled_lifetime: 400000}
      pass_criteria: {...}         # optional: what `rllib regress` checks, if not `stop`'s metric
      config: {...}                # flat AlgorithmConfig keys; search spaces allowed

Parsed with `yaml.safe_load` only: a file can hold data, never code.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import yaml

from rllib_embed.cli.errors import CLIError

EXPERIMENT_KEYS = ("env", "run", "stop", "config", "pass_criteria", "num_samples",
                   "checkpoint_freq", "checkpoint_at_end")


def load_tuned_yaml(path: str) -> Tuple[str, Dict[str, Any]]:
    """(name, experiment mapping) of the file's one experiment; bad files raise CLIError."""
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise CLIError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise CLIError(f"{path} is a directory, not a YAML file") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise CLIError(f"{path}: malformed YAML{where}: {problem}") from None
    if not isinstance(data, dict) or len(data) != 1:
        count = len(data) if isinstance(data, dict) else 0
        raise CLIError(f"{path}: expected one experiment, `NAME: {{env, run, stop, config}}`; "
                       f"found {count} top-level entries")
    (name, experiment), = data.items()
    if not isinstance(experiment, dict):
        raise CLIError(f"{path}: experiment {name!r} must be a mapping with keys {', '.join(EXPERIMENT_KEYS)}")
    unknown = sorted(set(experiment) - set(EXPERIMENT_KEYS))
    if unknown:
        raise CLIError(f"{path}: unknown key {unknown[0]!r} in experiment {name!r}; "
                       f"allowed: {', '.join(EXPERIMENT_KEYS)}")
    return str(name), experiment
