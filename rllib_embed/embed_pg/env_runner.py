"""EmbedPG's env runner: places the K x D tasks, seeds the per-episode skill draws, and
refuses non-finite observations and rewards where they enter."""

import zlib
from typing import Any, List, Optional, Tuple

import numpy as np
from ray.rllib.env.env_runner import ENV_STEP_FAILURE
from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

from rllib_embed.embed_pg.columns import ENV_ID
from rllib_embed.embed_pg.connectors.sample_skill_noise import SampleSkillNoise
from rllib_embed.embed_pg.env_runner_state import STREAMS, capture_streams, restore_streams
from rllib_embed.embed_pg.task_assignment import global_env_index, task_and_copy


class EmbedPGEnvRunner(SingleAgentEnvRunner):
    """A `SingleAgentEnvRunner` whose envs each host one task of the K x D mapping.

    `task_assignment` lists the (task, copy) of each of this runner's envs. RLlib's
    `restart_failed_sub_environments` (on by EmbedPG's default) recreates the envs through
    `make_env` after an env raised in `step()`, so each env gets its task again; RLlib
    counts these in `env_runners/num_env_step_failures`. More than
    `num_consecutive_env_runner_failures_tolerance` failures within one `sample()` call
    raise `EnvStepFailuresError`: RLlib restarts the round after each failure, so an env
    that always raises would otherwise be recreated forever.

    Raises `NonFiniteEnvDataError` (naming env, task, copy and value) where an env returns
    a NaN or infinite observation (reset or step) or reward: the policy's and q's
    Gaussians would get NaN parameters, and RLlib would hide a NaN reward in the returns.
    """

    def __init__(self, *args, **kwargs):
        self.task_assignment: List[Tuple[int, int]] = []
        self._step_failures_this_sample = 0
        super().__init__(*args, **kwargs)
        # Different runners must draw different skills; a fixed seed makes them repeatable.
        seed = None if self.config.seed is None else \
            zlib.crc32(f"{self.config.seed}/{self.worker_index}/{self.config.in_evaluation}".encode())
        for piece in self._env_to_module.connectors:
            if isinstance(piece, SampleSkillNoise):
                piece.seed(seed)

    def get_state(self, components=None, *, not_components=None, **kwargs):
        """RLlib's state plus, under `STREAMS`, the random streams and episodes in progress
        (`env_runner_state`), so that a checkpoint resumes exactly. Asked for by name or with
        no component filter (checkpoints), never by the per-iteration state syncs."""
        state = super().get_state(components, not_components=not_components, **kwargs)
        if self._check_component(STREAMS, components, not_components) and self.env is not None:
            state[STREAMS] = capture_streams(self)
        return state

    def set_state(self, state) -> None:
        super().set_state(state)
        if STREAMS in state and self.env is not None:
            restore_streams(self, state[STREAMS])

    def make_env(self) -> None:
        super().make_env()
        envs = getattr(self.env.unwrapped, "envs", None)
        if envs is None:
            raise ValueError("EmbedPG needs gym_env_vectorize_mode='SYNC' (it sets each env's task); "
                             f"got {self.config.gym_env_vectorize_mode!r}")
        self.task_assignment = []
        for v, env in enumerate(envs):
            multi_task_env = env.unwrapped
            if not hasattr(multi_task_env, "set_task"):
                raise ValueError(f"EmbedPG needs a rllib_embed.envs.MultiTaskEnv; env {self.config.env!r} "
                                 f"is a {type(multi_task_env).__name__}")
            num_tasks = self.config.num_tasks or multi_task_env.num_tasks
            if num_tasks != multi_task_env.num_tasks:
                raise ValueError(f"num_tasks={num_tasks} but env {self.config.env!r} has "
                                 f"{multi_task_env.num_tasks} tasks")
            g = global_env_index(self.worker_index, v, self.config.num_envs_per_env_runner)
            # Evaluation cycles through the tasks so that any number of episodes covers all K.
            k, d = (g % num_tasks, g // num_tasks) if self.config.in_evaluation else \
                task_and_copy(g, num_tasks, self.config.copies_per_task)
            multi_task_env.set_task(k)
            self.task_assignment.append((k, d))

    def _make_on_episode_callback(self, which: str, idx: int, episodes) -> None:
        if which == "on_episode_start":
            # Which env this episode runs in, for the embedding baseline (see returns.py).
            episodes[idx].custom_data[ENV_ID] = global_env_index(
                self.worker_index, idx, self.config.num_envs_per_env_runner)
        super()._make_on_episode_callback(which, idx, episodes)

    # ---- faults where env data enters ------------------------------------------------
    def _try_env_reset(self, *args, **kwargs):
        observations, infos = super()._try_env_reset(*args, **kwargs)
        self._check_finite(observations, None, "reset()")
        return observations, infos

    def sample(self, *args, **kwargs):
        self._step_failures_this_sample = 0
        return super().sample(*args, **kwargs)

    def _try_env_step(self, actions):
        results = super()._try_env_step(actions)
        if isinstance(results, str) and results == ENV_STEP_FAILURE:  # the envs were recreated
            self._step_failures_this_sample += 1
            tolerance = self.config.num_consecutive_env_runner_failures_tolerance
            if self._step_failures_this_sample > tolerance:
                raise EnvStepFailuresError(
                    f"env {self.config.env!r} (env runner {self.worker_index}, tasks "
                    f"{[k for k, _ in self.task_assignment]}): step() raised {self._step_failures_this_sample} "
                    f"times in one sample() call, more than num_consecutive_env_runner_failures_tolerance="
                    f"{tolerance}; see the logged errors above")
            return results
        self._check_finite(results[0], results[1], "step()")
        return results

    def _check_finite(self, observations: Any, rewards: Any, where: str) -> None:
        """Raises NonFiniteEnvDataError at the first env whose observation or reward is NaN/inf."""
        # On every env step: one vectorised test over all envs; the per-env search only on a failure.
        if all(np.all(np.isfinite(x)) for x in _leaves(observations)) \
                and (rewards is None or np.all(np.isfinite(np.asarray(rewards, dtype=np.float64)))):
            return
        for v in range(self.num_envs):
            obs = _leaves(observations, v)
            bad = next((x for x in obs if not np.all(np.isfinite(x))), None)
            what = None if bad is None else ("observation", bad)
            if what is None and rewards is not None and not np.isfinite(rewards[v]):
                what = ("reward", rewards[v])
            if what is not None:
                k, d = self.task_assignment[v] if v < len(self.task_assignment) else (None, None)
                raise NonFiniteEnvDataError(
                    f"env {self.config.env!r} task {k} (copy {d}; env runner {self.worker_index}, vector index "
                    f"{v}) returned a non-finite {what[0]} from {where}: {np.asarray(what[1]).tolist()}; "
                    f"EmbedPG cannot learn from NaN/inf values: fix the env or wrap it to replace them")


class NonFiniteEnvDataError(ValueError):
    """An env returned a NaN or infinite observation or reward."""


class EnvStepFailuresError(RuntimeError):
    """An env raised in step() more often in a row than the fault tolerance allows."""


def _leaves(batched: Any, index: Optional[int] = None) -> List[np.ndarray]:
    """Every array of env `index` (None: of all envs) in a batched (vector env) observation, as
    float64: Dicts and tuples walked."""
    if isinstance(batched, dict):
        return [leaf for value in batched.values() for leaf in _leaves(value, index)]
    if isinstance(batched, (tuple, list)) and not isinstance(batched, np.ndarray):
        return [leaf for value in batched for leaf in _leaves(value, index)]
    array = np.asarray(batched)
    return [np.asarray(array if index is None else array[index], dtype=np.float64)]
