"""The baselines' view (flat_obs) under RLlib's PPO: the env copies of one runner are staggered.

RLlib 2.60 hands every copy of a gymnasium vector env the same EnvContext (vector_index 0);
without the count in envs/flat_observation.py all copies started on task 0 and switched together.
"""

import pytest

ENV = "rllib_embed/PointGoals-v0"  # episodes never terminate: every copy resets at the same steps
EPISODE_LEN = 25  # make_point_goals' default


def _tasks_per_round(num_tasks, copies, rounds, remote=False, vectorize_mode="sync"):
    """Each copy's task after each of `rounds` sampling rounds of one episode per copy."""
    import rllib_embed  # noqa: F401
    from ray.rllib.algorithms.ppo import PPOConfig
    config = (PPOConfig()
              .environment(ENV, env_config={"num_tasks": num_tasks, "flat_obs": True})
              .env_runners(num_env_runners=1 if remote else 0, num_envs_per_env_runner=copies,
                           rollout_fragment_length=EPISODE_LEN, gym_env_vectorize_mode=vectorize_mode)
              .training(train_batch_size_per_learner=copies * EPISODE_LEN, num_epochs=1,
                        minibatch_size=copies * EPISODE_LEN))
    algo = config.build_algo()
    try:
        def run(runner):
            tasks = []
            for _ in range(rounds):
                runner.sample(num_timesteps=copies * EPISODE_LEN, random_actions=True)
                tasks.append(list(runner.env.unwrapped.get_attr("task_index")))
            return tasks
        if remote:
            return algo.env_runner_group.foreach_env_runner(run, local_env_runner=False)[0]
        return run(algo.env_runner)
    finally:
        algo.stop()


@pytest.mark.parametrize("remote,vectorize_mode", [(False, "sync"), (True, "sync"), (False, "async")],
                         ids=["local-runner", "remote-runner", "async-vector"])
@pytest.mark.slow
def test_ppo_copies_are_on_different_tasks_and_each_cycles_through_all(ray_session, remote, vectorize_mode):
    k = 4
    rounds = _tasks_per_round(k, copies=4, rounds=k + 1, remote=remote, vectorize_mode=vectorize_mode)
    for tasks in rounds:
        assert sorted(tasks) == list(range(k)), rounds  # 4 copies, 4 different tasks at the same time
    for copy in range(4):
        assert {tasks[copy] for tasks in rounds} == set(range(k)), rounds  # each copy visits every task


def test_more_copies_than_tasks_cover_the_tasks_evenly(ray_session):
    rounds = _tasks_per_round(num_tasks=3, copies=6, rounds=2)
    for tasks in rounds:
        assert sorted(tasks) == [0, 0, 1, 1, 2, 2], rounds


def test_outside_rllib_every_copy_starts_at_task_0():
    import gymnasium as gym
    starts = [gym.make(ENV, num_tasks=4, flat_obs=True).reset(seed=0)[1]["task_index"] for _ in range(3)]
    assert starts == [0, 0, 0]
