"""The module's starting point and bounds: skills apart, the policy's std within the action range."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rllib_embed.embed_pg.torch import embed_pg_torch_rl_module as M
from tests.helpers import make_module


def _initial_skills(num_tasks, latent_dim, seed):
    # The default embedding net (no hidden layer: its output layer sees the one-hot), as setup() builds it.
    module = make_module(num_tasks=num_tasks, latent_dim=latent_dim, seed=seed, embedding_hiddens=())
    with torch.no_grad():
        return module.embedding_params(torch.eye(num_tasks))


@settings(max_examples=25, deadline=None)
@given(latent_dim=st.integers(1, 12), extra=st.integers(0, 6), seed=st.integers(0, 10_000))
def test_initial_skills_are_equally_spread_and_far_apart_relative_to_their_spread(latent_dim, extra, seed):
    """K <= Z: every pair of skill means starts gain * sqrt(2) apart (orthogonal, norm = gain),
    every task and dim with std exp(EMBEDDING_INIT_LOG_STD). With the older init (one
    orthogonal matrix over means and log-stds) PointGoals K=8 seed 0 started two tasks 0.44
    apart at std ~0.5, and one of them was still unsolved after 60k steps."""
    num_tasks = max(1, latent_dim - extra)
    mean, log_std = _initial_skills(num_tasks, latent_dim, seed)
    gain = M.EMBEDDING_INIT_GAIN
    torch.testing.assert_close(mean.norm(dim=-1), torch.full((num_tasks,), gain), atol=1e-4, rtol=0)
    if num_tasks > 1:
        dist = torch.pdist(mean)
        torch.testing.assert_close(dist, torch.full_like(dist, gain * 2 ** 0.5), atol=1e-4, rtol=0)
        assert dist.min() > 5 * np.exp(M.EMBEDDING_INIT_LOG_STD)
    torch.testing.assert_close(log_std, torch.full_like(log_std, M.EMBEDDING_INIT_LOG_STD))


def test_more_tasks_than_latent_dims_still_start_with_one_shared_std():
    mean, log_std = _initial_skills(num_tasks=10, latent_dim=8, seed=0)
    torch.testing.assert_close(log_std, torch.full_like(log_std, M.EMBEDDING_INIT_LOG_STD))
    assert torch.pdist(mean).min() > 3 * np.exp(M.EMBEDDING_INIT_LOG_STD)


@pytest.mark.parametrize("space, normalize_actions, bound", [
    (gym.spaces.Box(-1.0, 1.0, (2,), np.float32), True, [0.0, 0.0]),
    (gym.spaces.Box(-5.0, 5.0, (2,), np.float32), True, [0.0, 0.0]),        # RLlib acts in [-1, 1]
    (gym.spaces.Box(-5.0, 5.0, (2,), np.float32), False, [np.log(5.0)] * 2),  # the env's own units
    (gym.spaces.Box(np.array([-np.inf, 0.0], np.float32), np.array([np.inf, 0.5], np.float32)), True,
     [M.LOG_STD_MAX, np.log(0.25)]),                                           # not unsquashed: own units
    (gym.spaces.Box(-100.0, 100.0, (1,), np.float32), False, [M.LOG_STD_MAX]),  # never above the global bound
    (gym.spaces.Box(-4, 4, (2,), np.int64), True, [np.log(4.0)] * 2),          # integer Box: RLlib does not unsquash
])
def test_policy_std_is_bounded_by_half_the_action_range(space, normalize_actions, bound):
    torch.testing.assert_close(M.policy_log_std_max(space, normalize_actions),
                               torch.tensor(bound, dtype=torch.float32))


def test_the_policy_never_outputs_a_std_beyond_the_bound():
    module = make_module(action_space=gym.spaces.Box(-1.0, 1.0, (3,), np.float32))
    with torch.no_grad():
        module.policy_net[-1].bias[3:] = 10.0  # a raw log-std far above any bound
        out = module.policy_dist_inputs(torch.zeros(4, 2), torch.zeros(4, module.latent_dim))
    torch.testing.assert_close(out[:, 3:], torch.zeros(4, 3))
    assert "policy_log_std_max" not in module.state_dict()  # not learned, not checkpointed
