"""EmbedPG: one gradient step per round of I steps from each of the K x D environments."""

import ray
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.core import COMPONENT_LEARNER, COMPONENT_LEARNER_GROUP, COMPONENT_RL_MODULE, DEFAULT_MODULE_ID
from ray.rllib.execution.rollout_ops import synchronous_parallel_sample
from ray.rllib.utils.metrics import (
    ALL_MODULES, ENV_RUNNER_RESULTS, ENV_RUNNER_SAMPLING_TIMER, LEARNER_RESULTS, LEARNER_UPDATE_TIMER,
    NUM_ENV_STEPS_SAMPLED_LIFETIME, NUM_MODULE_STEPS_TRAINED_LIFETIME, SYNCH_WORKER_WEIGHTS_TIMER, TIMERS,
)

from rllib_embed.embed_pg.callbacks import TaskEpisodeWindows
from rllib_embed.embed_pg.columns import ENV_ID
from rllib_embed.embed_pg.embed_pg_config import EmbedPGConfig
from rllib_embed.embed_pg.evaluation import observation_normalizer
from rllib_embed.embed_pg.observation_statistics import STATE_KEY as OBSERVATION_NORMALIZER
from rllib_embed.embed_pg.task_assignment import shard_episodes_by_task

# Checkpoint entry of the per-task metric windows (EmbedPGCallbacks).
TASK_EPISODE_WINDOWS = "task_episode_windows"


class EmbedPG(Algorithm):
    """Learning an embedding space for transferable skills, on RLlib's new API stack."""

    @classmethod
    def get_default_config(cls) -> EmbedPGConfig:
        return EmbedPGConfig()

    def setup(self, config) -> None:
        # Before super().setup: the callbacks may already run in it.
        self.task_episode_windows = TaskEpisodeWindows(config.metrics_num_episodes_for_smoothing)
        super().setup(config)

    def get_state(self, components=None, *, not_components=None, **kwargs):
        state = super().get_state(components, not_components=not_components, **kwargs)
        if self._check_component(TASK_EPISODE_WINDOWS, components, not_components):
            state[TASK_EPISODE_WINDOWS] = self.task_episode_windows.get_state()
        return state

    def set_state(self, state) -> None:
        super().set_state(state)
        if TASK_EPISODE_WINDOWS in state:
            self.task_episode_windows.set_state(state[TASK_EPISODE_WINDOWS])

    def training_step(self) -> None:
        # One round: every env runner samples I steps from each of its envs (the
        # local runner only when there are no remote ones).
        with self.metrics.log_time((TIMERS, ENV_RUNNER_SAMPLING_TIMER)):
            episodes, env_runner_results = synchronous_parallel_sample(
                worker_set=self.env_runner_group, max_env_steps=None,
                sample_timeout_s=self.config.sample_timeout_s,
                _uses_new_env_runners=True, _return_metrics=True)
            if not episodes:
                return
            self.metrics.aggregate(env_runner_results, key=ENV_RUNNER_RESULTS)

        with self.metrics.log_time((TIMERS, LEARNER_UPDATE_TIMER)):
            learner_results = self.learner_group.update(
                **self._training_data(episodes),
                timesteps={
                    NUM_ENV_STEPS_SAMPLED_LIFETIME: self.metrics.peek(
                        (ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME)),
                    NUM_MODULE_STEPS_TRAINED_LIFETIME: self.metrics.peek(
                        (LEARNER_RESULTS, ALL_MODULES, NUM_MODULE_STEPS_TRAINED_LIFETIME), default=0),
                },
                # num_epochs full passes; with several (DDP) learners also the value-only
                # passes up to value_epochs (one learner runs those inside its last pass).
                num_epochs=self.config.learner_passes,
            )
            self.metrics.aggregate(learner_results, key=LEARNER_RESULTS)

        with self.metrics.log_time((TIMERS, SYNCH_WORKER_WEIGHTS_TIMER)):
            self.env_runner_group.sync_weights(
                from_worker_or_learner_group=self.learner_group,
                policies=set(learner_results[0].keys()) - {ALL_MODULES},
                inference_only=True)

    # ---- the observation statistics travel with the module (observation_statistics.py) ---------
    def get_state(self, *args, **kwargs):
        """RLlib's state, with the current observation statistics in the module's state.

        Every checkpoint (save_to_path, Tune) writes the module from this state, so its
        RLModule folder alone carries them.
        """
        state = super().get_state(*args, **kwargs)
        module_state = state.get(COMPONENT_LEARNER_GROUP, {}).get(COMPONENT_LEARNER, {}).get(
            COMPONENT_RL_MODULE, {}).get(DEFAULT_MODULE_ID)
        if module_state is not None and self.config.normalize_observations:
            module_state[OBSERVATION_NORMALIZER] = observation_normalizer(self).get_state()
        return state

    def get_module(self, module_id=DEFAULT_MODULE_ID):
        """RLlib's `get_module`, with the current observation statistics attached
        (`module.observation_normalizer`), for evaluation and `module.save_to_path`."""
        module = super().get_module(module_id)
        if module is not None and module_id == DEFAULT_MODULE_ID and self.config.normalize_observations:
            module.observation_normalizer = observation_normalizer(self)
        return module

    def _training_data(self, episodes) -> dict:
        """The round's episodes as `LearnerGroup.update` takes them.

        One learner gets the list. Several learners get one object ref each, holding
        whole tasks (`shard_episodes_by_task`): RLlib's own sharding cuts episodes by
        length, which would split a segment's rows between learners.
        """
        num_learners = self.config.num_learners
        if num_learners <= 1:
            return {"episodes": episodes}
        shards = shard_episodes_by_task(
            episodes, [e.custom_data[ENV_ID] for e in episodes], self.config.num_tasks,
            self.config.copies_per_task, num_learners)
        return {"episodes_refs": [ray.put(shard) for shard in shards]}
