"""EmbedPG's env runner: places the K x D tasks and seeds the per-episode skill draws."""

import zlib
from typing import List, Tuple

from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

from rllib_embed.embed_pg.columns import ENV_ID
from rllib_embed.embed_pg.connectors.sample_skill_noise import SampleSkillNoise
from rllib_embed.embed_pg.env_runner_state import STREAMS, capture_streams, restore_streams
from rllib_embed.embed_pg.task_assignment import global_env_index, task_and_copy


class EmbedPGEnvRunner(SingleAgentEnvRunner):
    """A `SingleAgentEnvRunner` whose envs each host one task of the K x D mapping.

    `task_assignment` lists the (task, copy) of each of this runner's envs.
    """

    def __init__(self, *args, **kwargs):
        self.task_assignment: List[Tuple[int, int]] = []
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
