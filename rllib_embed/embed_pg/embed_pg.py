"""EmbedPG: one gradient step per round of I steps from each of the K x D environments."""

import logging
import os

import cloudpickle
import ray
import torch
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.core import COMPONENT_LEARNER, COMPONENT_LEARNER_GROUP, COMPONENT_RL_MODULE, DEFAULT_MODULE_ID
from ray.rllib.execution.rollout_ops import synchronous_parallel_sample
from ray.rllib.utils.metrics import (
    ALL_MODULES, ENV_RUNNER_RESULTS, ENV_RUNNER_SAMPLING_TIMER, LEARNER_RESULTS, LEARNER_UPDATE_TIMER,
    NUM_ENV_STEPS_SAMPLED_LIFETIME, NUM_MODULE_STEPS_TRAINED_LIFETIME, SYNCH_WORKER_WEIGHTS_TIMER, TIMERS,
)

from rllib_embed.embed_pg.callbacks import TaskEpisodeWindows
from rllib_embed.embed_pg.checkpoint_files import atomic_save, check_checkpoint
from rllib_embed.embed_pg.columns import ENV_ID
from rllib_embed.embed_pg.env_runner_state import STREAMS, process_rng_state, set_process_rng_state
from rllib_embed.embed_pg.embed_pg_config import EmbedPGConfig
from rllib_embed.embed_pg.evaluation import observation_normalizer
from rllib_embed.embed_pg.observation_statistics import STATE_KEY as OBSERVATION_NORMALIZER
from rllib_embed.embed_pg.plain_files import RUN_FILE, run_file_data, write_bytes
from rllib_embed.embed_pg.task_assignment import shard_episodes_by_task, task_and_copy

# Checkpoint entry of the per-task metric windows (EmbedPGCallbacks).
TASK_EPISODE_WINDOWS = "task_episode_windows"

logger = logging.getLogger(__name__)


class EmbedPG(Algorithm):
    """Learning an embedding space for transferable skills, on RLlib's new API stack."""

    @classmethod
    def get_default_config(cls) -> EmbedPGConfig:
        return EmbedPGConfig()

    def setup(self, config) -> None:
        # Before super().setup: the callbacks may already run in it.
        self.task_episode_windows = TaskEpisodeWindows(config.metrics_num_episodes_for_smoothing)
        set_local_torch_threads(config)
        super().setup(config)

    def save_to_path(self, path=None, *, state=None, filesystem=None, use_msgpack=False) -> str:
        """RLlib's `Checkpointable.save_to_path`, but the checkpoint appears only complete.

        A local `path` is written into a hidden folder beside it, given a manifest (each
        file's size and SHA-256, see `checkpoint_files`) and renamed into place; `algo.save()`
        and Tune's checkpoints come through here. Other file systems: RLlib's own writing.
        """
        if filesystem is not None or path is None or "://" in os.fspath(path):
            saved = super().save_to_path(path, state=state, filesystem=filesystem, use_msgpack=use_msgpack)
            self._write_run_file(saved, filesystem)
            return saved

        def save(tmp):
            super(EmbedPG, self).save_to_path(tmp, state=state, use_msgpack=use_msgpack)
            self._write_run_file(tmp, None)

        return atomic_save(save, path)

    def _write_run_file(self, folder: str, filesystem) -> None:
        """`plain_files.RUN_FILE`: the algorithm, env and env_config, for readers that do not unpickle."""
        write_bytes(os.path.join(folder, RUN_FILE),
                    run_file_data(type(self).__name__, self.config.env, self.config.env_config), filesystem)

    @classmethod
    def from_checkpoint(cls, path, filesystem=None, **kwargs) -> "EmbedPG":
        """RLlib's `Algorithm.from_checkpoint`, after a local checkpoint's manifest is checked.

        Raises `checkpoint_files.CheckpointError` (a ValueError, one line naming the file) for
        a missing, truncated or changed file, before the algorithm is built. Unpickles the
        checkpoint (RLlib's format): load only checkpoints you trust.
        """
        if _local_path(path, filesystem):
            check_checkpoint(path)
        return super().from_checkpoint(path, filesystem=filesystem, **kwargs)

    def restore_from_path(self, path, *, component=None, filesystem=None, **kwargs) -> None:
        """RLlib's, after a local checkpoint's manifest is checked (`algo.restore`, Tune's
        restores); raises `checkpoint_files.CheckpointError` as `from_checkpoint` does."""
        if component is None and _local_path(path, filesystem):
            check_checkpoint(path)
        return super().restore_from_path(path, component=component, filesystem=filesystem, **kwargs)

    def get_state(self, components=None, *, not_components=None, **kwargs):
        """RLlib's state plus what a checkpoint must carry besides it:

        - the per-task metric windows (`TASK_EPISODE_WINDOWS`), so a restored run continues them;
        - the streams of this process (the learner's generators) and of each remote env
          runner (`env_runner_state.STREAMS`), so that a checkpoint resumes exactly;
        - the current observation statistics inside the module's own state, so that every
          checkpoint's RLModule folder alone carries them (`observation_statistics`).
        """
        state = super().get_state(components, not_components=not_components, **kwargs)
        if self._check_component(TASK_EPISODE_WINDOWS, components, not_components):
            state[TASK_EPISODE_WINDOWS] = self.task_episode_windows.get_state()
        if self._check_component(STREAMS, components, not_components):
            remote = {index: runner_state[STREAMS] for index, runner_state in self.env_runner_group.foreach_env_runner(
                lambda runner: (runner.worker_index, runner.get_state(components=STREAMS)),
                local_env_runner=False) if STREAMS in runner_state}
            # Bytes, so that msgpack checkpoints (`_use_msgpack_checkpoints`) take them too.
            state[STREAMS] = cloudpickle.dumps({"process_rng": process_rng_state(), "remote_env_runners": remote})
        module_state = state.get(COMPONENT_LEARNER_GROUP, {}).get(COMPONENT_LEARNER, {}).get(
            COMPONENT_RL_MODULE, {}).get(DEFAULT_MODULE_ID)
        if module_state is not None and self.config.normalize_observations:
            module_state[OBSERVATION_NORMALIZER] = observation_normalizer(self).get_state()
        return state

    def set_state(self, state) -> None:
        super().set_state(state)
        if TASK_EPISODE_WINDOWS in state:
            self.task_episode_windows.set_state(state[TASK_EPISODE_WINDOWS])
        if STREAMS in state:
            streams = cloudpickle.loads(state[STREAMS])
            remote = streams["remote_env_runners"]
            if remote:
                self.env_runner_group.foreach_env_runner(
                    lambda runner: runner.set_state({STREAMS: remote[runner.worker_index]})
                    if runner.worker_index in remote else None, local_env_runner=False)
            set_process_rng_state(streams["process_rng"])

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
            self._log_task_coverage(episodes)

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
                # The clipped update: PPO's minibatches, rows shuffled anew each epoch
                # (RLlib's minibatch iterator); the literal update: the whole batch.
                **self.config.minibatch_settings,
            )
            self.metrics.aggregate(learner_results, key=LEARNER_RESULTS)

        with self.metrics.log_time((TIMERS, SYNCH_WORKER_WEIGHTS_TIMER)):
            self.env_runner_group.sync_weights(
                from_worker_or_learner_group=self.learner_group,
                policies=set(learner_results[0].keys()) - {ALL_MODULES},
                inference_only=True)

    def _log_task_coverage(self, episodes) -> None:
        """`env_runners/tasks/task_<k>/env_copies_sampled`: how many of task k's D env copies
        this batch holds (fewer while an env runner is down and restarting); one warning line
        when a task is missing or comes back. The update goes on with the tasks present."""
        copies = [set() for _ in range(self.config.num_tasks)]
        for episode in episodes:
            task, copy = task_and_copy(episode.custom_data[ENV_ID], self.config.num_tasks,
                                       self.config.copies_per_task)
            copies[task].add(copy)
        for task, present in enumerate(copies):
            self.metrics.log_value((ENV_RUNNER_RESULTS, "tasks", f"task_{task}", "env_copies_sampled"),
                                   len(present), reduce="mean", window=1)
        missing = [task for task, present in enumerate(copies) if not present]
        previous = getattr(self, "_missing_tasks", [])
        if missing != previous:
            if missing:
                logger.warning(
                    "EmbedPG: task(s) %s missing from this batch (their env runner is down or restarting): "
                    "the update takes the other tasks only until they are back; per task: "
                    "env_runners/tasks/task_<k>/env_copies_sampled", ", ".join(map(str, missing)))
            else:
                logger.warning("EmbedPG: every task is in the batch again (task(s) %s were missing)",
                               ", ".join(map(str, previous)))
        self._missing_tasks = missing

    # ---- the observation statistics travel with the module (observation_statistics.py) ---------
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


def set_local_torch_threads(config) -> None:
    """The torch threads of the process that builds the algorithm, where its learner or env runner
    runs in it (num_learners=0 or num_env_runners=0): `config.local_torch_threads` (1 by default,
    as Ray gives each of its workers; None leaves torch's own setting). The networks are small:
    with torch's default of one thread per core, threads wait on each other whenever the machine is
    busy (a busy 2-core machine took 20x longer per iteration). Said once in the log."""
    threads = config.local_torch_threads
    if threads is None or (config.num_learners > 0 and config.num_env_runners > 0):
        return
    if torch.get_num_threads() != threads:
        logger.info("EmbedPG: torch uses %d thread(s) in this process, which runs the local learner or env "
                    "runner (was %d; config.local_torch_threads=None keeps torch's setting)", threads,
                    torch.get_num_threads())
        torch.set_num_threads(threads)


def _local_path(path, filesystem) -> bool:
    """A checkpoint folder on this machine's file system (str or os.PathLike, no URI)."""
    return filesystem is None and isinstance(path, (str, os.PathLike)) and "://" not in os.fspath(path) \
        and os.path.isdir(path)
