"""On a one-step problem whose gradient is known exactly, `unbiased` and `score` match it and
`seed` deviates as docs/estimator.md describes.

Problem: K=2 tasks, a constant state s, one step per episode (I=1), linear-Gaussian
networks (no hidden layers), reward r_t(a) = -||a - g_t||^2. The exact gradient of
L = E[r + a2 log q(z|a,s) + a3 H[pi(.|s,z)]] + a1 E_t H[p(.|t)] comes from full
re-parameterisation of z and a over many samples (low variance); the estimators'
means come from many independent batches, each through the learner's own code.
"""

import numpy as np
import pytest
import torch
from torch.distributions import Normal

import gymnasium as gym

from ray.rllib.core.columns import Columns

from rllib_embed.embed_pg import columns as C
from rllib_embed.embed_pg.distributions import diag_gaussian_log_prob
from rllib_embed.embed_pg.returns import augmented_reward
from rllib_embed.embed_pg.torch.embed_pg_torch_learner import surrogate_terms
from tests.helpers import make_module, use_estimator

A1, A2, A3 = 0.0, 0.5, 0.1  # A1's term is exact in both estimators; 0 isolates the rest
GOALS = torch.tensor([[0.6], [-0.6]])
S = torch.tensor([[1.0]])


def _module():
    module = make_module(obs_dim=1, num_tasks=2, action_space=gym.spaces.Box(-5, 5, (1,), np.float32),
                         latent_dim=1, history_len=1, hiddens=(), seed=4)
    with torch.no_grad():  # a non-trivial, well-conditioned starting point
        module.embedding_net[0].weight.copy_(torch.tensor([[0.5, -0.3], [-1.0, -0.8]]))
        module.policy_net[0].weight.copy_(torch.tensor([[0.2, 0.7], [-0.3, 0.1]]))
        module.policy_net[0].bias.copy_(torch.tensor([0.1, -0.6]))
        module.inference_net[0].weight.copy_(torch.tensor([[0.8, 0.2], [0.1, -0.2]]))
        module.inference_net[0].bias.copy_(torch.tensor([0.0, -0.4]))
    return module


def _groups(module):
    return {"theta": list(module.policy_net.parameters()), "psi": list(module.inference_net.parameters()),
            "phi": list(module.embedding_net.parameters())}


def _flat_grad(scalar, params):
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(scalar, params, retain_graph=True)])


def _exact_gradient(module, n, g):
    """Full re-parameterisation of z and a: low-variance estimate of grad L."""
    t = torch.arange(n) % 2
    task = torch.nn.functional.one_hot(t, 2).float()
    z = module.skill(task, torch.randn(n, 1, generator=g))
    mean, log_std = module.policy_dist_inputs(S.expand(n, 1), z).chunk(2, -1)
    a = mean + log_std.exp() * torch.randn(n, 1, generator=g)
    q = Normal(*[x for x in (lambda p: (p[0], p[1].exp()))(module.inference_params(a, S.expand(n, 1, 1)))])
    ret = -((a - GOALS[t]) ** 2).sum(-1) + A2 * q.log_prob(z).sum(-1) + A3 * Normal(mean, log_std.exp()).entropy().sum(-1)
    return {k: _flat_grad(ret.mean(), ps) for k, ps in _groups(module).items()}


def _estimator_gradient(module, estimator, n, g):
    """One batch of n one-step episodes, through the learner's connector math and surrogate.

    Besides the whole surrogate's gradient, returns two of its terms' gradients:
    "phi_embedding_score" (R grad_phi log p(z|t)) and "theta_inference" (a2 grad_theta log q(z|a_theta)).
    """
    t = torch.arange(n) % 2
    task = torch.nn.functional.one_hot(t, 2).float()
    noise = torch.randn(n, 1, generator=g)
    obs = S.expand(n, 1)
    with torch.no_grad():
        z = module.skill(task, noise)
        dist_inputs = module.policy_dist_inputs(obs, z)
        mean, log_std = dist_inputs.chunk(2, -1)
        a = mean + log_std.exp() * torch.randn(n, 1, generator=g)
        log_q = diag_gaussian_log_prob(z, *module.inference_params(a, obs[:, None]))
        r_hat = augmented_reward(-((a - GOALS[t]) ** 2).sum(-1), log_q, log_std.sum(-1) + 1.4189385, A2, A3)
    batch = {Columns.OBS: {"obs": obs, "task": task}, Columns.ACTIONS: a, Columns.ACTION_DIST_INPUTS: dist_inputs,
             C.Z_NOISE: noise, C.OBS_WINDOW: obs[:, None], C.STEP_IN_SEGMENT: torch.zeros(n, dtype=torch.long),
             C.TIME_LEFT: torch.ones(n), C.SAMPLED_SKILL: z,
             C.POLICY_WEIGHT: r_hat, C.EMBEDDING_WEIGHT: r_hat}
    use_estimator(module, estimator)
    terms = surrogate_terms(module, batch, module.forward_train(batch), estimator=estimator, gamma=0.99,
                            alpha1=A1, alpha2=A2, alpha3=A3, normalizer=n)
    groups = _groups(module)
    out = {k: _flat_grad(terms["surrogate"], ps) for k, ps in groups.items()}
    if estimator == "seed":
        out["phi_embedding_score"] = _flat_grad(terms["embedding_score_term"], groups["phi"])
        out["theta_inference"] = _flat_grad(terms["inference_term"], groups["theta"])
    return out


def measure(num_batches=200, batch_size=2000, exact_samples=400_000, seed=0):
    """Exact gradient, and each estimator's mean and standard error, per parameter group."""
    module, g = _module(), torch.Generator().manual_seed(seed)
    exact = _exact_gradient(module, exact_samples, g)
    out = {"exact": exact}
    for estimator in ("seed", "unbiased", "score"):
        draws = [_estimator_gradient(module, estimator, batch_size, g) for _ in range(num_batches)]
        out[estimator] = {k: (torch.stack([d[k] for d in draws]).mean(0),
                              torch.stack([d[k] for d in draws]).std(0) / num_batches ** 0.5) for k in draws[0]}
    return out


def _ratio(estimate, exact):
    """Projection of the estimate on the exact gradient: 1 means right in expectation along it."""
    return float(estimate @ exact / (exact @ exact))


@pytest.fixture(scope="module")
def measured():
    return measure()


@pytest.mark.parametrize("estimator", ["unbiased", "score"])
def test_unbiased_and_score_estimators_match_the_exact_gradient(measured, estimator):
    """`score`: z and a the sampled constants, each with its own score term (log p(z|t) with the
    segment's return, log pi with the reward-to-go), log q reaching psi alone: the likelihood-ratio
    gradient of the two-level policy, unbiased like `unbiased` without re-parameterising z."""
    for group, exact in measured["exact"].items():
        mean, se = measured[estimator][group]
        z = (mean - exact).abs() / (se + 1e-3 * exact.abs().max())
        assert z.max() < 4.5, (group, mean, exact, se)
        assert abs(_ratio(mean, exact) - 1) < 0.05, group


def _matches(mean, se, exact):
    return float(((mean - exact).abs() / (se + 1e-3 * exact.abs().max())).max()) < 4.5


def test_seed_estimator_bias_is_what_the_note_predicts(measured):
    """psi exact; the pathwise terms through a_theta and z_phi count a second time what
    the score terms already carry, so removing them leaves the exact gradient."""
    exact, seed = measured["exact"], measured["seed"]
    assert _matches(*seed["psi"], exact["psi"])
    # phi: R grad log p(z|t) alone already carries every effect of z ...
    assert _matches(*seed["phi_embedding_score"], exact["phi"])
    # ... so the seed's phi gradient overshoots: about twice in the note's problem, more here.
    assert _ratio(seed["phi"][0], exact["phi"]) > 1.5
    # theta: R grad log pi already carries a's effect on log q; the pathwise q term is the excess.
    theta_mean, theta_se = seed["theta"]
    excess, excess_se = seed["theta_inference"]
    assert not _matches(theta_mean, theta_se, exact["theta"])
    assert _matches(theta_mean - excess, theta_se + excess_se, exact["theta"])
