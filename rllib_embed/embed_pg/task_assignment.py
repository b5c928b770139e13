"""The K x D mapping: which task and copy each environment of each env runner hosts.

Environments are numbered globally, g = (w - 1) * M + v for remote env runner w >= 1
(M envs each, v the index in its vector env) and g = v for the local runner w = 0.
Environment g hosts task k = g // D and copy d = g % D. With `num_env_runners == K*D`
(M = 1) that is runner w -> task (w-1) // D, copy (w-1) % D; with `num_env_runners=0`
the local runner hosts all K*D as one vector env. Any N runners x M envs with
N * M == K * D map evenly the same way; other combinations are refused by
`EmbedPGConfig.validate()`. Evaluation runners cycle through the tasks (k = g mod K),
so evaluation covers all K tasks when its runners host at least K envs together.

With several learners, each learner gets whole tasks (all D copies of task k go to
learner k mod L), so a segment, and every segment its embedding baseline averages over,
stays on one learner.
"""

from typing import Dict, List, Sequence, Tuple


def global_env_index(worker_index: int, vector_index: int, envs_per_runner: int) -> int:
    """g for env `vector_index` of env runner `worker_index` (0 = local runner)."""
    return vector_index if worker_index == 0 else (worker_index - 1) * envs_per_runner + vector_index


def task_and_copy(env_index: int, num_tasks: int, copies_per_task: int) -> Tuple[int, int]:
    """(k, d) hosted by global environment `env_index`."""
    g = env_index % (num_tasks * copies_per_task)
    return g // copies_per_task, g % copies_per_task


def sampling_envs(num_env_runners: int, envs_per_runner: int) -> int:
    """How many environments sample for training: the local runner's only without remote ones."""
    return max(num_env_runners, 1) * envs_per_runner


def learner_of_task(task: int, num_learners: int) -> int:
    """The learner that trains on every segment of task `task`."""
    return task % num_learners


def shard_episodes_by_task(episodes: Sequence, env_ids: Sequence[int], num_tasks: int, copies_per_task: int,
                           num_learners: int) -> List[list]:
    """Splits a round's episode chunks into one list per learner, whole tasks each.

    `env_ids[i]` is the global env index g of `episodes[i]` (recorded by the env runner).
    """
    shards: Dict[int, list] = {l: [] for l in range(num_learners)}
    for episode, g in zip(episodes, env_ids):
        task, _ = task_and_copy(int(g), num_tasks, copies_per_task)
        shards[learner_of_task(task, num_learners)].append(episode)
    return [shards[l] for l in range(num_learners)]
