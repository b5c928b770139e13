"""EmbedPG learns: per-task success on PointGoals (K=4) and GridGoals (K=4, discrete).

Budgets and thresholds were measured on a 2-core machine (docs/learning.md); seeds fixed.
Evaluation uses each task's embedding mean as its skill and the policy's mean action.
"""

import pytest

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.evaluation import evaluate_per_task


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
