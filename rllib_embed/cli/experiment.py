"""One experiment to run: from command-line flags, or from a tuned YAML file with the
flags overriding it. Pure data handling: nothing here imports RLlib or starts Ray."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Dict, Optional

from rllib_embed.cli.errors import CLIError
from rllib_embed.cli.search_space import Space, parse_spaces
from rllib_embed.cli.tuned_yaml import load_tuned_yaml

# Stop keys that only bound the run; any other stop key is a criterion to reach.
BUDGET_KEYS = frozenset({
    "training_iteration", "iterations_since_restore", "time_total_s", "time_since_restore",
    "timesteps_total", "num_env_steps_sampled_lifetime", "num_env_steps_trained_lifetime",
    "num_agent_steps_sampled_lifetime", "num_agent_steps_trained_lifetime",
    "env_runners/num_env_steps_sampled_lifetime", "env_runners/num_agent_steps_sampled_lifetime",
    "learners/__all_modules__/num_env_steps_trained_lifetime",
})

# Flags that set one config key (the `--num-env-runners` style shortcuts).
CONFIG_SHORTCUTS = {
    "num_env_runners": "num_env_runners",
    "num_envs_per_env_runner": "num_envs_per_env_runner",
    "seed": "seed",
}


@dataclass
class Experiment:
    algo: str
    env: Any  # an env id, or a grid_search / choice `Space` over env ids
    config: Dict[str, Any]  # flat AlgorithmConfig keys; may hold search_space.Space leaves
    stop: Dict[str, float] = field(default_factory=dict)
    pass_criteria: Optional[Dict[str, float]] = None
    name: Optional[str] = None
    num_samples: int = 1
    checkpoint_freq: int = 0
    checkpoint_at_end: bool = True
    source: str = "command line"

    def criteria(self) -> Dict[str, float]:
        """What `rllib regress` checks: `pass_criteria`, else the non-budget `stop` keys."""
        if self.pass_criteria is not None:
            return dict(self.pass_criteria)
        return {k: v for k, v in self.stop.items() if k not in BUDGET_KEYS}


def parse_json_object(text: Optional[str], flag: str) -> Dict[str, Any]:
    """A JSON object given on the command line (never evaluated as code)."""
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise CLIError(f"{flag}: malformed JSON at line {e.lineno} column {e.colno}: {e.msg}; "
                       f"got {text!r}") from None
    if not isinstance(value, dict):
        raise CLIError(f"{flag}: expected a JSON object like '{{\"key\": value}}'; got {text!r}")
    return value


def experiment_from_args(args) -> Experiment:
    """The experiment `rllib train [file F]` / `rllib regress F` describes; raises CLIError."""
    spec: Dict[str, Any] = {}
    name, source = None, "command line"
    if getattr(args, "file", None):
        name, spec = load_tuned_yaml(args.file)
        source = args.file
    config = _mapping(spec.get("config"), f"{source}: config")
    config = {**config, **_merge_env_config(config, parse_json_object(args.config, "--config"))}
    for flag, key in CONFIG_SHORTCUTS.items():
        if getattr(args, flag, None) is not None:
            config[key] = getattr(args, flag)
    env = args.env or spec.get("env") or config.get("env")
    config.pop("env", None)
    env = _env_or_space(env, source)
    algo = args.algo or spec.get("run")
    if not algo:
        raise CLIError(f"{source}: no algorithm given; pass --algo NAME (e.g. --algo EmbedPG, --algo PPO)")
    if not env:
        raise CLIError(f"{source}: no environment given; pass --env ID (e.g. --env rllib_embed/PointGoals-v0)")
    stop = {**_mapping(spec.get("stop"), f"{source}: stop"), **parse_json_object(args.stop, "--stop")}
    _check_numbers(stop, "--stop" if args.stop else f"{source}: stop")
    pass_criteria = spec.get("pass_criteria")
    if pass_criteria is not None:
        pass_criteria = _mapping(pass_criteria, f"{source}: pass_criteria")
        _check_numbers(pass_criteria, f"{source}: pass_criteria")
    experiment = Experiment(
        algo=str(algo), env=env, config=parse_spaces(config, "config"), stop=stop,
        pass_criteria=pass_criteria, name=args.name or name,
        num_samples=_pick(args.num_samples, spec.get("num_samples"), 1),
        checkpoint_freq=_pick(args.checkpoint_freq, spec.get("checkpoint_freq"), 0),
        checkpoint_at_end=bool(_pick(args.checkpoint_at_end, spec.get("checkpoint_at_end"), True)),
        source=source,
    )
    for key in ("num_samples", "checkpoint_freq"):
        value = getattr(experiment, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if key == "num_samples" else 0):
            raise CLIError(f"{source}: {key} must be an int >= {1 if key == 'num_samples' else 0}; got {value!r}")
    return experiment


def _env_or_space(env: Any, source: str) -> Any:
    """The env id, or a `{grid_search: [...]}` / `{choice: [...]}` space over env ids (kept a `Space`)."""
    if env is None or env == "" or isinstance(env, str):
        return env
    space = parse_spaces(env, "env")
    if isinstance(space, Space) and space.kind in ("grid_search", "choice") \
            and all(isinstance(v, str) and v for v in space.args):
        return space
    raise CLIError(f"{source}: env must be an env id (e.g. rllib_embed/PointGoals-v0) or "
                   f"{{grid_search: [id, ...]}} / {{choice: [id, ...]}} of env ids; got {env!r}")


def _merge_env_config(base: Dict[str, Any], override: Dict[str, Any]) -> Dict[str, Any]:
    """`--config` over the file's config; `env_config` is merged key by key, not replaced."""
    if isinstance(base.get("env_config"), dict) and isinstance(override.get("env_config"), dict):
        return {**override, "env_config": {**base["env_config"], **override["env_config"]}}
    return override


def _mapping(value: Any, where: str) -> Dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CLIError(f"{where} must be a mapping of keys to values; got {value!r}")
    return dict(value)


def _check_numbers(criteria: Dict[str, Any], where: str) -> None:
    for key, value in criteria.items():
        if isinstance(value, bool) or not isinstance(value, Real):
            raise CLIError(f"{where}: {key!r} must be a number (the value the metric must reach); got {value!r}")


def _pick(flag: Any, from_file: Any, default: Any) -> Any:
    return flag if flag is not None else (from_file if from_file is not None else default)
