"""RLlib's own fault tolerance, with EmbedPG's K x D mapping: a crashed env runner comes
back with the same tasks and the rounds are whole again."""

import ray

from rllib_embed.embed_pg import EmbedPGConfig


def test_a_crashed_env_runner_is_restarted_with_its_tasks(ray_session):
    config = (EmbedPGConfig()
              .environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=2, num_cpus_per_env_runner=0.5)
              .fault_tolerance(restart_failed_env_runners=True)
              .debugging(seed=0))
    algo = config.build_algo()
    try:
        def assignments():
            return sorted(algo.env_runner_group.foreach_env_runner(
                lambda runner: (runner.worker_index, runner.task_assignment), local_env_runner=False))

        assert assignments() == [(1, [(0, 0)]), (2, [(1, 0)])]
        algo.train()
        ray.kill(algo.env_runner_group._worker_manager._actors[1], no_restart=False)  # runner 1 crashes
        steps = []
        for _ in range(15):
            steps.append(algo.train()["num_env_steps_sampled_lifetime"])
            if algo.env_runner_group.num_healthy_remote_workers() == 2 and len(steps) >= 2 \
                    and steps[-1] - steps[-2] == 2 * config.rollout_fragment_length:
                break  # a whole round again: both tasks sampled
        assert algo.env_runner_group.num_healthy_remote_workers() == 2
        assert assignments() == [(1, [(0, 0)]), (2, [(1, 0)])]
        assert steps[-1] - steps[-2] == 2 * config.rollout_fragment_length
    finally:
        algo.stop()
