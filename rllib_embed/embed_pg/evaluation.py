"""Per-task evaluation of a trained EmbedPG module on fresh copies of its environment."""

from typing import Any, Callable, Dict, Mapping, Optional

import numpy as np
import torch

from ray.rllib.core import COMPONENT_ENV_RUNNER, COMPONENT_ENV_TO_MODULE_CONNECTOR
from ray.rllib.core.columns import Columns
from ray.rllib.env import INPUT_ENV_SINGLE_SPACES

from rllib_embed.embed_pg.columns import OBS_KEY, SKILL, TASK_KEY
from rllib_embed.embed_pg.connectors.normalize_observations import NormalizeObservations
from rllib_embed.embed_pg.env_factory import make_env
from rllib_embed.embed_pg.observation_statistics import ObservationNormalizer, module_observation_normalizer

SKILL_MODES = ("sample", "mean")


def evaluate_per_task(module, env: str, env_config: Optional[Mapping[str, Any]] = None, *,
                      episodes_per_task: int = 5, skill: str = "sample", seed: int = 0,
                      explore: bool = False,
                      normalize_obs: Optional[Callable[[np.ndarray], np.ndarray]] = None) -> Dict[int, Dict[str, float]]:
    """Runs `episodes_per_task` episodes of every task with the module's mean actions.

    `skill`: "sample" draws z from p(z|t) once per episode, as in training; "mean" uses
    the embedding's mean mu(t). `explore=True` samples actions from pi(a|s,z) instead of
    taking its mean / argmax (where two actions are equally good, e.g. the two ways to a
    grid corner, pi splits between them and the argmax can stall against a wall); the
    draws are seeded by `seed` and leave torch's global random state as it was.
    `normalize_obs`: the observation normalisation; None (default) = the statistics the
    module carries (`module.observation_normalizer`, kept with it by EmbedPG), raw
    observations for a module trained without them. Raises ValueError where the module
    was trained with normalize_observations but carries no statistics.
    Returns {task: {"episode_return_mean", "success_mean" (where the env reports
    `success`), "episodes"}}.
    """
    if skill not in SKILL_MODES:
        raise ValueError(f"skill must be one of {list(SKILL_MODES)}; got {skill!r}")
    environment = make_env(env, env_config)
    if normalize_obs is None:
        normalize_obs = module_observation_normalizer(module) or (lambda x: x)
    rng = np.random.default_rng(seed)
    with torch.random.fork_rng():  # explore's action draws, seeded without touching the caller's state
        torch.manual_seed(seed)
        results = {}
        for task in range(environment.num_tasks):
            environment.set_task(task)
            returns, successes = [], []
            for episode in range(episodes_per_task):
                obs, info = environment.reset(seed=seed * 100_003 + task * 1_009 + episode)
                noise = rng.standard_normal(module.latent_dim).astype(np.float32)
                one_hot = torch.as_tensor(obs[TASK_KEY])[None]
                with torch.no_grad():
                    z = module.embedding_params(one_hot)[0] if skill == "mean" else \
                        module.skill(one_hot, torch.as_tensor(noise)[None])
                total, done = 0.0, False
                while not done:
                    # The episode's z is given directly, so the module skips p(z|t).
                    policy_obs = torch.as_tensor(normalize_obs(obs[OBS_KEY]))[None]
                    batch = {Columns.OBS: {OBS_KEY: policy_obs, TASK_KEY: one_hot}, SKILL: z}
                    dist_inputs = module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS]
                    action = _action(module, dist_inputs, explore)[0].numpy()
                    obs, reward, terminated, truncated, info = environment.step(action)
                    total += float(reward)
                    done = terminated or truncated
                returns.append(total)
                if "success" in info:
                    successes.append(float(info["success"]))
            results[task] = {"episode_return_mean": float(np.mean(returns)), "episodes": episodes_per_task}
            if successes:
                results[task]["success_mean"] = float(np.mean(successes))
    environment.close()
    return results


def _action(module, dist_inputs, explore: bool):
    """The mean / argmax action, or (explore) a draw from pi, as RLlib's distribution makes it."""
    dist = module.get_inference_action_dist_cls().from_logits(dist_inputs)
    return dist.sample() if explore else dist.to_deterministic().sample()


def evaluate_algorithm_per_task(algo, *, env_config: Optional[Mapping[str, Any]] = None,
                                **kwargs) -> Dict[int, Dict[str, float]]:
    """`evaluate_per_task` of a live EmbedPG algorithm: its module, env and observation statistics."""
    return evaluate_per_task(algo.get_module(), algo.config.env,
                             algo.config.env_config if env_config is None else env_config,
                             normalize_obs=observation_normalizer(algo), **kwargs)


def observation_normalizer(algo) -> Optional[ObservationNormalizer]:
    """The algorithm's current observation statistics (merged over its env runners), frozen,
    with the env's raw `obs` space; None without normalize_observations."""
    if not algo.config.normalize_observations:
        return None
    path = (COMPONENT_ENV_RUNNER, COMPONENT_ENV_TO_MODULE_CONNECTOR, NormalizeObservations.__name__)
    state = algo.get_state(components="/".join(path))
    for key in path:
        state = state[key]
    connector = NormalizeObservations()
    connector.set_state(state)
    normalizer = connector.frozen()
    normalizer.raw_space = _raw_obs_space(algo)
    return normalizer


def _raw_obs_space(algo):
    """The env's `obs` space before normalisation, read once from an env runner's env."""
    if getattr(algo, "_raw_obs_space", None) is None:
        spaces = algo.env_runner_group.get_spaces()
        algo._raw_obs_space = spaces[INPUT_ENV_SINGLE_SPACES][0][OBS_KEY]
    return algo._raw_obs_space


