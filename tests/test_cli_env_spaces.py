"""Issue 12 sections 7c and 8: search spaces over `env` work in a YAML and in --config, and the
`rllib` command hands `flat_obs` only to creators that take it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from ray.tune.registry import register_env

from rllib_embed.cli.checks import check_experiment
from rllib_embed.cli.errors import CLIError
from rllib_embed.cli.experiment import experiment_from_args
from rllib_embed.cli.main import parse_args
from rllib_embed.envs import MultiTaskEnv, with_flat_obs_option
from rllib_embed.envs.point_goals import PointGoalEnv

REPO = Path(__file__).resolve().parents[1]
POINT_GOALS, GRID_GOALS = "rllib_embed/PointGoals-v0", "rllib_embed/GridGoals-v0"
TINY = {"env_config": {"num_tasks": 2}, "rollout_fragment_length": 10, "num_env_runners": 0}


def _param_space(*argv):
    return check_experiment(experiment_from_args(parse_args(["train", *argv])))


@pytest.mark.parametrize("kind", ["grid_search", "choice"])
def test_a_space_over_env_in_config_reaches_tune_as_that_space(kind):
    space = _param_space("--algo", "EmbedPG", "--config",
                         json.dumps({**TINY, "env": {kind: [POINT_GOALS, GRID_GOALS]}}))
    if kind == "grid_search":
        assert space["env"] == {"grid_search": [POINT_GOALS, GRID_GOALS]}
    else:
        assert sorted(space["env"].categories) == [GRID_GOALS, POINT_GOALS]


@pytest.mark.parametrize("env, expected", [
    ({"grid_search": [POINT_GOALS, "NoSuchEnv-v9"]}, "unknown env 'NoSuchEnv-v9'"),
    ({"grid_search": [POINT_GOALS, 3]}, "env must be an env id"),
    ({"uniform": [0, 1]}, "env must be an env id"),
    ({"num_tasks": 2}, "env must be an env id"),
])
def test_a_bad_env_space_is_refused_naming_env(env, expected):
    with pytest.raises(CLIError, match=expected):
        _param_space("--algo", "EmbedPG", "--config", json.dumps({**TINY, "env": env}))


def test_each_env_of_the_space_is_validated_with_the_config():
    # GridGoals has at most 4 tasks (corners first, then...) - a value valid for one env only is caught.
    with pytest.raises(CLIError, match="GridGoals|num_tasks"):
        _param_space("--algo", "EmbedPG", "--config",
                     json.dumps({**TINY, "env_config": {"num_tasks": 2, "goal_radius": 0.3},
                                 "env": {"grid_search": [POINT_GOALS, GRID_GOALS]}}))


@pytest.mark.slow
def test_a_yaml_grid_over_env_runs_one_trial_per_env(tmp_path):
    path = tmp_path / "envs.yaml"
    path.write_text("two-envs:\n"
                    f"  env: {{grid_search: [{POINT_GOALS}, {GRID_GOALS}]}}\n"
                    "  run: EmbedPG\n"
                    "  stop: {training_iteration: 1}\n"
                    "  config:\n"
                    "    env_config: {num_tasks: 2}\n"
                    "    num_env_runners: 0\n"
                    "    rollout_fragment_length: 10\n")
    proc = subprocess.run([sys.executable, "-m", "rllib_embed.cli", "train", "file", str(path), "--storage-path",
                           str(tmp_path / "out"), "--num-cpus", "2"], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    trials = [p for p in (tmp_path / "out" / "two-envs").iterdir() if (p / "params.json").exists()]
    assert sorted(json.loads((t / "params.json").read_text())["env"] for t in trials) == [GRID_GOALS, POINT_GOALS]


def _own_family(env_config):
    """A user's own multi-task creator that does not take `flat_obs` (it refuses unknown keys)."""
    config = dict(env_config or {})
    unknown = set(config) - {"num_tasks"}
    if unknown:
        raise ValueError(f"unknown key {sorted(unknown)[0]!r}")
    goals = [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)][:config.get("num_tasks", 3)]
    return MultiTaskEnv(PointGoalEnv, goals)


def _lenient_family(env_config):
    """One that ignores unknown keys: it would take `flat_obs` and still give a Dict."""
    return MultiTaskEnv(PointGoalEnv, [(1.0, 0.0), (0.0, 1.0)])


register_env("test/OwnFamily-v0", _own_family)
register_env("test/LenientFamily-v0", _lenient_family)
register_env("test/OwnFamilyFlat-v0", with_flat_obs_option(_own_family))


@pytest.mark.parametrize("env", ["test/OwnFamily-v0", "test/LenientFamily-v0"])
def test_ppo_on_a_family_without_the_flat_view_is_refused_not_handed_flat_obs(env):
    with pytest.raises(CLIError, match=rf"env '{env}' does not offer the flat view .*with_flat_obs_option"):
        _param_space("--algo", "PPO", "--env", env)


def test_ppo_on_a_family_wrapped_with_the_flat_view_gets_it():
    space = _param_space("--algo", "PPO", "--env", "test/OwnFamilyFlat-v0", "--config",
                         json.dumps({"env_config": {"num_tasks": 2}}))
    assert space["env_config"] == {"num_tasks": 2, "flat_obs": True}
    env = with_flat_obs_option(_own_family)(space["env_config"])
    assert isinstance(env.observation_space, gym.spaces.Box) and env.observation_space.shape == (4,)
    assert np.all(np.isfinite(env.reset(seed=0)[0]))
