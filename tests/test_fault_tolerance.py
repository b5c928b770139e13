"""RLlib's own fault tolerance, with EmbedPG's K x D mapping: a crashed env runner comes
back with the same tasks and the rounds are whole again; while it is down its task's absence
is a metric per task and one warning line."""

import logging
import time

import pytest
import ray

from rllib_embed.embed_pg import EmbedPGConfig


@pytest.mark.slow
def test_a_crashed_env_runner_is_restarted_with_its_tasks(ray_session, caplog):
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
        first = algo.train()
        assert [first["env_runners"]["tasks"][f"task_{k}"]["env_copies_sampled"] for k in (0, 1)] == [1, 1]
        ray.kill(algo.env_runner_group._worker_manager._actors[1], no_restart=False)  # runner 1 crashes
        steps, copies = [], []
        caplog.set_level(logging.WARNING, logger="rllib_embed.embed_pg.embed_pg")
        deadline = time.time() + 300  # the restart takes longer on a busy machine
        while time.time() < deadline:
            result = algo.train()
            steps.append(result["num_env_steps_sampled_lifetime"])
            copies.append([result["env_runners"]["tasks"][f"task_{k}"]["env_copies_sampled"] for k in (0, 1)])
            if algo.env_runner_group.num_healthy_remote_workers() == 2 and len(steps) >= 2 \
                    and steps[-1] - steps[-2] == 2 * config.rollout_fragment_length:
                break  # a whole round again: both tasks sampled
        assert algo.env_runner_group.num_healthy_remote_workers() == 2
        assert assignments() == [(1, [(0, 0)]), (2, [(1, 0)])]
        assert steps[-1] - steps[-2] == 2 * config.rollout_fragment_length
        # While runner 1 was down its task (0) was missing from the batch: visible per task and said once.
        assert [0, 1] in copies and copies[-1] == [1, 1]
        warnings = [r.getMessage() for r in caplog.records if r.name == "rllib_embed.embed_pg.embed_pg"]
        assert sum("task(s) 0 missing from this batch" in w for w in warnings) == 1, warnings
        assert any("every task is in the batch again" in w for w in warnings), warnings
    finally:
        algo.stop()
