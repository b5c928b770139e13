"""EmbedPG learns: per-task success on PointGoals (K=4) and GridGoals (K=4, discrete), and
HalfCheetah's forward and backward tasks each run their own way.

Budgets and thresholds were measured on a 2-core machine (docs/learning.md); seeds fixed.
Evaluation uses each task's embedding mean as its skill and the policy's mean action.
"""

import pytest

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.evaluation import evaluate_algorithm_per_task, evaluate_per_task


def _train(env, env_config, iterations, **training):
    config = (EmbedPGConfig()
              .environment(env, env_config=env_config)
              .env_runners(num_env_runners=0, rollout_fragment_length=training.pop("I"))
              .training(**training)
              .debugging(seed=0))
    algo = config.build_algo()
    try:
        for _ in range(iterations):
            result = algo.train()
        evaluation = evaluate_per_task(algo.get_module(), env, env_config, episodes_per_task=10, skill="mean")
    finally:
        algo.stop()
    return result, evaluation


@pytest.mark.slow
def test_pointgoals_every_task_is_solved_and_q_identifies_the_task(ray_session):
    # Measured (seed 0): after 1000 iterations (200k env steps, ~90 s on 2 cores) every
    # task's success was 1.0 (from 200 iterations on), returns -3.0..-4.9 (random: about -25), q accuracy 1.0.
    result, evaluation = _train("rllib_embed/PointGoals-v0", {"num_tasks": 4}, 1000, I=25, copies_per_task=2)
    for task, stats in evaluation.items():
        assert stats["success_mean"] >= 0.8, (task, evaluation)
        assert stats["episode_return_mean"] > -6.0, (task, evaluation)
    assert result["learners"]["default_policy"]["q_task_accuracy"] >= 0.9  # chance: 0.25


@pytest.mark.slow
def test_clipped_update_solves_pointgoals_with_eight_tasks(ray_session):
    # update="clipped" (GAE, 10 epochs over PPO's shuffled minibatches of rows), seed estimator:
    # PPO's 992-step batch from K*D = 16 envs (I = 62), latent_dim = K,
    # advantages standardised over the batch (PointGoals' tasks pay on one scale), the clipped
    # update's default nets ([256, 256]) and skill spread (std 0.14).
    # Measured with whole-segment minibatches (bench/learning.py, seeds 0, 1, 2): every task's
    # mean-skill success 1.0 at 10.9k / 20.8k / 20.8k env steps (multi-task PPO, same envs: 20.8k);
    # the test (seed 0) allows 59.5k, and passes with row minibatches.
    result, evaluation = _train("rllib_embed/PointGoals-v0", {"num_tasks": 8}, 60, I=62, copies_per_task=2,
                                latent_dim=8, update="clipped", num_epochs=10, minibatch_size=250,
                                normalize_advantages=True)
    for task, stats in evaluation.items():
        assert stats["success_mean"] >= 0.8, (task, evaluation)
    assert result["learners"]["default_policy"]["q_task_accuracy"] >= 0.9  # chance: 0.125


@pytest.mark.slow
def test_gridgoals_discrete_every_task_is_solved(ray_session):
    # Measured (seed 0): on a 3x3 grid (goals in the 4 corners), every task's success was
    # 1.0 from iteration 400 (33k env steps, ~24 s) on; q accuracy 0.59-0.75 (chance 0.25).
    env_config = {"num_tasks": 4, "size": 3, "episode_len": 10}
    result, evaluation = _train("rllib_embed/GridGoals-v0", env_config, 500, I=10, copies_per_task=2)
    for task, stats in evaluation.items():
        assert stats["success_mean"] >= 0.8, (task, evaluation)
    assert result["learners"]["default_policy"]["q_task_accuracy"] >= 0.5


@pytest.mark.slow
def test_half_cheetah_forward_and_backward_tasks_run_their_own_ways(ray_session):
    # cheetah-dir (MuJoCo; K=2 tasks x D=4 copies, I=50, 200-step episodes) with the robots'
    # setting normalize_observations (without it no budget we tried separated the tasks).
    # r = d * x_velocity - 0.05 |a|^2: a task's return > 0 means the cheetah moves its task's way.
    # Measured (lr 2e-3, one torch thread), mean-skill evaluation forward / backward after 200 / 300
    # / 400 / 500 / 600 iterations (400 env steps each): seed 0: -9/-9, -42/321, 28/190, 130/513,
    # 65/505; seed 1: -12/87, 143/236, 132/267, 92/255, 137/448; seed 2: 89/406, -50/550, 152/418,
    # 210/509, -136/208. The untrained policy scores about -1 / -1 (it barely moves). Forward is
    # the harder task and the literal update's returns swing between evaluations (one gradient
    # step per batch, no trust region): the test takes 500 iterations, where all three seeds
    # ran both ways (earlier builds passed at 300 on some machines; this one, seed 0, did not).
    config = (EmbedPGConfig()
              .environment("rllib_embed/HalfCheetahDir-v0", env_config={"max_episode_steps": 200})
              .env_runners(num_env_runners=0, rollout_fragment_length=50)
              .training(copies_per_task=4, lr=2e-3, normalize_observations=True)
              .debugging(seed=0))
    algo = config.build_algo()
    try:
        before = evaluate_algorithm_per_task(algo, episodes_per_task=3, skill="mean")
        for _ in range(500):  # 200k env steps
            result = algo.train()
        after = evaluate_algorithm_per_task(algo, episodes_per_task=3, skill="mean")
    finally:
        algo.stop()
    for task in (0, 1):  # 0: forward, 1: backward
        gained = after[task]["episode_return_mean"], before[task]["episode_return_mean"]
        assert gained[0] > 0.0 and gained[0] > gained[1], (task, before, after)
    assert result["learners"]["default_policy"]["q_task_accuracy"] >= 0.8  # z tells the tasks apart


@pytest.mark.slow
def test_clipped_update_half_cheetah_runs_both_ways_within_100k_steps(ray_session):
    # update="clipped" with the general recipe's estimator ("score": pi takes the sampled z, the
    # alpha terms reach pi as rewards only), K=2 x D=4, I=100 (800-step batches), 10 epochs over
    # PPO's shuffled 200-row minibatches, lr 3e-4, advantages standardised within each task,
    # target_kl 0.02, alpha3 0.001, the clipped update's default [256, 256] nets. Measured with
    # this test's code (one torch thread; seeds 0 / 1 / 2), mean-skill evaluation forward /
    # backward at 100k env steps: +236 / +617, +251 / +457, +129 / +363
    # (the seed estimator, seed 0: +202 / +544; multi-task PPO at 100k: about 0 / 0).
    config = (EmbedPGConfig()
              .environment("rllib_embed/HalfCheetahDir-v0", env_config={"max_episode_steps": 200})
              .env_runners(num_env_runners=0, rollout_fragment_length=100)
              .training(copies_per_task=4, lr=3e-4, normalize_observations=True, update="clipped",
                        num_epochs=10, minibatch_size=200, target_kl=0.02, alpha3=0.001, estimator="score")
              .debugging(seed=0))
    algo = config.build_algo()
    try:
        for _ in range(125):  # 100k env steps
            result = algo.train()
        after = evaluate_algorithm_per_task(algo, episodes_per_task=3, skill="mean")
    finally:
        algo.stop()
    for task in (0, 1):  # 0: forward, 1: backward
        assert after[task]["episode_return_mean"] > 100.0, after
    assert result["learners"]["default_policy"]["q_task_accuracy"] >= 0.8
