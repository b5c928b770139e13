"""The K x D mapping of tasks onto env runners, with real remote runners, and its refusals."""

import pytest

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.callbacks import per_task_metrics
from rllib_embed.embed_pg.task_assignment import global_env_index, task_and_copy


def _config(**env_runners):
    return (EmbedPGConfig()
            .environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2, "episode_len": 10})
            .env_runners(rollout_fragment_length=10, **env_runners)
            .training(copies_per_task=2)
            .debugging(seed=0))


def _assignments(algo):
    return dict(algo.env_runner_group.foreach_env_runner(
        lambda r: (r.worker_index, (r.task_assignment, [e.unwrapped.task_index for e in r.env.unwrapped.envs])),
        local_env_runner=False))


def test_mapping_formula():
    # K=3, D=2, one env per runner: runner w -> task (w-1)//D, copy (w-1)%D.
    assert [task_and_copy(global_env_index(w, 0, 1), 3, 2) for w in range(1, 7)] == \
        [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    # The local runner hosting all K*D envs as one vector env.
    assert [task_and_copy(global_env_index(0, v, 6), 3, 2) for v in range(6)] == \
        [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]


@pytest.mark.slow
def test_one_env_per_remote_runner(ray_session):
    algo = _config(num_env_runners=4, num_cpus_per_env_runner=0.25).build_algo()
    try:
        got = _assignments(algo)
        assert got == {1: ([(0, 0)], [0]), 2: ([(0, 1)], [0]), 3: ([(1, 0)], [1]), 4: ([(1, 1)], [1])}
        result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled"] == 4 * 10  # exactly I steps from each env
        # Each runner's episodes really come from its task.
        tasks_seen = dict(algo.env_runner_group.foreach_env_runner(
            lambda r: (r.worker_index, {ep.get_infos(-1)["task_index"] for ep in r.sample()}),
            local_env_runner=False))
        assert tasks_seen == {1: {0}, 2: {0}, 3: {1}, 4: {1}}
    finally:
        algo.stop()


@pytest.mark.slow
def test_several_envs_per_remote_runner_map_evenly(ray_session):
    algo = _config(num_env_runners=2, num_envs_per_env_runner=2, num_cpus_per_env_runner=0.25).build_algo()
    try:
        assert _assignments(algo) == {1: ([(0, 0), (0, 1)], [0, 0]), 2: ([(1, 0), (1, 1)], [1, 1])}
    finally:
        algo.stop()


def test_local_runner_hosts_all_envs(ray_session):
    algo = _config(num_env_runners=0).build_algo()
    try:
        assert algo.env_runner.task_assignment == [(0, 0), (0, 1), (1, 0), (1, 1)]
        assert algo.config.num_envs_per_env_runner == 4
    finally:
        algo.stop()


@pytest.mark.parametrize("env_runners", [dict(num_env_runners=3), dict(num_env_runners=2, num_envs_per_env_runner=3),
                                         dict(num_env_runners=0, num_envs_per_env_runner=3)])
def test_uneven_mappings_are_refused_before_anything_starts(env_runners):
    with pytest.raises(ValueError, match=r"K\*D = 2\*2 = 4 sampling environments"):
        _config(**env_runners).validate()


def test_evaluation_runner_cycles_through_the_tasks(ray_session):
    config = _config(num_env_runners=0).evaluation(evaluation_interval=1, evaluation_duration=4)
    algo = config.build_algo()
    try:
        # Round robin, so that any number of evaluation episodes covers all K tasks.
        assert algo.eval_env_runner.task_assignment == [(0, 0), (1, 0), (0, 1), (1, 1)]
        evaluated = algo.train()["evaluation"]["env_runners"]["tasks"]
        assert set(per_task_metrics(evaluated)) == {0, 1}
        # and the worst task's values over this evaluation's episodes
        assert evaluated["min_episode_return_mean"] == min(evaluated[f"task_{k}"]["episode_return_mean"] for k in (0, 1))
    finally:
        algo.stop()
